"""The review pages in real headless Debian Chromium (Playwright): log in, open a cut, draw a
retake mask with the mouse, send it, watch the new version arrive, approve, upload a paint-over.
Screenshots go to artifacts/screenshots/ (look at them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from haikei.imaging.io import load_rgb, save_png

# _login and _wait_until keep their names here: test_review_loop_browser and
# test_retake_colours_browser import them (and the fixtures) from this module
from tests.web.browser_util import CHROMIUM, serve
from tests.web.browser_util import login as _login
from tests.web.browser_util import wait_until as _wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
W, H = 480, 272
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    from haikei.app import create_production
    from haikei.domain.models import FrameSize
    from haikei.services.artboards import add_artboard
    from haikei.services.intake import import_folder
    from haikei.services.rendering import render_backgrounds
    from haikei.services.users import add_user
    from tests.conftest import write_board, write_layout

    ctx = create_production(tmp_path / "prod", "ブラウザ試験 (browser test)", FrameSize(W, H))
    img, lab = write_board(tmp_path, h=96, w=160)
    add_artboard(
        ctx, img, lab, name="board", tags=["summer"], artist="Aki Tanaka", licence="studio", consent=True
    )
    img, lab = write_board(tmp_path, name="snowy", seed=7, h=96, w=160)
    pale = np.clip(load_rgb(img.read_bytes()) * 0.3 + 180, 0, 255).astype(np.uint8)
    save_png(img, pale)
    add_artboard(
        ctx, img, lab, name="snowy", tags=["winter"], artist="Yuki Sato", licence="studio", consent=True
    )
    lay = tmp_path / "layouts"
    lay.mkdir()
    write_layout(lay, "c001", h=H, w=W)
    write_layout(lay, "c002", h=H, w=W)
    write_layout(lay, "c003", h=H, w=W, regions=False)
    import_folder(ctx, lay)
    from haikei.services.backgrounds import set_direction

    set_direction(ctx, "c001", "夏の午後、快晴、山道")
    render_backgrounds(ctx, ["c001", "c002"], engine="baseline", candidates=2, actor="test")
    add_user(ctx, "director", "director", password="director-pw", display_name="Haruka Aoki")
    add_user(ctx, "artist", "artist", password="artist-pw", display_name="Kenji Mori")
    with serve(ctx, "browser-test") as base:
        yield base, ctx


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        made: list[Any] = []

        def open_browser(profile: str) -> Any:
            """A fresh Chromium with its own user-data-dir (one per person: separate sessions)."""
            ctx = pw.chromium.launch_persistent_context(
                str(tmp_path / f"chromium-{profile}"),
                executable_path=str(CHROMIUM),
                args=ARGS,
                headless=True,
                viewport={"width": 1440, "height": 1000},
            )
            made.append(ctx)
            return ctx

        try:
            yield open_browser
        finally:
            for ctx in made:
                ctx.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_review_in_chromium(site: tuple[str, Any], browser: Any, tmp_path: Path) -> None:
    base, ctx = site
    page = browser("director").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 1. log in (the login page is all one sees without a session), look at the overview
    page.goto(base + "/")
    assert "/login" in page.url
    _shot(page, "01-login")
    _login(page, base, "director", "director-pw")
    page.goto(base + "/")
    assert page.locator(".cutcard").count() == 3
    _shot(page, "02-overview")

    # 2. open a cut: layout and candidates, lines over the painting, zoom 1:1
    page.click('.cutcard[data-cut="c001"]')
    page.wait_for_url("**/cut/c001")
    assert page.locator(".vcard").count() == 2
    page.locator("#overlay").fill("70")
    _shot(page, "03-cut")
    page.click("#zoom-1")
    assert page.locator("#stage .layers").evaluate("e => e.getBoundingClientRect().width") == W
    page.click("#zoom-fit")

    # 3. draw a retake mask with the mouse and send it; the new version arrives by itself
    page.click("#mode-brush")
    box = page.locator("#mask").bounding_box()
    sx, sy = box["width"] / W, box["height"] / H
    page.mouse.move(box["x"] + 60 * sx, box["y"] + 60 * sy)
    page.mouse.down()
    for i in range(1, 16):
        page.mouse.move(box["x"] + (60 + 10 * i) * sx, box["y"] + (60 + 4 * i) * sy)
    page.mouse.up()
    page.fill("#retake-text", "the road should be dry earth here")
    _shot(page, "04-retake-mask")
    page.click("#retake-send")
    page.wait_for_url("**/cut/c001?ok=arrived*", timeout=90_000)
    assert page.locator("#sel-label").inner_text() == "r3"
    assert "arrived as a new version" in page.locator("#ok").inner_text()
    _shot(page, "05-retake-arrived")

    # 4. approve the retaken version
    page.locator('.vcard.selected button.primary:has-text("Approve")').click()
    page.wait_for_url("**ok=approved*")
    assert page.locator("#status").inner_text() == "Approved"

    # 4b. variants of the approved BG: 'winter' is re-rendered from the board tagged winter
    label = page.locator('#variants label.chk:has(input[value="winter"])')
    assert "re-render from the 'snowy' board" in label.inner_text()
    label.locator("input").check()
    page.click('#variants button.primary:has-text("Make variants")')
    page.wait_for_url("**ok=arrived*", timeout=90_000)
    page.goto(base + "/cut/c001")
    assert page.locator('#variants .vcard[data-variant="winter"]').count() == 1
    page.locator("#variants").scroll_into_view_if_needed()
    _shot(page, "05b-variants")
    page.locator('#variants .vcard[data-variant="winter"] button.primary').click()
    page.wait_for_url("**ok=variant_approved*")
    assert page.locator('#variants .vcard[data-variant="winter"] .badge.approved').count() == 1

    # 5. an artist uploads a paint-over of it and sees what changed
    from haikei.services.review import bg_detail

    d = bg_detail(ctx, "c001")
    current = next(v for v in d.versions if v.id == d.bg.current_version_id)
    img = load_rgb(ctx.blobs.get(current.image_blob)).copy()
    img[20:90, 300:460] = (236, 196, 120)
    save_png(tmp_path / "paintover.png", img)
    page2 = browser("artist").new_page()
    page2.on("pageerror", lambda e: errors.append(str(e)))
    _login(page2, base, "artist", "artist-pw")
    page2.set_input_files('#upload-form input[type="file"]', str(tmp_path / "paintover.png"))
    page2.fill('#upload-form textarea[name="text"]', "warmer sky top right")
    page2.click("#upload-form button.primary")
    page2.wait_for_url("**ok=uploaded*")
    assert "Changed by artist" in page2.content()
    share = float(
        np.mean(np.abs(img.astype(int) - load_rgb(ctx.blobs.get(current.image_blob)).astype(int)).max(2) > 6)
    )
    assert f"{share:.1%}" in page2.locator(".layoutpane").inner_text()
    _shot(page2, "06-paintover-diff")

    # 6. the director's page is now stale: approving from it is refused with a message, not lost;
    #    the browser is redirected to the page (a reload shows the page, not a form re-send)
    page.locator('.vcard button.primary:has-text("Approve")').first.click()
    page.wait_for_load_state()
    assert "/approve" not in page.url
    assert page.locator("#error").is_visible()
    assert "changed by someone else" in page.locator("#error").inner_text()
    _shot(page, "07-stale-conflict")
    page.reload()
    assert page.locator("#error").count() == 0

    # 6b. the director assigns the cut to the artist; the overview filters by assignee
    page.select_option("#assign-form select", "artist")
    page.wait_for_url("**ok=assigned*")
    page.goto(base + "/?assignee=artist")
    assert page.locator(".cutcard").count() == 1
    _shot(page, "07b-overview-assignee")

    # 7. paint-bucket labelling of a layout that has no regions
    from playwright.sync_api import expect

    page.goto(base + "/cut/c003/label")
    page.check('input[name="cls"][value="sky"]')
    box = page.locator("#base").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + 4)
    expect(page.locator("#rev")).to_have_text("2")  # (wait_for_function evals: the CSP forbids it)
    assert "unlabelled" in page.locator("#remaining").inner_text()
    _wait_until(lambda: page.locator("#regions").evaluate("e => e.complete && e.naturalWidth > 0"))
    _shot(page, "08-label")
    assert not errors, errors

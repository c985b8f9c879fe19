"""Locations in real headless Debian Chromium (Playwright), on the demo production (small frame,
baseline engine): an artist puts a cut at the demo's place from its cut page and takes it off
again, filters the overview by the place, opens the place's page and reads its BGs side by side
and its board with the painters. Screenshots: docs/review/location-*.png (look at them)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.web.browser_util import CHROMIUM, login, serve, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# screenshots go to docs/review only with HAIKEI_SCREENSHOTS=1, so a test run changes no tracked file
DOCS = (
    Path(__file__).resolve().parents[2] / "docs" / "review"
    if os.environ.get("HAIKEI_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "haikei-review-screenshots"
)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


@pytest.fixture
def demo_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    from argon2 import PasswordHasher

    from haikei.app import open_production
    from haikei.demo.build import build_demo
    from haikei.domain.models import FrameSize

    # real argon2id with cheap parameters (the default costs ~0.7 s a hash on shared cores)
    monkeypatch.setattr(
        "haikei.services.users._hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    rep = build_demo(tmp_path / "demo", frame=FrameSize(640, 360), engine="baseline", candidates=1)
    ctx = open_production(rep.root)
    with serve(ctx, "location-browser-test") as base:
        yield base, ctx


def test_a_place_in_chromium(demo_site: tuple[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from haikei.imaging.io import load_rgb, save_png
    from haikei.services.review import bg_detail

    base, ctx = demo_site
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium"),
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 1440, "height": 900},
        )
        errors: list[str] = []
        try:
            page = browser.new_page()
            bad: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("response", lambda r: bad.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            login(page, base, "artist", "artist-demo", "/cut/c003")
            # the artist puts c003 at the demo's place, sees it said, then takes it off again
            assert page.input_value("#location-form input[name=location]") == ""
            page.fill("#location-form input[name=location]", "山道")
            page.click("#location-save")
            page.wait_for_url("**/cut/c003?ok=located")
            assert page.inner_text("#ok") == "Location saved."
            assert page.inner_text("#location-link") == "at 山道 →"
            page.goto(base + "/")
            assert page.inner_text('#location-chips a[data-location="山道"]').split() == ["山道", "3"]
            page.goto(base + "/cut/c003")
            page.click("#location-clear")
            page.wait_for_url("**/cut/c003?ok=unlocated")
            assert page.inner_text("#ok") == "Location cleared."
            # the overview: a chip per place with its count; choosing it shows the place's cuts
            page.goto(base + "/")
            chips = page.inner_text("#location-chips")
            assert "山道 2" in " ".join(chips.split()) and "no location 5" in " ".join(chips.split())
            page.click('#location-chips a[data-location="山道"]')
            page.wait_for_url("**/?location=*")
            cuts = page.eval_on_selector_all("#cards .cutcard", "els => els.map(e => e.dataset.cut)")
            assert cuts == ["c001", "c008"]
            assert page.inner_text("#count") == "2 BGs"
            DOCS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS / "location-overview.png"), full_page=True)
            # the artist paints over c008 (a warmer sky) and uploads it from the cut page
            page.goto(base + "/cut/c008")
            d = bg_detail(ctx, "c008")
            cur = next(v for v in d.versions if v.id == d.bg.current_version_id)
            img = load_rgb(ctx.blobs.get(cur.image_blob)).astype(np.int16)
            img[:120] = np.clip(img[:120] + np.array([30, 10, -20], np.int16), 0, 255)
            save_png(tmp_path / "c008_po.png", img.astype(np.uint8))
            page.set_input_files('#upload-form input[type="file"]', str(tmp_path / "c008_po.png"))
            page.click("#upload-form button.primary")
            page.wait_for_url("**/cut/c008?ok=uploaded*")
            po = int(page.url.split("v=")[1])
            # the director approves it, confirming that the artist agrees to it becoming the board
            page.click("header form.inline button.link")  # log out
            login(page, base, "director", "director-demo", "/cut/c008")
            form = f'.vcard[data-version="{po}"] form[action="/cut/c008/approve"]'
            said = " ".join(page.inner_text(f"{form} .painters-agree").split())
            assert said == "Kenji Mori agrees that it becomes 山道's board"
            assert page.locator(f'.vcard:not([data-version="{po}"]) .painters-agree').count() == 0
            page.check(f"{form} input[name=confirm_painters]")
            page.click(f"{form} button.approve")
            page.wait_for_url("**/cut/c008?ok=approved*")
            page.goto(base + "/?location=山道")
            # the place's page: its BGs side by side with their states, its boards and who painted them
            page.click("#location-page")
            page.wait_for_url("**/location/*")
            wait_until(
                lambda: page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            )
            bgs = page.eval_on_selector_all("#location-bgs .place-bg", "els => els.map(e => e.dataset.bg)")
            assert bgs == ["c001", "c008"]
            c001 = " ".join(page.inner_text('.place-bg[data-bg="c001"]').split())
            c008 = " ".join(page.inner_text('.place-bg[data-bg="c008"]').split())
            assert "approved r1" in c001 and "board 山道/c001-r1" in c001
            assert "approved r2" in c008
            assert "board 山道/c008-r2 painters' agreement confirmed by Haruka Aoki" in c008
            board = " ".join(page.inner_text('tr[data-board="山道/c001-r1"]').split())
            assert "current" in board and "Louis Durrant" in board and "Alesya Khoteeva" in board
            assert "consent: every board of its chain allows derived use" in board
            board = " ".join(page.inner_text('tr[data-board="山道/c008-r2"]').split())
            assert "Kenji Mori painted over this BG" in board, board
            # c008 was painted from c001's board: its chain (and so its painters) go through it
            assert "Louis Durrant" in board and "Alesya Khoteeva" in board
            page.screenshot(path=str(DOCS / "location-page.png"), full_page=True)
            # from the place's page to a cut and back: the cut page names its place
            page.click('.place-bg[data-bg="c008"] strong a')
            page.wait_for_url("**/cut/c008")
            assert page.inner_text("#location-link") == "at 山道 →"
            assert page.input_value("#location-form input[name=location]") == "山道"
            page.screenshot(
                path=str(DOCS / "location-cut.png"), clip={"x": 0, "y": 0, "width": 1440, "height": 420}
            )
            bad = [b for b in bad if not b.endswith("/favicon.ico")]  # the browser asks; the site has none
            assert not bad, bad
            # the CSP let every script and style through (nothing inline); the only failed load is
            # the favicon the browser asks for on its own
            assert not [e for e in errors if "Failed to load resource" not in e], errors
        finally:
            browser.close()

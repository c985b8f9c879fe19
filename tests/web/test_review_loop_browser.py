"""The review loop in real headless Debian Chromium (Playwright), asserting on what a person
sees: a director compares two candidates by wipe, draws on one, turns the drawing into a retake,
sees before/after, approves with the keyboard, delivers from the page and sees Delivered.
Screenshots of each new view are taken on every run (the screenshot call itself is part of the
check); they are written to docs/review/ only when HAIKEI_SCREENSHOTS=1 is set, so a test run never
changes tracked files: `HAIKEI_SCREENSHOTS=1 make test` (or pytest on this file) refreshes them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.web.test_browser import W, _login, _wait_until, browser, site  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS = (
    Path(__file__).resolve().parents[2] / "docs" / "review"
    if os.environ.get("HAIKEI_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "haikei-review-screenshots"
)


def _doc(target: Any, name: str, **kw: Any) -> None:
    """A screenshot for docs/review, kept modest: 256-colour PNG."""
    from PIL import Image

    DOCS.mkdir(parents=True, exist_ok=True)
    path = DOCS / f"{name}.png"
    target.screenshot(path=str(path), **kw)
    with Image.open(path) as im:
        small = im.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    small.save(path, optimize=True)


def _pixel(page: Any, canvas: str, fx: float, fy: float) -> list[int]:
    return page.locator(canvas).evaluate(
        "(c, p) => Array.from(c.getContext('2d').getImageData(Math.floor(c.width * p[0]), Math.floor(c.height * p[1]), 1, 1).data)",
        [fx, fy],
    )


def _ready(page: Any, what: str) -> None:
    _wait_until(lambda: page.locator("#compare").get_attribute("data-ready") == what)


def test_compare_draw_retake_approve_deliver(site: tuple[str, Any], browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    from haikei.provenance.keys import init_keys

    base, ctx = site
    init_keys(ctx.root / "keys", org="browser test studio")
    page = browser("director").new_page()
    page.set_viewport_size({"width": 1360, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, base, "director", "director-pw")

    # 1. the overview: rendered cuts wait for review, counted on the chips
    page.goto(base + "/")
    wfa = page.locator('.chips a[data-status="wfa"]')
    expect(wfa).to_contain_text("Waiting for approval")
    expect(wfa.locator(".n")).to_have_text("2")
    expect(page.locator('.chips a[data-status="todo"] .n')).to_have_text("1")
    _doc(page, "01-overview-chips")
    wfa.click()
    expect(page.locator(".cutcard")).to_have_count(2)
    page.click('.cutcard[data-cut="c001"]')
    page.wait_for_url("**/cut/c001")

    # 2. compare the two candidates by wipe: left of the split shows A, right of it B
    versions = page.locator("#compare").get_attribute("data-versions")
    assert versions and "candidate 1" in versions and "candidate 2" in versions
    a_id, b_id = (
        page.locator("#cmp-a option").nth(0).get_attribute("value"),
        page.locator("#cmp-a option").nth(1).get_attribute("value"),
    )
    page.select_option("#cmp-a", a_id)
    page.select_option("#cmp-b", b_id)
    _ready(page, f"{a_id}:{b_id}:wipe")
    page.locator("#compare").scroll_into_view_if_needed()
    box = page.locator("#cmp-left").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.5, steps=5)
    page.mouse.up()
    assert abs(float(page.locator("#compare").get_attribute("data-split")) - 0.7) < 0.02
    wipe_left, wipe_right = _pixel(page, "#cmp-left", 0.3, 0.6), _pixel(page, "#cmp-left", 0.9, 0.6)
    _doc(page.locator("#compare"), "02-compare-wipe")
    page.keyboard.press("1")  # A alone
    assert page.locator("#compare").get_attribute("data-solo") == "a"
    solo_a = _pixel(page, "#cmp-left", 0.3, 0.6)
    page.keyboard.press("2")  # B alone
    solo_b = _pixel(page, "#cmp-left", 0.9, 0.6)
    assert wipe_left == solo_a and wipe_right == solo_b
    # the difference heat map says how much differs; side by side zooms both sides together
    page.click('#compare [data-mode="diff"]')
    expect(page.locator("#cmp-info")).to_contain_text("% of pixels differ")
    _doc(page.locator("#compare"), "03-compare-difference")
    page.click('#compare [data-mode="side"]')
    expect(page.locator("#cmp-right")).to_be_visible()
    before_right = _pixel(page, "#cmp-right", 0.8, 0.8)
    lbox = page.locator("#cmp-left").bounding_box()
    page.mouse.move(lbox["x"] + lbox["width"] * 0.25, lbox["y"] + lbox["height"] * 0.25)
    scroll_y = page.evaluate("() => window.scrollY")
    for _ in range(4):
        page.mouse.wheel(0, -300)
    assert page.evaluate("() => window.scrollY") == scroll_y  # the wheel zooms, the page stays
    _wait_until(lambda: _pixel(page, "#cmp-right", 0.8, 0.8) != before_right)  # linked
    page.click("#cmp-fit")
    _doc(page.locator("#compare"), "04-compare-side-by-side")
    page.click('#compare [data-mode="onion"]')
    page.locator("#cmp-mix").fill("40")
    expect(page.locator("#lines-ctl")).to_be_visible()
    page.click("#cmp-fit")
    _doc(page.locator("#compare"), "05-compare-onion-lines")
    # 1:1 in the main viewer scrolls inside the viewer, never the page
    page.click("#zoom-1")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.click("#zoom-fit")

    # 3. draw on the candidate (a rectangle) and post it as a comment
    page.locator("#stage").scroll_into_view_if_needed()
    page.click("#mode-draw")
    page.click('#drawtools [data-tool="rect"]')
    page.click('#drawtools [data-colour="#fdd835"]')
    d = page.locator("#drawing").bounding_box()
    sx, sy = d["width"] / W, d["height"] / 272
    page.mouse.move(d["x"] + 40 * sx, d["y"] + 150 * sy)
    page.mouse.down()
    page.mouse.move(d["x"] + 200 * sx, d["y"] + 240 * sy, steps=6)
    page.mouse.up()
    expect(page.locator("#draw-count")).to_have_text("1 shape drawn")
    page.fill("#comment-text", "the road here should be dry earth, less grey")
    _doc(page.locator("section.compare"), "06-drawing-on-the-picture")
    page.click("#comment-send")
    page.wait_for_url("**ok=commented*")
    item = page.locator("#comments li.comment").first
    expect(item).to_contain_text("dry earth")
    expect(item.locator(".badge.drawn")).to_have_text("drawing · 1")
    assert (
        page.locator("#drawing").evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"
        )
        > 100
    )  # the selected comment's drawing is shown over its version
    _doc(page.locator("#comments"), "07-conversation")

    # 4. one click turns the drawing into the retake mask (editable), then send it
    item.locator("button.to-mask").click()
    _wait_until(lambda: "retake mask" in page.locator("#retake-msg").inner_text())
    masked = page.locator("#mask").evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"
    )
    assert 160 * 90 * 0.8 < masked < 480 * 272 * 0.5, masked  # the filled rectangle, not the frame
    assert "dry earth" in page.locator("#retake-text").input_value()
    # before sending, the page says what the engine will use of the note and what it ignores
    expect(page.locator("#retake-reading")).to_contain_text("Read by baseline")
    expect(page.locator("#retake-reading .ignored")).to_contain_text("does not read words")
    _doc(page.locator("#retake-card"), "08b-retake-note-as-understood")
    _doc(page.locator("section.compare"), "08-drawing-as-retake-mask")
    page.click("#retake-send")
    page.wait_for_url("**ok=arrived*", timeout=90_000)

    # 5. before / after of the new version, opened by itself
    expect(page.locator("#cmp-title")).to_contain_text("Before / after")
    expect(page.locator("#cmp-title")).to_contain_text("retake")
    expect(page.locator("#status")).to_have_text("Waiting for approval")
    page.click('#compare [data-mode="diff"]')
    expect(page.locator("#cmp-info")).to_contain_text("% of pixels differ")
    share = float(page.locator("#compare").get_attribute("data-diff-share"))
    # the heat map's figure is the server's own reading of the two images (max channel > 6)
    from haikei.imaging.io import load_rgb
    from haikei.services.review import bg_detail

    det = bg_detail(ctx, "c001")
    new = next(v for v in det.versions if v.id == det.bg.current_version_id)
    old = next(v for v in det.versions if v.id == new.parent_id)
    a, b = (load_rgb(ctx.blobs.get(v.image_blob)).astype(int) for v in (old, new))
    assert abs(share - float((abs(a - b).max(axis=2) > 6).mean())) < 1e-3, share
    page.click('#compare [data-mode="wipe"]')
    _doc(page.locator("#compare"), "09-before-after")
    _doc(page.locator("#recipe"), "10-recipe-card")

    # 6. approve with the keyboard
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("a")
    page.wait_for_url("**ok=approved*")
    expect(page.locator("#status")).to_have_text("Approved")

    # 7. deliver from the page: an export job, its files with verify links
    page.goto(base + "/")
    page.click("#filters ~ * a[href='/delivery'], .chips a[href='/delivery']")
    page.wait_for_url("**/delivery")
    page.check('#export-form input[value="c001"]')
    page.click("#export-send")
    page.wait_for_url("**/delivery?job=*")
    _wait_until(lambda: page.locator("#export-state").inner_text() == "done", timeout=90)
    page.wait_for_load_state()
    expect(page.locator('#delivered tr[data-bg="c001"]')).to_have_count(1)
    _doc(page, "11-delivery")
    page.locator('#delivered tr[data-bg="c001"] a.verify').click()
    expect(page.locator("#verdict")).to_contain_text("credentials valid")
    _doc(page, "12-verify")
    page.goto(base + "/credits")
    expect(page.locator("#credits")).to_contain_text("Aki Tanaka")
    _doc(page, "13-credits")

    # 8. the overview shows it Delivered
    page.goto(base + "/")
    card = page.locator('.cutcard[data-cut="c001"]')
    expect(card.locator(".status")).to_have_text("Delivered")
    expect(card.locator(".delivery")).to_contain_text("delivered r3")
    expect(page.locator('.chips a[data-status="done"] .n')).to_have_text("1")
    _doc(page, "14-overview-delivered")
    assert not errors, errors


def test_keyboard_playlist_help_tab_and_narrow_window(site: tuple[str, Any], browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, _ctx = site
    page = browser("director").new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, base, "director", "director-pw")
    # the overview's filtered list is the playlist j/k walk
    page.goto(base + "/?status=wfa")
    page.click('.cutcard[data-cut="c001"]')
    page.wait_for_url("**/cut/c001")
    expect(page.locator("#pos")).to_have_text("1 of 2")
    _wait_until(lambda: page.locator("#compare").get_attribute("data-ready") is not None)
    _doc(page, "00-cut-page", full_page=True)
    page.keyboard.press("j")
    page.wait_for_url("**/cut/c002")
    page.keyboard.press("k")
    page.wait_for_url("**/cut/c001")
    # arrows step B through the versions (Shift: A), in the order they were made
    before = page.locator("#cmp-b").input_value()
    options = page.locator("#cmp-b option").evaluate_all("os => os.map(o => o.value)")
    page.keyboard.press("ArrowRight")
    after = page.locator("#cmp-b").input_value()
    assert options.index(after) == min(options.index(before) + 1, len(options) - 2)  # never the layout
    page.keyboard.press("ArrowLeft")
    assert page.locator("#cmp-b").input_value() == before
    a_before = page.locator("#cmp-a").input_value()  # the other candidate, r2
    assert options.index(a_before) == 1
    page.keyboard.press("Shift+ArrowLeft")
    assert page.locator("#cmp-a").input_value() == options[0]
    # ? shows the keys; Esc closes
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    _doc(page.locator("#help"), "15-keys-help")
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    # f toggles fit / 1:1; r starts a retake (brush on, note focused)
    page.keyboard.press("f")
    expect(page.locator("#zoom-1")).to_have_class("on")
    page.keyboard.press("f")
    page.keyboard.press("r")
    expect(page.locator("#mode-brush")).to_have_class("on")
    assert page.evaluate("() => document.activeElement.id") == "retake-text"
    # buttons are reached by Tab
    page.focus("#mode-pan")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "mode-draw"
    # Japanese is marked lang="ja"
    assert page.locator(".direction").get_attribute("lang") == "ja"
    assert page.locator("header .prod").get_attribute("lang") == "ja"  # ブラウザ試験 (browser test)
    # a narrow window (800 px): the picture comes first, above the recipe card
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto(base + "/cut/c001")
    assert page.locator("#stage").bounding_box()["y"] < page.locator("#recipe").bounding_box()["y"]
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    _doc(page, "16-narrow-800px")
    assert not errors, errors

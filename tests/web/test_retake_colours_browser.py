"""In Debian's Chromium: on an exemplar version, the retake card says, before sending, that the
note's colour words are understood (the exemplar moves the masked area within its boards' paint)
and which words it still ignores."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from tests.web.test_browser import _login, browser, site  # noqa: F401  (fixtures)

SHOTS = Path(os.environ.get("HAIKEI_SCREENSHOTS", Path(tempfile.gettempdir()) / "haikei-review-screenshots"))


def test_the_retake_card_lists_colour_words_as_understood(site: tuple[str, Any], browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    from haikei.services.rendering import render_backgrounds

    base, ctx = site
    (v,) = render_backgrounds(ctx, ["c002"], engine="exemplar", candidates=1, seed=2, actor="test")
    page = browser("artist").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, base, "artist", "artist-pw")
    page.goto(base + f"/cut/c002?v={v.id}")
    assert page.locator("[data-version]").first.get_attribute("data-version") == str(v.id)
    page.fill("#retake-text", "少し暗く、less grey, sparkly")
    reading = page.locator("#retake-reading")
    expect(reading).to_contain_text("Read by exemplar")
    expect(reading).to_contain_text("colour: 暗く")
    expect(reading).to_contain_text("colour: less grey")
    expect(reading.locator(".used")).to_contain_text("a little toward the darker part of the boards' paint")
    expect(reading.locator(".used")).to_contain_text("more saturated part of the boards' paint")
    expect(reading.locator(".ignored")).to_contain_text("sparkly")
    assert "less grey" not in reading.locator(".ignored").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#retake-card").screenshot(path=str(SHOTS / "retake-colour-words.png"))
    assert not errors, errors

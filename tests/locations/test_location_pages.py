"""Locations in the review pages and the JSON API: the overview's location filter with counts,
setting / clearing a BG's location from its cut page (artist or director, CSRF), the location
page (BGs side by side, boards current and retired with their painters and consent, why a BG has
no board), the "painters agree" confirmation on the director's approval form, and the variant
offer "winter from c001's approved winter". Real pages through the app (TestClient); the
Chromium test with screenshots is tests/locations/test_location_browser.py."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from haikei.imaging.io import load_rgb, png_bytes
from haikei.store.tables import ArtBoardRow, BackgroundRow

PASSWORDS = {"haruka": "haruka-pass-1", "yuki": "yuki-pass-1", "mio": "mio-pass-1"}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR_RE = re.compile(r'<div class="msg error" role="alert" id="error">(.*?)</div>', re.S)


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id with cheap parameters (the default costs ~0.7 s a hash on shared cores)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        "haikei.services.users._hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def web(place) -> Any:
    from haikei.services.users import add_user
    from haikei.web import create_app

    add_user(place, "mio", "viewer", password=PASSWORDS["mio"], display_name="Mio Kato")
    return create_app(place, secret_key="test-secret-key")


def _login(c: TestClient, name: str) -> str:
    tok = CSRF_RE.search(c.get("/login").text)
    assert tok
    r = c.post(
        "/login",
        data={"username": name, "password": PASSWORDS[name], "csrf_token": tok.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    m = CSRF_RE.search(c.get("/").text)
    assert m
    return m.group(1)


def _text(page: str) -> str:
    """What a person reads: tags dropped, entities decoded, whitespace folded."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _location_of(ctx, bg: str) -> int | None:
    with ctx.db.session() as s:
        return s.query(BackgroundRow).filter_by(name=bg).one().location_id


def test_overview_filters_by_location_with_counts(place, web) -> None:
    with TestClient(web) as c:
        _login(c, "mio")
        page = c.get("/").text
        said = _text(page)
        # chips: house 2 (c001, c002 from the cut sheet's 場所), no location 1 (c003)
        assert 'id="location-chips"' in page
        assert "house 2" in said and "no location 1" in said
        only = c.get("/?location=house").text
        assert re.findall(r'data-cut="(c\d+)"', only) == ["c001", "c002"]
        assert "house: the place's page" in _text(only) and 'href="/location/house"' in only
        assert re.findall(r'data-cut="(c\d+)"', c.get("/?location=-").text) == ["c003"]
        # the status chips count within the place; the filter survives choosing a status
        assert 'href="/?status=todo&amp;location=house"' in only or "location=house" in only
        # the JSON API gives the same
        api = c.get("/api/cuts", params={"location": "house"}).json()
        assert [x["bg"] for x in api] == ["c001", "c002"] and {x["location"] for x in api} == {"house"}
        assert [x["bg"] for x in c.get("/api/cuts", params={"location": "-"}).json()] == ["c003"]
        assert c.get("/api/locations").json()[0]["bgs"] == ["c001", "c002"]


def test_set_and_clear_a_location_from_the_cut_page(place, web) -> None:
    with TestClient(web) as c:
        tok = _login(c, "yuki")  # an artist
        page = c.get("/cut/c003").text
        assert 'id="location-form"' in page and 'value=""' in page
        r = c.post(
            "/cut/c003/location", data={"csrf_token": tok, "location": "house"}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == "/cut/c003?ok=located"
        shown = c.get(r.headers["location"]).text
        assert "Location saved." in shown and "at house →" in _text(shown)
        assert _location_of(place, "c003") is not None
        assert "location house" in _text(shown)  # the BG's history says who put it there
        # a new place is made by naming it; the overview counts it
        c.post("/cut/c003/location", data={"csrf_token": tok, "location": "駅前"})
        assert "駅前 1" in _text(c.get("/").text)
        # clear
        r = c.post("/cut/c003/location", data={"csrf_token": tok, "clear": "1"}, follow_redirects=False)
        assert r.headers["location"] == "/cut/c003?ok=unlocated" and _location_of(place, "c003") is None
        # no CSRF token: refused, nothing stored
        r = c.post("/cut/c003/location", data={"location": "house"}, follow_redirects=False)
        assert r.status_code == 303 and _location_of(place, "c003") is None
        assert "CSRF" in (ERROR_RE.search(c.get(r.headers["location"]).text) or [""])[0]
        # a bad name: one line naming the fix, nothing stored
        r = c.post("/cut/c003/location", data={"csrf_token": tok, "location": "a/b"}, follow_redirects=False)
        msg = ERROR_RE.search(c.get(r.headers["location"]).text)
        assert (
            msg and "without / \\" in html_lib.unescape(msg.group(1)) and _location_of(place, "c003") is None
        )
        # JSON API parity (session + X-CSRF-Token)
        r = c.post("/api/bgs/c003/location", json={"location": "house"}, headers={"X-CSRF-Token": tok})
        assert r.status_code == 200 and r.json() == {"bg": "c003", "location": "house"}
        assert c.get("/api/bgs/c003").json()["location"] == "house"
        r = c.post("/api/bgs/c003/location", json={"location": None}, headers={"X-CSRF-Token": tok})
        assert r.json()["location"] is None and _location_of(place, "c003") is None
    with TestClient(web) as c:
        tok = _login(c, "mio")  # a viewer sees the place but cannot move a BG
        page = c.get("/cut/c001").text
        assert 'id="location-form"' not in page and "at house →" in _text(page)
        r = c.post("/api/bgs/c003/location", json={"location": "house"}, headers={"X-CSRF-Token": tok})
        assert r.status_code == 403 and _location_of(place, "c003") is None
        r = c.post(
            "/cut/c003/location", data={"csrf_token": tok, "location": "house"}, follow_redirects=False
        )
        assert _location_of(place, "c003") is None


def test_location_page_boards_painters_consent_and_why_not(place, web) -> None:
    from haikei.services.rendering import render_backgrounds

    (v1,) = render_backgrounds(place, ["c001"], engine="exemplar", candidates=1, actor="aki")
    with TestClient(web) as c:
        tok = _login(c, "haruka")
        lock = c.get("/api/bgs/c001").json()["lock_version"]
        page = c.get("/cut/c001").text
        assert "painters-agree" not in page  # nobody painted over r1: nothing to confirm
        c.post("/cut/c001/approve", data={"csrf_token": tok, "lock_version": lock, "version_id": v1.id})
        # an artist paints over it
    with TestClient(web) as c:
        tok_a = _login(c, "yuki")
        img = load_rgb(place.blobs.get(v1.image_blob)).copy()
        img[2:10, 30:50] = (250, 190, 120)
        lock = c.get("/api/bgs/c001").json()["lock_version"]
        r = c.post(
            "/cut/c001/upload",
            data={"csrf_token": tok_a, "lock_version": lock, "version_id": v1.id},
            files={"file": ("po.png", png_bytes(img), "image/png")},
            follow_redirects=False,
        )
        assert "ok=uploaded" in r.headers["location"], r.headers
    with TestClient(web) as c:
        tok = _login(c, "haruka")
        st = c.get("/api/bgs/c001").json()
        po = max(v["id"] for v in st["versions"])
        assert st["painters_to_confirm"] == {str(po): ["Yuki Ito"]}
        page = c.get("/cut/c001").text
        assert "Yuki Ito agrees that it becomes house's board" in _text(page)
        # approved without the confirmation: approved, no board, the location page says why
        c.post(
            "/cut/c001/approve",
            data={"csrf_token": tok, "lock_version": st["lock_version"], "version_id": po},
        )
        lp = c.get("/location/house")
        assert lp.status_code == 200
        said = _text(lp.text)
        assert "no board:" in said and "painted over by Yuki Ito" in said
        assert "retired" in said and "house/c001-r1" in said  # r1's board retired by the new approval
        # a second paint-over, approved with the confirmation: the board names everyone in its chain
        img[20:30, 5:15] = (90, 160, 90)
        lock = c.get("/api/bgs/c001").json()["lock_version"]
        r = c.post(
            "/cut/c001/upload",
            data={"csrf_token": tok, "lock_version": lock, "version_id": po},
            files={"file": ("po2.png", png_bytes(img), "image/png")},
            follow_redirects=False,
        )
        po2 = int(r.headers["location"].split("v=")[1])
        lock = c.get("/api/bgs/c001").json()["lock_version"]
        assert "Yuki Ito, Haruka Aoki agree that it becomes house's board" in _text(c.get("/cut/c001").text)
        r = c.post(
            "/cut/c001/approve",
            data={"csrf_token": tok, "lock_version": lock, "version_id": po2, "confirm_painters": "true"},
            follow_redirects=False,
        )
        assert "ok=approved" in r.headers["location"]
        lp = c.get("/location/house").text
        said = _text(lp)
        assert "board house/c001-r3 painters' agreement confirmed by Haruka Aoki" in said
        current = re.search(r'<tr class="current" data-board="house/c001-r3">(.*?)</tr>', lp, re.S)
        assert current, lp
        row = _text(current.group(1))
        assert "Yuki Ito painted over" in row and "Aki Tanaka art board tiny" in row
        assert "consent: every board of its chain allows derived use" in row
        assert 'data-board="house/c001-r1"' in lp and '<tr class="retired" data-board="house/c001-r1">' in lp
        # c002 is at the place too, not painted yet
        assert re.search(r'data-bg="c002".*?no board: not approved yet', lp, re.S)
        # JSON parity
        j = c.get("/api/locations/house").json()
        assert [b["name"] for b in j["bgs"]] == ["c001", "c002"]
        assert j["bgs"][0]["board"] == "house/c001-r3" and j["bgs"][0]["image_url"] == f"/img/v/{po2}"
        assert j["bgs"][1]["why_no_board"] == "not approved yet"
        newest = j["boards"][0]
        assert (newest["name"], newest["retired_at"]) == ("house/c001-r3", None)
        # a place that does not exist: a 404 page and a 404 answer
        assert c.get("/location/nowhere").status_code == 404
        assert c.get("/api/locations/nowhere").status_code == 404


def test_variant_offer_winter_from_another_cuts_approved_winter(place, web) -> None:
    from haikei.services.locations import set_location
    from haikei.services.rendering import render_backgrounds, render_spec
    from haikei.services.review import approve, approve_variant, bg_detail
    from haikei.services.review_variants import variant_specs
    from haikei.services.users import get_user

    with place.db.session() as s:
        b = s.query(ArtBoardRow).filter_by(name="tiny").one()
        img = load_rgb(place.blobs.get(b.image_blob)).astype(np.float64)
        b.variants = {
            "winter": place.blobs.put(png_bytes(np.clip(img * 0.35 + 170, 0, 255).astype(np.uint8)))
        }
    set_location(place, "c003", "house")
    haruka = get_user(place, "haruka")
    (v1,) = render_backgrounds(place, ["c001"], engine="exemplar", candidates=1, actor="aki")
    approve(place, haruka, "c001", v1.id, bg_detail(place, "c001").bg.lock_version)
    (v3,) = render_backgrounds(place, ["c003"], engine="exemplar", candidates=1, actor="aki")
    approve(place, haruka, "c003", v3.id, bg_detail(place, "c003").bg.lock_version)
    with TestClient(web) as c:
        _login(c, "haruka")
        assert "approved winter" not in _text(c.get("/cut/c003").text)  # no approved winter yet
        (spec,), _, _ = variant_specs(place, "c001", ["winter"], "haruka")
        w1 = render_spec(place, spec)
        approve_variant(place, haruka, "c001", w1.id, bg_detail(place, "c001").bg.lock_version)
        page = c.get("/cut/c003").text
        offer = re.search(
            r'<label class="chk"[^>]*><input type="checkbox" name="tags" value="winter">(.*?)</label>',
            page,
            re.S,
        )
        assert offer, page
        assert "winter from c001's approved winter" in _text(offer.group(1))
        opt = c.get("/api/bgs/c003").json()["variant_options"]["winter"]
        assert opt["method"] == "revote" and opt["from_location"] == "winter from c001's approved winter"
        # c001's own offers do not claim to come from another cut
        assert "from c001's approved" not in _text(c.get("/cut/c001").text)

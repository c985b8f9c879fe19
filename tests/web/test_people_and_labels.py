"""Login throttling, assignees, and the labelling page's cached closed areas."""

from __future__ import annotations

import numpy as np
import pytest

from haikei.web.app import http_status
from haikei.web.throttle import LoginThrottle, TooManyAttempts
from tests.conftest import snapshot
from tests.web.conftest import PASSWORDS, bg_state, csrf_of, refused


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _try(c, name: str, password: str):
    token = csrf_of(c.get("/login").text)
    return c.post("/login", data={"username": name, "password": password, "csrf_token": token})


def test_five_failed_logins_lock_the_name_for_a_while(app, clients, monkeypatch) -> None:
    clock = Clock()
    app.state.login_throttle = LoginThrottle(clock=clock)
    c, _ = clients()
    calls = []
    import haikei.web.auth as auth

    real = auth.authenticate
    monkeypatch.setattr(auth, "authenticate", lambda *a: calls.append(a) or real(*a))
    for i in range(5):
        assert "wrong user name or password" in refused(c, _try(c, "dir", f"wrong-{i}-pw"), "/login")
        clock.t += 30
    # the sixth try is refused before the password is even checked, the right one too
    msg = refused(c, _try(c, "DIR", PASSWORDS["dir"]), "/login")
    assert "too many failed logins" in msg and "wait 3 minutes" in msg
    assert len(calls) == 5 and c.get("/api/me").status_code == 401
    # the oldest failure leaves the 5-minute window: one more try is allowed, and it works
    clock.t += 300 - 150 + 1
    r = _try(c, "dir", PASSWORDS["dir"])
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert c.get("/api/me").json()["name"] == "dir"


def test_one_client_guessing_many_names_is_locked_too(app, clients) -> None:
    clock = Clock()
    app.state.login_throttle = LoginThrottle(clock=clock)
    c, _ = clients()
    for name in ("a1", "a2", "a3", "a4", "a5"):
        refused(c, _try(c, name, "whatever-pw"), "/login")
    assert "too many failed logins" in refused(c, _try(c, "art", PASSWORDS["art"]), "/login")
    assert http_status(TooManyAttempts("x")) == 429


def test_throttle_forgets_success_and_stays_bounded() -> None:
    clock = Clock()
    t = LoginThrottle(limit=2, window_s=60, max_keys=3, clock=clock)
    keys = t.keys("Aoi", "10.0.0.1")
    assert keys == ["user:aoi", "client:10.0.0.1"]
    t.failed(keys)
    t.succeeded(keys)
    t.failed(keys)
    t.check(keys)  # one failure since the success: allowed
    for i in range(10):
        t.failed([f"user:u{i}"])
    assert len(t._failures) <= 3


def test_director_assigns_and_the_overview_filters_by_assignee(clients, reviewed) -> None:
    d, tok = clients("dir")
    st = bg_state(d)
    r = d.post(
        "/cut/c001/assign", data={"csrf_token": tok, "lock_version": st["lock_version"], "assignee": "art"}
    )
    assert r.status_code == 303 and "ok=assigned" in r.headers["location"]
    st = bg_state(d)
    assert st["assignee_name"] == "art" and st["assignee"] == "Art"
    note = st["notes"][0]
    assert note["author"] == "dir" and note["text"] == "assigned to Art" and note["created_at"]
    html = d.get("/?assignee=art").text
    assert html.count('class="cutcard"') == 1 and 'data-cut="c001"' in html
    assert d.get("/?assignee=-").text.count('class="cutcard"') == 2  # c002 and the shared c003-c004
    cards = d.get("/api/cuts", params={"sort": "assignee"}).json()
    assert cards[0]["cut"] == "c001" and cards[0]["assignee_name"] == "art"
    assert [c["cut"] for c in d.get("/api/cuts", params={"assignee": "art"}).json()] == ["c001"]
    # an artist may not assign; a stale page is refused; a viewer is no assignee
    art, art_tok = clients("art")
    before = snapshot(reviewed)
    r = art.post(
        "/cut/c001/assign", data={"csrf_token": art_tok, "lock_version": st["lock_version"], "assignee": ""}
    )
    assert "may not assign" in refused(art, r, "/cut/c001")
    r = d.post("/cut/c001/assign", data={"csrf_token": tok, "lock_version": 0, "assignee": ""})
    assert "changed by someone else" in refused(d, r, "/cut/c001")
    r = d.post(
        "/api/bgs/c001/assign",
        json={"assignee": "view", "lock_version": st["lock_version"]},
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 400 and "not an active artist or director" in r.json()["error"]
    assert snapshot(reviewed) == before
    r = d.post(
        "/api/bgs/c001/assign",
        json={"assignee": None, "lock_version": st["lock_version"]},
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 200 and r.json()["text"] == "unassigned"
    assert bg_state(d)["assignee_name"] == ""
    assert (
        'id="assign-form"' in d.get("/cut/c001").text and 'id="assign-form"' not in art.get("/cut/c001").text
    )


def test_labelling_caches_the_closed_areas_by_lines_blob(reviewed, clients, tmp_path, monkeypatch) -> None:
    import haikei.imaging.regions as regions
    from haikei.services.intake import import_folder
    from haikei.services.review_labels import closed_areas
    from tests.conftest import write_layout

    folder = tmp_path / "unlabelled"
    folder.mkdir()
    write_layout(folder, "c010", regions=False)
    write_layout(folder, "c011", regions=False)  # the same drawing: the same lines blob
    import_folder(reviewed, folder)
    art, tok = clients("art")
    h = {"X-CSRF-Token": tok}
    assert art.get("/cut/c010/label").status_code == 200  # warms the cache after the response
    cached = list((reviewed.root / "cache" / "regions").glob("areas-*.npy"))
    assert len(cached) == 1
    calls = []
    real = regions.derive_regions
    monkeypatch.setattr(regions, "derive_regions", lambda *a, **k: calls.append(1) or real(*a, **k))
    r = art.post("/api/bgs/c010/labels", json={"points": ["sky@2,2"], "layout_revision": 1}, headers=h)
    assert r.status_code == 200, r.text
    r = art.post("/api/bgs/c010/labels", json={"points": ["grass@2,38"], "layout_revision": 2}, headers=h)
    r = art.post(
        "/api/bgs/c011/labels", json={"points": ["sky@2,2", "grass@2,38"], "layout_revision": 1}, headers=h
    )
    assert calls == []  # three clicks on two layouts, no derivation
    a = art.get("/api/bgs/c010").json()["layout"]
    b = art.get("/api/bgs/c011").json()["layout"]
    assert a["regions_blob"] == b["regions_blob"]  # incremental (cached) labelling = all at once
    # a damaged cache file is derived again, never trusted
    cached[0].write_bytes(b"not numpy")
    fresh = closed_areas(reviewed, a["lines_blob"])
    assert calls == [1] and fresh.shape == (40, 64) and np.unique(fresh).size >= 3


@pytest.mark.parametrize("path", ["/cut/c001/pick", "/cut/c001/reject"])
def test_refused_form_posts_redirect_and_a_reload_sends_nothing(clients, reviewed, path) -> None:
    d, tok = clients("dir")
    before = snapshot(reviewed)
    r = d.post(path, data={"csrf_token": tok, "lock_version": 7, "version_id": 1, "text": "x"})
    assert "changed by someone else" in refused(d, r, "/cut/c001")
    assert snapshot(reviewed) == before

"""Approval through the JSON API with confirm_painters: the paint-over artists' agreement is
recorded with who and when, and the BG becomes its location's board."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from haikei.imaging.io import load_rgb, png_bytes


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id with cheap parameters (the default costs ~0.7 s a hash on shared cores)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        "haikei.services.users._hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def test_api_approve_with_confirm_painters(place) -> None:
    from haikei.services.locations import location_detail
    from haikei.services.rendering import render_backgrounds
    from haikei.services.review import bg_detail, upload_paintover
    from haikei.services.users import create_token, get_user
    from haikei.web import create_app

    (v,) = render_backgrounds(place, ["c001"], engine="exemplar", candidates=1, actor="aki")
    d = bg_detail(place, "c001")
    img = load_rgb(place.blobs.get(v.image_blob)).copy()
    img[2:10, 30:50] = (250, 190, 120)
    po = upload_paintover(
        place, get_user(place, "yuki"), "c001", v.id, d.bg.lock_version, png_bytes(img), "po.png"
    )
    token = create_token(place, "haruka")
    app = create_app(place, secret_key="test-secret-key")
    with TestClient(app) as c:
        auth = {"Authorization": f"Bearer {token}"}
        lock = c.get("/api/bgs/c001", headers=auth).json()["lock_version"]
        r = c.post("/api/bgs/c001/approve", headers=auth, json={"version_id": po.id, "lock_version": lock})
        assert r.status_code == 200, r.text
        why = {b.name: b.why_no_board for b in location_detail(place, "house").bgs}["c001"]
        assert "painted over by Yuki Ito" in why
        lock = c.get("/api/bgs/c001", headers=auth).json()["lock_version"]
        r = c.post(
            "/api/bgs/c001/approve",
            headers=auth,
            json={"version_id": po.id, "lock_version": lock, "confirm_painters": True},
        )
        assert r.status_code == 200, r.text
        r = c.post(
            "/api/bgs/c001/approve",
            headers=auth,
            json={"version_id": po.id, "lock_version": lock, "confirm_painters": "x"},
        )
        assert r.status_code == 422
    shown = {b.name: b for b in location_detail(place, "house").bgs}["c001"]
    assert shown.board == "house/c001-r2" and shown.painters_confirmed_by == "Haruka Aoki"
    assert shown.painters_confirmed_at is not None

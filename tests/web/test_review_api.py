"""The review app through HTTP: every route, permissions, CSRF, stale versions, hostile uploads."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from haikei.imaging.io import load_rgb, png_bytes
from tests.conftest import snapshot
from tests.web.conftest import bg_state, csrf_of, refused

W, H = 64, 40


def mask_png(x0: int = 10, y0: int = 8, x1: int = 30, y1: int = 24, size: tuple[int, int] = (W, H)) -> bytes:
    m = np.zeros((size[1], size[0], 4), np.uint8)
    m[y0:y1, x0:x1] = (255, 40, 80, 255)  # what the page's canvas sends: painted = opaque
    return png_bytes(m)


def painted_over(ctx, version_id: int, box=(5, 5, 25, 15)) -> np.ndarray:
    from haikei.store.tables import VersionRow

    with ctx.db.session() as s:
        blob = s.get(VersionRow, version_id).image_blob
    img = load_rgb(ctx.blobs.get(blob)).copy()
    x0, y0, x1, y1 = box
    img[y0:y1, x0:x1] = (250, 20, 200)
    return img


# -- nothing without a session ---------------------------------------------------------------

PAGES = ["/", "/cut/c001", "/cut/c001/label", "/img/v/1", "/img/layout/1/lines"]
API_GET = ["/api/me", "/api/cuts", "/api/bgs/c001", "/api/bgs/c001/jobs", "/api/jobs/1"]
API_POST = [
    "/api/bgs/c001/pick",
    "/api/bgs/c001/approve",
    "/api/bgs/c001/reject",
    "/api/bgs/c001/retake",
    "/api/bgs/c001/variants",
    "/api/bgs/c001/variants/1/approve",
    "/api/bgs/c001/labels",
]
PAGE_POST = [
    "/cut/c001/pick",
    "/cut/c001/approve",
    "/cut/c001/reject",
    "/cut/c001/upload",
    "/cut/c001/variants",
    "/cut/c001/variants/1/approve",
    "/logout",
]


def test_nothing_but_login_without_a_session(clients, reviewed) -> None:
    c, _ = clients()
    before = snapshot(reviewed)
    assert c.get("/login").status_code == 200
    assert c.get("/static/app.css").status_code == 200
    for url in PAGES:
        r = c.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), url
    for url in API_GET:
        assert c.get(url).status_code == 401, url
    for url in API_POST:
        assert c.post(url, json={}).status_code == 401, url
    for url in PAGE_POST:
        assert c.post(url, data={}, follow_redirects=False).status_code in (303, 401), url
    assert c.get("/api/me", headers={"Authorization": "Bearer hk_wrong"}).status_code == 401
    assert snapshot(reviewed) == before


def test_login_refuses_wrong_password_and_missing_csrf(clients) -> None:
    c, _ = clients()
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"username": "dir", "password": "nope-nope", "csrf_token": token})
    assert "wrong user name or password" in refused(c, r, "/login")
    r = c.post("/login", data={"username": "dir", "password": "dir-password"})
    assert "CSRF" in refused(c, r, "/login")
    assert c.get("/api/me").status_code == 401
    r = c.post(
        "/login",
        data={"username": "dir", "password": "dir-password", "csrf_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_logout_needs_csrf_and_ends_the_session(clients) -> None:
    c, tok = clients("dir")
    assert "CSRF" in refused(c, c.post("/logout", data={}), "/")
    assert c.post("/logout", data={"csrf_token": tok}, follow_redirects=False).status_code == 303
    assert c.get("/api/me").status_code == 401


# -- reading ---------------------------------------------------------------------------------


def test_overview_cards_filter_and_sort(clients) -> None:
    c, _ = clients("view")
    html = c.get("/").text
    # one card per BG: the shared BG (兼用) c003-c004 is one card listing both cuts
    assert html.count('class="cutcard"') == 3
    assert "c003 · c004" in html and "BG c003-c004" in html and "兼用 ×2" in html
    assert c.get("/?status=approved").text.count('class="cutcard"') == 0
    cards = c.get("/api/cuts", params={"sort": "cut"}).json()
    assert [x["cut"] for x in cards] == ["c001", "c002", "c003"]
    assert cards[2]["cuts"] == ["c003", "c004"] and cards[2]["bg"] == "c003-c004"
    assert cards[0]["current_version_id"] is not None and cards[2]["current_version_id"] is None
    assert c.get("/api/cuts", params={"sort": "nonsense"}).status_code == 400


def test_cut_page_and_api_show_versions_history_and_layout(clients) -> None:
    c, _ = clients("view")
    r = c.get("/cut/c001")
    assert r.status_code == 200
    assert r.text.count('class="vcard') == 2 and "Pick as BG" not in r.text  # a viewer gets no buttons
    assert 'id="overlay"' in r.text and 'id="zoom-1"' in r.text and "haikei.recipe/1" in r.text
    st = bg_state(c)
    assert [v["revision"] for v in st["versions"]] == [2, 1] and st["layout"]["revision"] == 1
    assert c.get("/cut/c999").status_code == 404
    assert c.get("/api/bgs/c999").status_code == 404
    me = c.get("/api/me").json()
    assert me == {"name": "view", "display_name": "View", "role": "viewer", "can": []}


def test_previews_are_downscaled_and_cached_by_hash(clients, reviewed) -> None:
    c, _ = clients("view")
    vid = bg_state(c)["versions"][0]["id"]
    r = c.get(f"/img/v/{vid}", params={"w": 160})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(r.content)).size == (64, 40)  # never upscaled
    assert "immutable" in r.headers["cache-control"]
    assert (
        c.get(f"/img/v/{vid}", params={"w": 160}, headers={"If-None-Match": r.headers["etag"]}).status_code
        == 304
    )
    full = c.get(f"/img/v/{vid}", params={"w": 0})
    assert full.headers["content-type"] == "image/png" and load_rgb(full.content).shape == (40, 64, 3)
    assert any((reviewed.root / "cache" / "previews").rglob("*.jpg"))
    assert c.get(f"/img/v/{vid}", params={"w": 123}).status_code == 400
    assert c.get("/img/v/9999").status_code == 404
    assert c.get("/img/layout/1/secrets").status_code == 404


# -- changes ---------------------------------------------------------------------------------


def test_pick_then_approve_records_who_and_when(clients) -> None:
    art, art_tok = clients("art")
    st = bg_state(art)
    v1 = st["versions"][1]["id"]
    r = art.post(
        "/cut/c001/pick",
        data={"csrf_token": art_tok, "version_id": v1, "lock_version": st["lock_version"]},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "ok=picked" in r.headers["location"]
    st = bg_state(art)
    assert st["status"] == "wfa" and st["current_version_id"] == v1 and st["lock_version"] == 1
    assert st["notes"][0]["author"] == "art" and st["notes"][0]["created_at"]
    # an artist may not approve
    r = art.post("/cut/c001/approve", data={"csrf_token": art_tok, "version_id": v1, "lock_version": 1})
    assert "may not approve" in refused(art, r, "/cut/c001")
    d, d_tok = clients("dir")
    r = d.post(
        "/api/bgs/c001/approve", json={"version_id": v1, "lock_version": 1}, headers={"X-CSRF-Token": d_tok}
    )
    assert r.status_code == 200 and r.json()["status_change"] == "approved" and r.json()["author"] == "dir"
    st = bg_state(d)
    assert st["status"] == "approved" and st["approved_version_id"] == v1
    r = d.post(
        "/api/bgs/c001/reject",
        json={"lock_version": 2, "text": "sky too dark"},
        headers={"X-CSRF-Token": d_tok},
    )
    assert r.status_code == 200
    st = bg_state(d)
    assert st["status"] == "retake" and st["approved_version_id"] is None


def test_changes_without_csrf_token_are_refused(clients, reviewed) -> None:
    d, _tok = clients("dir")
    st = bg_state(d)
    vid, lock = st["versions"][0]["id"], st["lock_version"]
    _, other_tok = clients("dir2")  # logged in before the snapshot: a login stores its session
    before = snapshot(reviewed)
    r = d.post("/cut/c001/approve", data={"version_id": vid, "lock_version": lock})
    assert "CSRF" in refused(d, r, "/cut/c001")
    r = d.post("/cut/c001/approve", data={"version_id": vid, "lock_version": lock, "csrf_token": "x" * 43})
    assert "CSRF" in refused(d, r, "/cut/c001")
    assert d.post("/api/bgs/c001/approve", json={"version_id": vid, "lock_version": lock}).status_code == 403
    r = d.post(
        "/api/bgs/c001/approve",
        json={"version_id": vid, "lock_version": lock},
        headers={"X-CSRF-Token": "bad"},
    )
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    # another session's token does not work either
    r = d.post("/cut/c001/approve", data={"version_id": vid, "lock_version": lock, "csrf_token": other_tok})
    assert "CSRF" in refused(d, r, "/cut/c001")
    assert snapshot(reviewed) == before


def test_viewer_can_change_nothing(clients, reviewed) -> None:
    v, tok = clients("view")
    st = bg_state(v)
    vid, lock = st["versions"][0]["id"], st["lock_version"]
    before = snapshot(reviewed)
    h = {"X-CSRF-Token": tok}
    assert (
        v.post("/api/bgs/c001/pick", json={"version_id": vid, "lock_version": lock}, headers=h).status_code
        == 403
    )
    assert (
        v.post("/api/bgs/c001/approve", json={"version_id": vid, "lock_version": lock}, headers=h).status_code
        == 403
    )
    assert (
        v.post("/api/bgs/c001/reject", json={"lock_version": lock, "text": "no"}, headers=h).status_code
        == 403
    )
    mask = base64.b64encode(mask_png()).decode()
    assert (
        v.post(
            "/api/bgs/c001/retake",
            json={"version_id": vid, "lock_version": lock, "text": "x", "mask": mask},
            headers=h,
        ).status_code
        == 403
    )
    files = {"file": ("p.png", png_bytes(painted_over(reviewed, vid)), "image/png")}
    r = v.post(
        "/cut/c001/upload", data={"csrf_token": tok, "version_id": vid, "lock_version": lock}, files=files
    )
    assert "may not upload" in refused(v, r, "/cut/c001")
    assert (
        v.post(
            "/api/bgs/c001/labels", json={"points": ["sky@1,1"], "layout_revision": 1}, headers=h
        ).status_code
        == 403
    )
    assert snapshot(reviewed) == before


def test_two_reviewers_at_once_never_lose_a_change(clients, reviewed) -> None:
    a, a_tok = clients("dir")
    b, b_tok = clients("dir2")
    st = bg_state(a)  # both open the page at lock 0
    v_new, v_old = st["versions"][0]["id"], st["versions"][1]["id"]
    r = a.post(
        "/cut/c001/approve",
        data={"csrf_token": a_tok, "version_id": v_new, "lock_version": 0},
        follow_redirects=False,
    )
    assert r.status_code == 303
    before = snapshot(reviewed)
    r = b.post(
        "/cut/c001/approve",
        data={"csrf_token": b_tok, "version_id": v_old, "lock_version": 0},
        headers={"Referer": f"http://testserver/cut/c001?v={v_old}&ok=picked"},
    )
    assert "changed by someone else" in refused(b, r, "/cut/c001")
    assert r.headers["location"] == f"/cut/c001?v={v_old}"  # back to the page as it was, minus 'ok'
    # the same through the API keeps its status code
    r = b.post(
        "/api/bgs/c001/approve",
        json={"version_id": v_old, "lock_version": 0},
        headers={"X-CSRF-Token": b_tok},
    )
    assert r.status_code == 409 and "changed by someone else" in r.json()["error"]
    mask = base64.b64encode(mask_png()).decode()
    r = b.post(
        "/api/bgs/c001/retake",
        json={"version_id": v_old, "lock_version": 0, "text": "redo", "mask": mask},
        headers={"X-CSRF-Token": b_tok},
    )
    assert r.status_code == 409 and "reload" in r.json()["error"]
    files = {"file": ("p.png", png_bytes(painted_over(reviewed, v_old)), "image/png")}
    r = b.post(
        "/cut/c001/upload", data={"csrf_token": b_tok, "version_id": v_old, "lock_version": 0}, files=files
    )
    assert "changed by someone else" in refused(b, r, "/cut/c001")
    assert snapshot(reviewed) == before
    assert bg_state(b)["approved_version_id"] == v_new


def test_retake_queues_a_regional_render_that_becomes_the_next_version(clients, reviewed) -> None:
    from haikei.jobs.local import LocalExecutor

    art, tok = clients("art")
    st = bg_state(art)
    parent = st["versions"][0]
    r = art.post(
        "/api/bgs/c001/retake",
        headers={"X-CSRF-Token": tok},
        json={
            "version_id": parent["id"],
            "lock_version": st["lock_version"],
            "text": "make the road earth",
            "mask": "data:image/png;base64," + base64.b64encode(mask_png()).decode(),
        },
    )
    assert r.status_code == 200, r.text
    job = r.json()["job"]
    assert job["kind"] == "retake" and job["state"] == "pending"
    st = bg_state(art)
    assert st["status"] == "retake" and st["notes"][0]["mask_blob"] and st["notes"][0]["author"] == "art"
    assert art.get(f"/img/note/{st['notes'][0]['id']}/mask").status_code == 200
    LocalExecutor(reviewed, workers=1, mode="thread").run_until_empty([job["id"]], timeout_s=60)
    done = art.get(f"/api/jobs/{job['id']}").json()
    assert done["state"] == "done", done
    st = bg_state(art)
    new = st["versions"][0]
    assert new["revision"] == 3 and new["kind"] == "composite" and new["parent_id"] == parent["id"]
    assert st["current_version_id"] == new["id"] and new["id"] in done["result_version_ids"]
    a = load_rgb(art.get(f"/img/v/{new['id']}", params={"w": 0}).content)
    b = load_rgb(art.get(f"/img/v/{parent['id']}", params={"w": 0}).content)
    outside = np.ones((H, W), bool)
    outside[8:24, 10:30] = False
    assert (a[outside] == b[outside]).all()  # only the masked area was re-rendered


@pytest.mark.parametrize(
    "mask,problem",
    [
        (png_bytes(np.zeros((H, W, 4), np.uint8)), "empty"),
        (mask_png(size=(32, 20)), "the BG is 64x40"),
        (b"not a png at all, just words", "not an image"),
    ],
)
def test_bad_retake_masks_store_nothing(clients, reviewed, mask, problem) -> None:
    d, tok = clients("dir")
    st = bg_state(d)
    before = snapshot(reviewed)
    r = d.post(
        "/api/bgs/c001/retake",
        headers={"X-CSRF-Token": tok},
        json={
            "version_id": st["versions"][0]["id"],
            "lock_version": st["lock_version"],
            "text": "x",
            "mask": base64.b64encode(mask).decode(),
        },
    )
    assert r.status_code == 400 and problem in r.json()["error"]
    assert snapshot(reviewed) == before


def test_paintover_is_a_new_human_version_with_diff(clients, reviewed) -> None:
    art, tok = clients("art")
    st = bg_state(art)
    parent = st["versions"][0]["id"]
    img = painted_over(reviewed, parent, box=(5, 5, 25, 15))
    files = {"file": ("c001 paint over.png", png_bytes(img), "image/png")}
    r = art.post(
        "/cut/c001/upload",
        data={
            "csrf_token": tok,
            "version_id": parent,
            "lock_version": st["lock_version"],
            "text": "fixed the sky",
        },
        files=files,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    st = bg_state(art)
    v = st["versions"][0]
    assert v["kind"] == "human" and v["created_by"] == "art" and v["parent_id"] == parent
    changed = (
        np.abs(
            img.astype(int) - load_rgb(art.get(f"/img/v/{parent}", params={"w": 0}).content).astype(int)
        ).max(2)
        > 6
    )
    assert v["changed_share"] == pytest.approx(changed.mean()) and 0 < v["changed_share"] <= 200 / (W * H)
    assert st["current_version_id"] == v["id"] and st["status"] == "wfa" and st["notes"][0]["author"] == "art"
    assert (load_rgb(art.get(f"/img/v/{v['id']}", params={"w": 0}).content) == img).all()
    page = art.get(r.headers["location"]).text
    assert "Changed by art" in page and f"/img/v/{v['id']}/diff" in page
    diff = load_rgb(art.get(f"/img/v/{v['id']}/diff", params={"w": 0}).content)
    assert diff[10, 10, 1] < 60 < diff[10, 10, 2] and abs(int(diff[30, 50, 0]) - int(diff[30, 50, 1])) < 3
    assert art.get(f"/img/v/{parent}/diff").status_code == 404


def test_paintover_as_psd(clients, reviewed) -> None:
    from psd_tools import PSDImage

    art, tok = clients("art")
    st = bg_state(art)
    parent = st["versions"][0]["id"]
    img = painted_over(reviewed, parent)
    buf = io.BytesIO()
    PSDImage.frompil(Image.fromarray(img)).save(buf)
    files = {"file": ("over.psd", buf.getvalue(), "image/vnd.adobe.photoshop")}
    r = art.post(
        "/api/bgs/c001/paintover",
        data={"version_id": parent, "lock_version": st["lock_version"]},
        files=files,
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 200, r.text
    assert r.json()["recipe"]["format"] == "psd" and r.json()["changed_share"] > 0


def _bomb_png() -> bytes:
    """A PNG whose header claims 30000x30000 pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


def test_hostile_uploads_show_a_message_and_store_nothing(clients, reviewed) -> None:
    art, tok = clients("art")
    st = bg_state(art)
    vid, lock = st["versions"][0]["id"], st["lock_version"]
    good = png_bytes(painted_over(reviewed, vid))
    small = png_bytes(np.zeros((20, 32, 3), np.uint8))
    cases = [
        ("../../etc/passwd.png", good, "plain .png or .psd name"),
        ("dir/x.png", good, "plain .png or .psd name"),
        ("..\\x.png", good, "plain .png or .psd name"),
        ("x.exe", good, "plain .png or .psd name"),
        ("x.png", b"GIF89a not really", "not a PNG"),
        ("x.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "corrupt"),
        ("x.psd", good, "not a PSD"),
        ("x.png", small, "the BG is 64x40"),
        ("bomb.png", _bomb_png(), "Mpx limit"),  # haikei's [limits] max_pixels check
        ("same.png", art.get(f"/img/v/{vid}", params={"w": 0}).content, "nothing to upload"),
        ("big.png", b"\x89PNG\r\n\x1a\n" + bytes(3 * 1024 * 1024), "limit"),  # refused before it is read
    ]
    before = snapshot(reviewed)
    for name, data, text in cases:
        r = art.post(
            "/cut/c001/upload",
            data={"csrf_token": tok, "version_id": vid, "lock_version": lock},
            files={"file": (name, data, "image/png")},
            headers={"Accept": "text/html"},
        )
        assert text in refused(art, r, "/cut/c001"), name
    # a script gets the status code
    r = art.post(
        "/api/bgs/c001/paintover",
        data={"version_id": vid, "lock_version": lock},
        files={"file": ("big.png", b"\x89PNG\r\n\x1a\n" + bytes(3 * 1024 * 1024), "image/png")},
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 413 and "limit" in r.json()["error"]
    r = art.post(
        "/api/bgs/c001/paintover",
        data={"version_id": vid, "lock_version": lock},
        files={"file": ("x.png", small, "image/png")},
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 400 and "the BG is 64x40" in r.json()["error"]
    assert snapshot(reviewed) == before


def test_api_tokens_for_scripts(reviewed, clients) -> None:
    from haikei.services.users import create_token

    c, _ = clients()
    token = create_token(reviewed, "dir", "ci")
    h = {"Authorization": f"Bearer {token}"}
    assert c.get("/api/me", headers=h).json()["name"] == "dir"
    st = c.get("/api/bgs/c001", headers=h).json()
    r = c.post(
        "/api/bgs/c001/approve", json={"version_id": st["versions"][0]["id"], "lock_version": 0}, headers=h
    )
    assert r.status_code == 200  # no CSRF header needed with a token
    vt = {"Authorization": "Bearer " + create_token(reviewed, "view")}
    assert (
        c.post("/api/bgs/c001/reject", json={"lock_version": 1, "text": "x"}, headers=vt).status_code == 403
    )
    assert c.get("/api/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_region_labelling_adds_a_layout_revision(reviewed, clients, tmp_path) -> None:
    from haikei.services.intake import import_folder
    from tests.conftest import write_layout

    folder = tmp_path / "unlabelled"
    folder.mkdir()
    write_layout(folder, "c010", regions=False)
    import_folder(reviewed, folder)
    art, tok = clients("art")
    assert "label the layout" in art.get("/cut/c010").text
    assert art.get("/cut/c010/label").status_code == 200
    h = {"X-CSRF-Token": tok}
    r = art.post("/api/bgs/c010/labels", json={"points": ["sky@2,2"], "layout_revision": 1}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["layout_revision"] == 2 and 0 < body["unlabelled_pixels"] < W * H
    assert art.get(body["regions_url"]).status_code == 200
    before = snapshot(reviewed)
    r = art.post("/api/bgs/c010/labels", json={"points": ["ground@2,38"], "layout_revision": 1}, headers=h)
    assert r.status_code == 409
    r = art.post("/api/bgs/c010/labels", json={"points": ["nonsense@2,38"], "layout_revision": 2}, headers=h)
    assert r.status_code == 400 and "unknown region class" in r.json()["error"]
    assert snapshot(reviewed) == before


def test_openapi_schema_lists_the_api(clients) -> None:
    c, _ = clients()
    paths = c.get("/api/openapi.json").json()["paths"]
    assert {"/api/bgs/{ref}/retake", "/api/bgs/{ref}/paintover", "/api/cuts", "/api/jobs/{job_id}"} <= set(
        paths
    )
    assert not any(p.startswith("/cut") or p.startswith("/img") for p in paths)

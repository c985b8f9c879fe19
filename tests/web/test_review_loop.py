"""The review loop through HTTP and the services: states that follow the work, comments with
drawings (and their retake masks), delivery as a job, credits, `haikei status`."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from haikei.imaging.io import png_bytes
from tests.web.conftest import bg_state

W, H = 64, 40


def _retake_done(ctx, client, tok, ref="c001"):
    from haikei.jobs.local import LocalExecutor

    st = bg_state(client, ref)
    m = np.zeros((H, W, 4), np.uint8)
    m[8:24, 10:30] = (255, 40, 80, 255)
    r = client.post(
        f"/api/bgs/{ref}/retake",
        headers={"X-CSRF-Token": tok},
        json={
            "version_id": st["current_version_id"],
            "lock_version": st["lock_version"],
            "text": "dry earth here",
            "mask": "data:image/png;base64," + base64.b64encode(png_bytes(m)).decode(),
        },
    )
    assert r.status_code == 200, r.text
    assert bg_state(client, ref)["status"] == "retake"
    LocalExecutor(ctx, workers=1, mode="thread").run_until_empty([r.json()["job"]["id"]], timeout_s=60)
    return bg_state(client, ref)


def test_rendered_candidates_wait_for_review_and_a_retake_waits_again(clients, reviewed) -> None:
    d, tok = clients("dir")
    st = bg_state(d)
    assert st["status"] == "wfa" and st["status_name"] == "Waiting for approval"
    arrived = [n for n in st["notes"] if n["status_change"] == "wfa"]
    assert len(arrived) == 1 and arrived[0]["text"].startswith(
        "candidates rendered"
    )  # once, not per candidate
    assert bg_state(d, "c003")["status"] == "todo"  # nothing rendered for the shared BG
    # the overview's chips count BGs per status; a shared BG counts once
    html = d.get("/").text
    assert 'data-status="wfa"' in html
    chips = {s["short_name"]: s["count"] for s in d.get("/api/statuses").json()}
    assert chips["wfa"] == 2 and chips["todo"] == 1 and chips["done"] == 0
    assert d.get("/?status=wfa").text.count('class="cutcard"') == 2
    # a retake's new version puts the BG back to waiting
    st = _retake_done(reviewed, d, tok)
    assert st["status"] == "wfa" and st["versions"][0]["kind"] == "composite"
    # last change first: c001 changed last
    assert d.get("/api/cuts", params={"sort": "changed"}).json()[0]["cut"] == "c001"


def test_review_section_maps_rendered_candidates_to_another_status(production, layouts_dir) -> None:
    from haikei.errors import ConfigError
    from haikei.services.intake import import_folder
    from haikei.services.rendering import render_backgrounds
    from haikei.services.review import bg_detail

    import_folder(production, layouts_dir)
    production.settings.review.rendered = "wip"
    render_backgrounds(production, ["c001"], engine="baseline", candidates=1, actor="t")
    assert (
        bg_detail(production, "c001").bg.status == "wip"
        or bg_detail(production, "c001").status_name == "Work in progress"
    )
    production.settings.review.rendered = "nonsense"
    with pytest.raises(ConfigError, match=r"\[review\] rendered = 'nonsense'"):
        render_backgrounds(production, ["c002"], engine="baseline", candidates=1, actor="t")
    assert bg_detail(production, "c002").versions == []  # the refused render stored nothing


def test_comments_with_drawings_replies_and_the_mask(clients, reviewed) -> None:
    art, tok = clients("art")
    view, vtok = clients("view")
    h = {"X-CSRF-Token": tok}
    st = bg_state(art)
    v1 = st["versions"][1]["id"]
    shapes = [
        {"type": "rect", "colour": "#e53935", "width": 2, "points": [[5, 5], [20, 15]]},
        {"type": "arrow", "colour": "#fdd835", "width": 2, "points": [[40, 30], [30, 20]]},
        {"type": "text", "colour": "#ffffff", "size": 8, "points": [[40, 10]], "text": "乾いた土"},
    ]
    r = art.post(
        "/api/bgs/c001/comments",
        headers=h,
        json={"text": "the road is too grey", "version_id": v1, "shapes": shapes},
    )
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["version_id"] == v1 and c["author"] == "art" and len(c["shapes"]) == 3 and c["mask_url"]
    reply = art.post(
        "/api/bgs/c001/comments", headers=h, json={"text": "agreed", "parent_id": c["id"]}
    ).json()
    assert reply["parent_id"] == c["id"] and reply["version_id"] == v1  # written on the parent's version
    # the drawing as a retake mask: the rectangle filled, the arrow thick, BG size
    m = np.asarray(Image.open(io.BytesIO(view.get(c["mask_url"]).content)))
    assert m.shape == (H, W) and m[10, 12] == 255 and m[25, 35] == 255 and m[38, 2] == 0
    # a viewer reads but may not comment; bad drawings are refused and store nothing
    r = view.post("/api/bgs/c001/comments", headers={"X-CSRF-Token": vtok}, json={"text": "x"})
    assert r.status_code == 403 and "may not comment" in r.json()["error"]
    for bad, words in [
        ([{"type": "blob", "points": [[1, 1]]}], "type 'blob'"),
        ([{"type": "rect", "colour": "#123456", "points": [[1, 1], [2, 2]]}], "colour '#123456'"),
        ([{"type": "rect", "points": [[1, 1]]}], "needs 2..2 points"),
        ([{"type": "pen", "points": [[1e9, 1]]}], "outside"),
    ]:
        r = art.post("/api/bgs/c001/comments", headers=h, json={"text": "x", "shapes": bad})
        assert r.status_code == 400 and words in r.json()["error"], r.text
    assert art.post("/api/bgs/c001/comments", headers=h, json={"text": "  "}).status_code == 400
    thread = view.get("/api/bgs/c001/comments").json()
    assert [x["text"] for x in thread] == ["the road is too grey", "agreed"]
    # the page shows the thread, the drawing's badge and the Japanese text marked lang="ja"
    html = art.get(f"/cut/c001?v={v1}&c={c['id']}").text
    assert "the road is too grey" in html and "drawing · 3" in html and "Use as retake mask" in html
    assert json.loads(html.split("data-shapes='")[1].split("'")[0])[2]["text"] == "乾いた土"


def test_status_codes_are_names_and_the_recipe_is_a_card(clients) -> None:
    d, _ = clients("dir")
    html = d.get("/cut/c001").text
    assert "→ Waiting for approval" in html and "→ wfa" not in html
    assert "How r" in html and "made by" in html and "baseline" in html and "raw recipe (JSON)" in html


def test_export_job_delivers_marks_delivered_and_a_change_needs_redelivery(clients, reviewed) -> None:
    from haikei.provenance.keys import init_keys

    init_keys(reviewed.root / "keys", org="test studio")
    d, tok = clients("dir")
    art, atok = clients("art")
    h = {"X-CSRF-Token": tok}
    st = bg_state(d)
    d.post(
        "/api/bgs/c001/approve",
        headers=h,
        json={"version_id": st["versions"][0]["id"], "lock_version": st["lock_version"]},
    )
    # an artist may not deliver; nothing approved among the chosen: refused, nothing stored
    assert art.post("/api/exports", headers={"X-CSRF-Token": atok}, json={}).status_code == 403
    r = d.post("/api/exports", headers=h, json={"cuts": ["c002"]})
    assert r.status_code == 400 and "not approved" in r.json()["error"]
    r = d.post("/api/exports", headers=h, json={})  # approved only (default); runs after the answer
    assert r.status_code == 200, r.text
    job = d.get(f"/api/exports/{r.json()['id']}").json()
    assert job["state"] == "done" and job["delivered"][0]["bg"] == "c001", job
    assert {"cuts.csv", "delivery.json"} <= set(job["files"])
    st = bg_state(d)
    assert st["status"] == "done" and st["status_name"] == "Delivered"
    assert st["delivery"]["needs_redelivery"] is False and st["delivery"]["approved"] is True
    files = d.get("/api/deliveries").json()
    assert [f["bg"] for f in files] == ["c001"] and files[0]["delivered_by"] == "dir" and files[0]["exists"]
    assert d.get(files[0]["file_url"]).content.startswith(b"\x89PNG")
    ver = d.get(files[0]["verify_url"]).json()
    assert ver["valid"] is True and ver["file"] == files[0]["file"]
    page = d.get("/delivery").text
    assert "delivered r" in page or files[0]["file"] in page
    # a later change to the delivered BG: it shows it needs re-delivery
    _retake_done(reviewed, art, atok)
    st = bg_state(d)
    assert st["status"] == "wfa" and st["delivery"]["needs_redelivery"] is True
    assert "needs re-delivery" in d.get("/").text
    # credits: the same as `haikei credits`, as CSV and JSON downloads
    from haikei.services.exports import credits_text

    assert d.get("/credits.csv").text == credits_text(reviewed, "csv")
    assert d.get("/credits.json").json() == json.loads(credits_text(reviewed, "json"))
    assert "Layout" in d.get("/credits").text or "layout" in d.get("/credits").text


def test_an_export_that_cannot_sign_fails_with_its_reason_and_changes_nothing(clients, reviewed) -> None:
    d, tok = clients("dir")
    art, atok = clients("art")
    st = bg_state(d)
    d.post(
        "/api/bgs/c001/approve",
        headers={"X-CSRF-Token": tok},
        json={"version_id": st["versions"][0]["id"], "lock_version": st["lock_version"]},
    )
    # an artist's form post is refused with a message on the page it came from
    r = art.post(
        "/delivery/export", data={"csrf_token": atok}, headers={"referer": "http://testserver/delivery"}
    )
    assert r.status_code == 303
    assert "may not deliver" in art.get(r.headers["location"]).text
    # no signing keys in this production: the job fails with the one-line reason
    r = d.post("/delivery/export", data={"csrf_token": tok, "scope": "approved"})
    assert r.status_code == 303 and "/delivery?job=" in r.headers["location"]
    page = d.get(r.headers["location"]).text
    job = d.get("/api/exports/1").json()
    assert job["state"] == "failed" and job["error"] and job["error"] in page.replace("&#39;", "'")
    assert bg_state(d)["status"] == "approved" and d.get("/api/deliveries").json() == []


def test_haikei_status_shows_the_states(reviewed) -> None:
    from typer.testing import CliRunner

    from haikei.cli.main import build_app

    out = CliRunner().invoke(build_app(), ["status", "-p", str(reviewed.root)], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "Waiting for approval" in out.output and "To do" in out.output
    js = CliRunner().invoke(build_app(), ["status", "-p", str(reviewed.root), "--json"])
    rows = {r["bg"]: r for r in json.loads(js.output)["backgrounds"]}
    assert rows["c001"]["status_name"] == "Waiting for approval" and rows["c001"]["delivery"] == ""


@pytest.mark.slow
def test_after_the_demo_the_overview_shows_waiting_bgs(tmp_path, capsys) -> None:
    """`make demo` (small frame, baseline): the approved BGs were exported, so they are
    Delivered; the others wait for review, counted on the overview's chips."""
    from fastapi.testclient import TestClient

    from haikei.app import open_production
    from haikei.web import create_app
    from tests.foundation.cli import run_cli
    from tests.web.conftest import csrf_of

    root = tmp_path / "demo"
    code, out, err = run_cli(
        ["demo", str(root), "--size", "480x270", "--engine", "baseline", "--candidates", "1", "--json"],
        capsys,
    )
    assert code == 0, err
    director = next(u for u in json.loads(out)["users"] if u["role"] == "director")
    ctx = open_production(root)
    try:
        with TestClient(create_app(ctx, secret_key="demo-test"), follow_redirects=False) as c:
            tok = csrf_of(c.get("/login").text)
            r = c.post(
                "/login",
                data={"username": director["name"], "password": director["password"], "csrf_token": tok},
            )
            assert r.status_code == 303
            chips = {s["short_name"]: s["count"] for s in c.get("/api/statuses").json()}
            # waiting: c005-c006, c007 and c008 (c001's place, painted after c001's approval)
            assert chips["wfa"] == 3 and chips["done"] == 4 and chips["todo"] == 0, chips
            html = c.get("/?status=wfa").text
            assert html.count('class="cutcard"') == 3 and "c005 · c006" in html and "兼用 ×2" in html
            assert 'Waiting for approval <span class="n">3</span>' in c.get("/").text
            # the demo also delivered the unapproved BGs' current versions: delivered as they are,
            # they need no re-delivery until a new version arrives
            assert "needs re-delivery" not in c.get("/").text
            assert "(not approved)" in c.get("/?status=wfa").text
    finally:
        ctx.close()


def test_a_retake_note_reaches_the_engine_and_the_page_says_what_it_ignores(clients, reviewed) -> None:
    from haikei.jobs.local import LocalExecutor

    art, tok = clients("art")
    st = bg_state(art)
    vid = st["current_version_id"]
    r = art.get(
        "/api/bgs/c001/retake-note", params={"version_id": vid, "text": "summer evening, less grey"}
    ).json()
    assert r["engine"] == "baseline"
    said = {(u["field"], u["value"]) for u in r["understood"]}
    assert ("season", "summer") in said and ("time of day", "evening") in said
    assert any("tagged summer (tiny)" in u for u in r["used"]), r
    assert any("evening" in i and "no art board is tagged evening" in i for i in r["ignored"]), r
    assert any("less grey" in i and "does not read words" in i for i in r["ignored"]), r
    assert "summer" in r["direction"] and "evening" in r["direction"]
    nothing = art.get("/api/bgs/c001/retake-note", params={"version_id": vid, "text": "fix this"}).json()
    assert nothing["direction"] == "" and "does not read words" in nothing["ignored"][0]
    # sent: the render request and the recipe carry the merged direction (the BG's own is unchanged)
    m = np.zeros((H, W, 4), np.uint8)
    m[8:24, 10:30] = (255, 40, 80, 255)
    sent = art.post(
        "/api/bgs/c001/retake",
        headers={"X-CSRF-Token": tok},
        json={
            "version_id": vid,
            "lock_version": st["lock_version"],
            "text": "summer evening, less grey",
            "mask": "data:image/png;base64," + base64.b64encode(png_bytes(m)).decode(),
        },
    ).json()
    LocalExecutor(reviewed, workers=1, mode="thread").run_until_empty([sent["job"]["id"]], timeout_s=60)
    new = bg_state(art)["versions"][0]
    d = new["recipe"]["inputs"]["direction"]
    assert d["season"] == "summer" and d["time_of_day"] == "evening" and d["text"] == r["direction"]
    assert bg_state(art)["direction_text"] == ""
    # the page's retake card has the place where the reading is shown
    assert 'id="retake-reading"' in art.get("/cut/c001").text

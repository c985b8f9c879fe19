"""Variants with the art boards a studio has: re-vote over an aligned repaint, re-render from a
board tagged with the season, img2img with sd when configured, else refused with the reason."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from haikei.domain.direction import parse_direction
from haikei.imaging.io import load_rgb, png_bytes
from haikei.services.context import ServiceContext
from tests.conftest import snapshot, write_board
from tests.web.conftest import bg_state, refused

W, H = 64, 40


@pytest.fixture
def boards(reviewed: ServiceContext, tmp_path: Path) -> ServiceContext:
    """The production's 'summer' tiny board gets an aligned 'evening' repaint (darker, bluer), and
    a second tiny board (another painting) is tagged 'winter'."""
    from haikei.services.artboards import add_artboard
    from haikei.store.tables import ArtBoardRow

    with reviewed.db.session() as s:
        b = s.query(ArtBoardRow).one()
        img = load_rgb(reviewed.blobs.get(b.image_blob)).astype(np.float64)
        dusk = np.clip(img * (0.45, 0.5, 0.75), 0, 255).astype(np.uint8)
        b.variants = {"evening": reviewed.blobs.put(png_bytes(dusk))}
    folder = tmp_path / "winter"
    folder.mkdir()
    img_path, lab_path = write_board(folder, "snowy", seed=7)
    snow = load_rgb(img_path.read_bytes())
    from haikei.imaging.io import save_png

    save_png(img_path, np.clip(snow * 0.3 + 180, 0, 255).astype(np.uint8))  # pale, snowy colours
    add_artboard(
        reviewed,
        img_path,
        lab_path,
        name="snowy",
        tags=["winter"],
        artist="Yuki Sato",
        licence="studio",
        consent=True,
    )
    return reviewed


def _approve_exemplar(ctx: ServiceContext, client, tok: str) -> dict:
    """Direct c001 as a summer afternoon, render it with the exemplar engine (it keeps a source
    map; the summer board is the one it paints from) and approve it."""
    from haikei.services.backgrounds import set_direction
    from haikei.services.rendering import render_backgrounds

    set_direction(ctx, "c001", "夏の午後")

    (v,) = render_backgrounds(ctx, ["c001"], engine="exemplar", candidates=1, seed=5, actor="test")
    st = bg_state(client)
    r = client.post(
        "/api/bgs/c001/approve",
        json={"version_id": v.id, "lock_version": st["lock_version"]},
        headers={"X-CSRF-Token": tok},
    )
    assert r.status_code == 200, r.text
    return bg_state(client)


def test_options_follow_the_boards_and_refuse_with_the_reason(boards, clients) -> None:
    d, tok = clients("dir")
    st = bg_state(d)
    h = {"X-CSRF-Token": tok}
    assert st["variant_options"] == {}  # nothing approved yet
    r = d.post("/api/bgs/c001/variants", json={"tags": ["winter"], "lock_version": 0}, headers=h)
    assert r.status_code == 422 and "approve one before" in r.json()["error"]
    # a baseline version has no source map: the aligned 'evening' repaint cannot be re-voted
    base = st["versions"][0]["id"]
    d.post("/api/bgs/c001/approve", json={"version_id": base, "lock_version": 0}, headers=h)
    opts = bg_state(d)["variant_options"]
    # 'summer' would repaint from the same 'tiny' board with the same seed: the same picture, so
    # it is not offered (honest variants); 'winter' paints from 'snowy'
    assert set(opts) == {"winter"}
    assert opts["winter"]["method"] == "rerender" and opts["winter"]["boards"] == ["snowy"]
    assert opts["winter"]["label"] == "re-render from the 'snowy' board"
    assert opts["winter"]["needs_paint_over_again"] is False
    before = snapshot(boards)
    r = d.post("/api/bgs/c001/variants", json={"tags": ["summer"], "lock_version": 1}, headers=h)
    assert (
        r.status_code == 400
        and "same board (tiny)" in r.json()["error"]
        and "would not differ" in r.json()["error"]
    )
    r = d.post("/api/bgs/c001/variants", json={"tags": ["winter", "evening"], "lock_version": 1}, headers=h)
    err = r.json()["error"]
    assert (
        r.status_code == 400 and "evening" in err and "no source map" in err and "available for c001" in err
    )
    r = d.post("/api/bgs/c001/variants", json={"tags": ["autumn"], "lock_version": 1}, headers=h)
    assert r.status_code == 400 and "no consented art board is tagged 'autumn'" in r.json()["error"]
    # the page form: refused, the message shown on the page, nothing queued
    r = d.post("/cut/c001/variants", data={"csrf_token": tok, "lock_version": 1, "tags": "autumn"})
    assert "no 'autumn' variant of c001 can be made" in refused(d, r, "/cut/c001")
    assert snapshot(boards) == before
    page = d.get("/cut/c001").text
    assert "re-render from the &#39;snowy&#39; board" in page and 'value="winter"' in page


def test_variants_render_side_by_side_and_are_approved_one_by_one(boards, clients) -> None:
    from haikei.jobs.local import LocalExecutor

    d, tok = clients("dir")
    st = _approve_exemplar(boards, d, tok)
    approved = next(v for v in st["versions"] if v["id"] == st["approved_version_id"])
    opts = st["variant_options"]
    assert (
        opts["evening"]["method"] == "revote" and opts["evening"]["label"] == "re-vote over aligned repaint"
    )
    assert opts["winter"]["method"] == "rerender" and "summer" not in opts  # it is already summer
    page = d.get("/cut/c001").text
    assert "re-vote over aligned repaint" in page and "re-render from the &#39;snowy&#39; board" in page
    r = d.post(
        "/cut/c001/variants",
        data={"csrf_token": tok, "lock_version": st["lock_version"], "tags": ["evening", "winter"]},
    )
    assert r.status_code == 303 and "ok=variants" in r.headers["location"]
    jobs = {j["variant"]: j for j in d.get("/api/bgs/c001/jobs").json() if j["variant"]}
    assert jobs["evening"]["kind"] == "variant" and jobs["winter"]["kind"] == "render"
    LocalExecutor(boards, workers=1, mode="thread").run_until_empty(
        [j["id"] for j in jobs.values()], timeout_s=120
    )
    st = bg_state(d)
    var = {v["variant"]: v for v in st["versions"] if v["variant"]}
    assert set(var) == {"evening", "winter"}
    assert all(v["parent_id"] == approved["id"] for v in var.values())
    assert st["current_version_id"] == st["approved_version_id"]  # a variant does not replace the BG
    # winter: a fresh render of the same layout, same seed, the direction's season replaced
    rec = var["winter"]["recipe"]
    assert rec["kind"] == "render" and rec["seed"] == approved["recipe"]["seed"] == 5
    assert parse_direction(rec["inputs"]["direction"]["text"]).season == "winter"
    # evening: the approved picture's structure, re-voted over the darker repaint
    img = {
        k: load_rgb(d.get(f"/img/v/{v['id']}", params={"w": 0}).content).astype(float) for k, v in var.items()
    }
    parent = load_rgb(d.get(f"/img/v/{approved['id']}", params={"w": 0}).content).astype(float)
    assert img["evening"].mean() < parent.mean() - 30
    corr = np.corrcoef(img["evening"].mean(2).ravel(), parent.mean(2).ravel())[0, 1]
    assert corr > 0.5  # same structure, other light
    assert img["winter"].mean() > parent.mean() + 20  # painted from the pale 'snowy' board
    page = d.get("/cut/c001").text
    side = page[page.index('id="variants"') :]
    assert (
        side.index("approved r") < side.index('data-variant="winter"') < side.index('data-variant="evening"')
    )
    assert (
        "re-rendered from the &#39;winter&#39; boards" in page and "re-voted over the aligned repaint" in page
    )
    # approve each on its own; the BG's approval stays
    for tag in ("winter", "evening"):
        st = bg_state(d)
        r = d.post(
            f"/cut/c001/variants/{var[tag]['id']}/approve",
            data={"csrf_token": tok, "lock_version": st["lock_version"]},
        )
        assert r.status_code == 303
        assert var[tag]["id"] in bg_state(d)["approved_variants"]
    st = bg_state(d)
    assert sorted(st["approved_variants"]) == sorted(v["id"] for v in var.values())
    assert st["status"] == "approved" and st["approved_version_id"] == approved["id"]


def test_sd_configured_builds_an_img2img_variant_spec(boards) -> None:
    from haikei.services.review import approve, bg_detail
    from haikei.services.review_variants import variant_options, variant_specs
    from haikei.services.users import get_user

    d = bg_detail(boards, "c001")
    approve(boards, get_user(boards, "dir"), "c001", d.versions[0].id, d.bg.lock_version)
    with_sd = dataclasses.replace(
        boards, settings=boards.settings.model_copy(update={"engines": {"sd": {"model": "local"}}})
    )
    assert "autumn" not in variant_options(boards, "c001")
    opts = variant_options(with_sd, "c001")
    assert opts["autumn"].method == "sd" and opts["winter"].method == "rerender"  # a board beats sd
    (spec,), _, approved_id = variant_specs(with_sd, "c001", ["autumn"], "dir")
    assert (spec.kind, spec.engine, spec.variant, spec.parent_version_id) == (
        "variant",
        "sd",
        "autumn",
        approved_id,
    )
    assert spec.seed == d.versions[0].recipe["seed"]
    assert parse_direction(spec.direction or "").season == "autumn"


@pytest.mark.parametrize(
    "text,tag,want",
    [
        ("秋の午後、快晴、山道", "winter", dict(season="winter", time_of_day="afternoon", weather="clear")),
        ("秋の午後、快晴、山道", "evening", dict(season="autumn", time_of_day="evening", weather="clear")),
        ("summer morning, clear sky, rice paddies", "night", dict(season="summer", time_of_day="night")),
        ("", "winter", dict(season="winter", time_of_day=None)),
        ("秋の夕方、逆光、雨なし、なんとか", "spring", dict(season="spring", light="backlit")),
    ],
)
def test_variant_direction_replaces_only_season_or_time(text, tag, want) -> None:
    from haikei.services.review_variants import variant_direction

    before = parse_direction(text) if text else None
    after = parse_direction(variant_direction(text, tag))
    for k, v in want.items():
        assert getattr(after, k) == v, (k, after)
    if before is not None:
        assert set(after.extra_tags) == set(before.extra_tags) and after.avoid == before.avoid
        assert after.free_text == before.free_text and not after.notes


def test_render_with_a_parent_records_lineage_but_paints_fresh(boards) -> None:
    from haikei.services.rendering import RenderSpec, prepare
    from haikei.services.review import bg_detail

    d = bg_detail(boards, "c001")
    parent = d.versions[0].id
    fresh = prepare(
        boards,
        RenderSpec(bg="c001", engine="baseline", kind="render", parent_version_id=parent, variant="winter"),
    )
    assert fresh.request.init is None and fresh.request.variant is None
    assert fresh.inputs["parent_version_id"] == parent
    refine = prepare(
        boards, RenderSpec(bg="c001", engine="baseline", kind="refine", parent_version_id=parent)
    )
    assert refine.request.init is not None


def test_a_variant_of_a_painted_over_bg_says_it_needs_the_paint_over_again(boards, clients) -> None:
    """Re-rendering the layout for 'winter' cannot carry the artist's paint-over: the offer says
    so, and the made variant is flagged on the page and by `haikei status`."""
    import json

    from typer.testing import CliRunner

    from haikei.cli.main import build_app
    from haikei.jobs.local import LocalExecutor
    from tests.web.test_review_api import painted_over

    d, tok = clients("dir")
    h = {"X-CSRF-Token": tok}
    st = bg_state(d)
    parent = st["versions"][0]["id"]
    r = d.post(
        "/api/bgs/c001/paintover",
        data={"version_id": parent, "lock_version": st["lock_version"]},
        files={"file": ("over.png", png_bytes(painted_over(boards, parent)), "image/png")},
        headers=h,
    )
    assert r.status_code == 200, r.text
    human = r.json()
    st = bg_state(d)
    d.post(
        "/api/bgs/c001/approve",
        json={"version_id": human["id"], "lock_version": st["lock_version"]},
        headers=h,
    )
    st = bg_state(d)
    winter = st["variant_options"]["winter"]
    assert winter["needs_paint_over_again"] is True
    assert f"r{human['revision']}'s paint-over is not carried over: needs paint-over again" in winter["label"]
    jobs = d.post(
        "/api/bgs/c001/variants", json={"tags": ["winter"], "lock_version": st["lock_version"]}, headers=h
    )
    assert jobs.status_code == 200, jobs.text
    LocalExecutor(boards, workers=1, mode="thread").run_until_empty(
        [j["id"] for j in jobs.json()], timeout_s=60
    )
    assert "needs paint-over again</span>" in d.get("/cut/c001").text
    out = CliRunner().invoke(build_app(), ["status", "-p", str(boards.root), "--json"])
    rows = {r["bg"]: r for r in json.loads(out.output)["backgrounds"]}
    assert rows["c001"]["variants_needing_paint_over"] == ["winter"]
    assert rows["c002"]["variants_needing_paint_over"] == []

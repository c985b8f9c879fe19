"""Locations, services directly: set from the cut sheet and by hand; approval makes a location
board (consent chain, paint-over confirmation, replacement); renders paint from it first; credits
and C2PA name everyone in the chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from haikei.domain.cutsheet import read_cut_sheet
from haikei.errors import ConsentError, InputError, NotFoundError
from haikei.imaging.io import load_rgb, png_bytes
from haikei.services.artboards import get_artboard
from haikei.services.locations import (
    confirm_painters,
    list_locations,
    location_detail,
    set_derived_use,
    set_location,
)
from haikei.services.rendering import render_backgrounds
from haikei.services.review import approve, bg_detail, upload_paintover
from haikei.services.users import get_user
from haikei.store.tables import ArtBoardRow, BackgroundRow, LocationBoardRecordRow, VersionRow
from tests.conftest import snapshot


def _approve(ctx, ref: str, version_id: int, *, confirm: bool = False) -> None:
    d = bg_detail(ctx, ref)
    approve(ctx, get_user(ctx, "haruka"), ref, version_id, d.bg.lock_version, confirm_painters=confirm)


def _render(ctx, ref: str, n: int = 1, seed: int = 0):
    return render_backgrounds(ctx, [ref], engine="exemplar", candidates=n, seed=seed, actor="aki")


def _boards(ctx) -> list[ArtBoardRow]:
    with ctx.db.session() as s:
        return list(
            s.scalars(
                select(ArtBoardRow).where(ArtBoardRow.location_id.is_not(None)).order_by(ArtBoardRow.id)
            )
        )


def _recipe(ctx, version_id: int) -> dict:
    with ctx.db.session() as s:
        v = s.get(VersionRow, version_id)
        assert v is not None
        return dict(v.recipe)


# -- 1. locations -----------------------------------------------------------------------------


def test_cut_sheet_location_column_sets_the_bgs_location(place, tmp_path: Path) -> None:
    locs = list_locations(place)
    assert [(loc.name, loc.bgs, loc.boards) for loc in locs] == [("house", ["c001", "c002"], 0)]
    # the column's names: location / 場所 / 舞台; a bad name is refused naming the line
    sheet = tmp_path / "s.csv"
    sheet.write_text("cut,舞台\nc010,駅前\nc011,a/b\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"s.csv: line 3: location 'a/b'"):
        read_cut_sheet(sheet)
    sheet.write_text("cut,location\nc010,駅前\n", encoding="utf-8")
    assert read_cut_sheet(sheet)[0].location == "駅前"


def test_set_and_clear_a_location_by_hand(place) -> None:
    assert set_location(place, "c003", "station", actor="haruka") == "station"
    assert set_location(place, "c003", "house") == "house"  # at most one location: it moves
    assert {loc.name: loc.bgs for loc in list_locations(place)} == {
        "house": ["c001", "c002", "c003"],
        "station": [],
    }
    assert set_location(place, "c003", None) is None
    with pytest.raises(InputError, match="not at any location"):
        set_location(place, "c003", None)
    before = snapshot(place)
    for bad in ("", "  ", "a/b", "x" * 101):
        with pytest.raises(InputError):
            set_location(place, "c003", bad)
    with pytest.raises(NotFoundError):
        set_location(place, "c999", "house")
    assert snapshot(place) == before  # a refused request stores nothing
    with pytest.raises(NotFoundError, match="no location 'nowhere'"):
        location_detail(place, "nowhere")


# -- 2. approval makes a location board; re-approval replaces it ------------------------------


def test_approving_a_located_bg_makes_its_location_board(place) -> None:
    (v,) = _render(place, "c001")
    blobs_before = place.blobs.snapshot()
    _approve(place, "c001", v.id)
    # the board is the stored pixels; one new blob: its labels (the region map without the ink)
    assert len(set(place.blobs.snapshot()) - set(blobs_before)) == 1
    (board,) = _boards(place)
    with place.db.session() as s:
        ver = s.get(VersionRow, v.id)
        bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == "c001")).unique().one()
        from haikei.store.tables import LayoutRow

        layout = s.get(LayoutRow, ver.layout_id)
    assert board.image_blob == ver.image_blob
    from haikei.domain.vocabulary import UNLABELLED
    from haikei.imaging.io import load_gray, load_region_map

    labels = load_region_map(place.blobs.get(board.labels_blob), place.vocabulary)
    regions = load_region_map(place.blobs.get(layout.regions_blob), place.vocabulary)
    ink = load_gray(place.blobs.get(layout.lines_blob)) < 128
    assert ink.any() and (labels[ink] == UNLABELLED).all()
    kept = labels != UNLABELLED
    assert (labels[kept] == regions[kept]).all() and kept.mean() > 0.5
    assert board.source_version_id == v.id and board.location_id == bg.location_id
    assert board.consent and board.allows_derived_use and board.retired_at is None
    assert board.tags == ["evening", "summer"]  # from c001's direction 夏の夕方
    assert board.classes == ["grass", "mountain", "sky"]
    assert [c["name"] for c in board.chain] == ["tiny"]  # what the exemplar painted from
    assert {p["name"] for p in board.painters} == {"Aki Tanaka"}
    d = location_detail(place, "house")
    by = {b.name: b for b in d.bgs}
    assert by["c001"].board == board.name and by["c001"].why_no_board == ""
    assert by["c002"].why_no_board == "not approved yet"
    # a BG without a location: approved, no board, no record
    (v3,) = _render(place, "c003")
    _approve(place, "c003", v3.id)
    assert len(_boards(place)) == 1


def test_reapproval_replaces_the_board_and_old_renders_keep_it(place) -> None:
    a, b = _render(place, "c001", n=2)
    _approve(place, "c001", a.id)
    (first,) = _boards(place)
    (v2,) = _render(place, "c002")  # painted from the first board
    assert [x["id"] for x in _recipe(place, v2.id)["inputs"]["location"]["boards"]] == [first.id]
    _approve(place, "c001", b.id)
    old, new = _boards(place)
    assert old.id == first.id and old.retired_at is not None  # kept, retired
    assert new.retired_at is None and new.source_version_id == b.id and new.name == "house/c001-r2"
    # the render that used the old board still names it; a new render uses the new one
    assert _recipe(place, v2.id)["inputs"]["location"]["boards"][0]["id"] == old.id
    (v2b,) = _render(place, "c002", seed=5)
    assert [x["id"] for x in _recipe(place, v2b.id)["inputs"]["location"]["boards"]] == [new.id]
    # approving the same version again keeps its board (no duplicate)
    _approve(place, "c001", b.id)
    assert len(_boards(place)) == 2
    shown = location_detail(place, "house").boards
    assert [x["retired_at"] is None for x in shown] == [True, False]  # newest first


# -- 3. consent follows the chain -------------------------------------------------------------


def test_no_board_without_derived_use_and_show_says_why(place) -> None:
    set_derived_use(place, "tiny", False)
    (v,) = _render(place, "c001")
    _approve(place, "c001", v.id)
    assert bg_detail(place, "c001").bg.approved_version_id == v.id  # approved all the same
    assert _boards(place) == []
    why = {b.name: b.why_no_board for b in location_detail(place, "house").bgs}["c001"]
    assert "'tiny' (Aki Tanaka)" in why and "derived use" in why
    # c002 is painted from the production's boards as before (no location board)
    (v2,) = _render(place, "c002")
    assert "location" not in _recipe(place, v2.id)["inputs"]
    # the painter agrees later: the director confirms and the board is made
    set_derived_use(place, "tiny", True)
    rec = confirm_painters(place, get_user(place, "haruka"), "c001")
    assert rec.outcome == "board" and len(_boards(place)) == 1
    # withdrawing derived use on the chain makes the location board unusable for new renders
    set_derived_use(place, "tiny", False)
    (v2b,) = _render(place, "c002", seed=9)
    assert "location" not in _recipe(place, v2b.id)["inputs"]
    shown = location_detail(place, "house").boards[0]
    assert not shown["usable"] and "no longer allows derived use" in shown["why_not"]
    with pytest.raises(InputError, match="location board"):
        set_derived_use(place, shown["name"], True)


def _paint_over(ctx, ref: str, version_id: int) -> int:
    d = bg_detail(ctx, ref)
    img = load_rgb(ctx.blobs.get(next(v for v in d.versions if v.id == version_id).image_blob))
    painted = img.copy()
    painted[2:10, 30:50] = (250, 190, 120)
    v = upload_paintover(
        ctx, get_user(ctx, "yuki"), ref, version_id, d.bg.lock_version, png_bytes(painted), "po.png", "warmer"
    )
    return v.id


def test_paint_over_needs_the_directors_confirmation(place) -> None:
    (v,) = _render(place, "c001")
    po = _paint_over(place, "c001", v.id)
    _approve(place, "c001", po)  # no confirmation
    assert _boards(place) == []
    why = {b.name: b.why_no_board for b in location_detail(place, "house").bgs}["c001"]
    assert "painted over by Yuki Ito" in why and "haikei location confirm c001 --as DIRECTOR" in why
    _approve(place, "c001", po, confirm=True)
    (board,) = _boards(place)
    with place.db.session() as s:
        rec = s.scalars(select(LocationBoardRecordRow).order_by(LocationBoardRecordRow.id.desc())).first()
    assert rec.outcome == "board" and rec.painters == ["yuki"]
    assert rec.painters_confirmed_by == "haruka" and rec.painters_confirmed_at is not None
    assert board.image_blob == next(x for x in bg_detail(place, "c001").versions if x.id == po).image_blob
    assert {(p["name"], p["role"]) for p in board.painters} == {
        ("Yuki Ito", "paint_over"),
        ("Aki Tanaka", "art_board"),
    }
    assert "confirmed by Haruka Aoki" in board.licence
    shown = {b.name: b for b in location_detail(place, "house").bgs}["c001"]
    assert shown.painters_confirmed_by == "Haruka Aoki"
    # approved again without the confirmation: its board stands (it was confirmed when made)
    _approve(place, "c001", po)
    shown = {b.name: b for b in location_detail(place, "house").bgs}["c001"]
    assert shown.board == board.name and shown.why_no_board == "" and len(_boards(place)) == 1
    assert shown.painters_confirmed_by == "Haruka Aoki"


# -- 4. renders prefer their location's boards ------------------------------------------------


def test_render_paints_location_classes_from_the_location_board(place) -> None:
    (before,) = _render(place, "c002")  # no board yet: exactly as without locations
    assert "location" not in _recipe(place, before.id)["inputs"]
    (v,) = _render(place, "c001")
    _approve(place, "c001", v.id)
    (board,) = _boards(place)
    (v2,) = _render(place, "c002")
    r = _recipe(place, v2.id)
    loc = r["inputs"]["location"]
    assert loc["name"] == "house" and loc["classes"] == ["grass", "mountain", "sky"]
    assert loc["boards"][0]["chain"][0]["name"] == "tiny" and loc["boards"][0]["source_version_id"] == v.id
    # 'tiny' shows only the location's classes: not needed; 'lake' is handed over whole, leaving
    # its sky to the location board (withheld), under its own image's key
    listed = {a["name"]: a for a in r["inputs"]["artboards"]}
    assert list(listed) == [board.name, "lake"]
    assert listed["lake"]["withheld"] == ["sky"] and "withheld" not in listed[board.name]
    assert listed["lake"]["hash"] == get_artboard(place, "lake").image_blob
    classes = r["engine_recipe"]["classes"]
    for c in ("sky", "mountain", "grass"):
        assert classes[c]["boards"] == [board.image_blob], c
    assert classes["water"]["boards"] == [listed["lake"]["hash"]]  # the rest from the production's boards
    # the service marks the location board, so the engine paints its classes in the board's tones
    assert set(r["engine_recipe"]["location_match"]) == {"grass", "mountain", "sky"}
    # the painting: the location's classes carry the location board's colours
    img = load_rgb(
        place.blobs.get(next(x for x in bg_detail(place, "c002").versions if x.id == v2.id).image_blob)
    )
    assert img.shape == (40, 64, 3)
    # a BG without a location renders as before
    (v3,) = _render(place, "c003")
    assert "location" not in _recipe(place, v3.id)["inputs"]


def test_credits_and_c2pa_name_everyone_in_the_chain(place, tmp_path: Path) -> None:
    import c2pa

    from haikei.provenance.c2pa_sign import verify
    from haikei.provenance.credits import build_credits, format_credits
    from haikei.provenance.keys import init_keys
    from haikei.services.delivery import credits_input, export

    (v,) = _render(place, "c001")
    po = _paint_over(place, "c001", v.id)
    _approve(place, "c001", po, confirm=True)
    (board,) = _boards(place)
    (v2,) = _render(place, "c002")
    _approve(place, "c002", v2.id)
    credits = build_credits(credits_input(place, ["c002"]))
    text = format_credits(credits, "text")
    painters = {p.name: p for r in credits.roles if r.role == "art_board" for p in r.people}
    assert set(painters) == {"Aki Tanaka", "Yuki Ito", "Mei Sato"}, text
    assert painters["Aki Tanaka"].boards == ("tiny",) and painters["Yuki Ito"].boards == (board.name,)
    init_keys(place.root / "keys", org="Test Studio")
    out = tmp_path / "d"
    export(place, out, cuts=["c002"], only_approved=True)
    png = next(out.glob("*c002*.png"))
    rep = verify(png, trust_anchors=(place.root / "keys" / "root-ca.pem").read_bytes())
    assert rep.valid, rep.errors
    ing = {i.title: i for i in rep.ingredients}
    assert board.name in ing and "lake" in ing
    # the location board ingredient carries its own manifest: its ingredients are its chain
    reader = c2pa.Reader("image/png", png.open("rb"))
    store = json.loads(reader.json())
    active = store["manifests"][store["active_manifest"]]
    loc_ing = next(i for i in active["ingredients"] if i["title"] == board.name)
    meta = loc_ing["metadata"]
    assert meta["org.haikei.location_board"] is True
    assert set(meta["org.haikei.painters"]) == {"Yuki Ito", "Aki Tanaka"}
    assert [m["title"] for m in meta["org.haikei.madeFrom"]] == ["tiny"]
    own = store["manifests"][loc_ing["active_manifest"]]
    assert [i["title"] for i in own["ingredients"]] == ["tiny"]
    assert own["ingredients"][0]["metadata"]["org.haikei.artist"] == "Aki Tanaka"
    steps = next(a for a in own["assertions"] if a["label"].startswith("c2pa.actions"))["data"]["actions"]
    assert any(a.get("parameters", {}).get("org.haikei.artist") == "Yuki Ito" for a in steps)


def test_delivery_refuses_when_the_chain_withdraws_consent(place, tmp_path: Path) -> None:
    from haikei.provenance.keys import init_keys
    from haikei.services.artboards import set_consent
    from haikei.services.delivery import export

    (v,) = _render(place, "c001")
    _approve(place, "c001", v.id)
    (v2,) = _render(place, "c002")
    init_keys(place.root / "keys", org="Test Studio")
    set_consent(place, "tiny", False)
    with pytest.raises(ConsentError, match="location board 'house/c001-r1'"):
        export(place, tmp_path / "d", cuts=["c002"])
    assert not (tmp_path / "d").exists() or not any((tmp_path / "d").iterdir())
    del v2


def test_a_cut_sheet_does_not_move_a_bg_a_person_placed(place, tmp_path: Path) -> None:
    """Re-importing a changed layout with the sheet's location keeps a person's choice, and says so."""
    from haikei.imaging.io import load_gray, save_png
    from haikei.services.intake import import_folder

    assert set_location(place, "c001", "station") == "station"
    lo = tmp_path / "layouts"  # the fixture's folder: change c001's lines so it is imported again
    lines = load_gray(lo / "c001_lo.png").copy()
    lines[5:7, 5:20] = 0
    save_png(lo / "c001_lo.png", lines)
    report = import_folder(place, lo, artist="Kenji Mori")
    assert any("c001" in n and "'house'" in n and "kept" in n for n in report.notes), report.notes
    assert {loc.name: loc.bgs for loc in list_locations(place)}["station"] == ["c001"]

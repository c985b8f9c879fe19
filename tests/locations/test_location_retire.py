"""A BG that leaves approved retires its location board: reopened for a retake, rejected (its
approval withdrawn), or reopened by a paint-over or a refine. The board row stays (renders that
used it keep pointing at it); the place's other cuts stop painting from it; `haikei location show`,
its JSON and the location page say which board was retired, why, by whom and when."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from haikei.imaging.io import png_bytes
from haikei.services.locations import location_detail
from haikei.services.rendering import render_backgrounds
from haikei.services.review import approve, bg_detail, reject, request_retake, upload_paintover
from haikei.services.users import get_user
from haikei.store.tables import ArtBoardRow, LocationBoardRecordRow, VersionRow
from tests.foundation.cli import run_cli
from tests.locations.conftest import H, W


def _render(ctx, ref: str, seed: int = 0):  # type: ignore[no-untyped-def]
    (v,) = render_backgrounds(ctx, [ref], engine="exemplar", candidates=1, seed=seed, actor="aki")
    return v


def _approve(ctx, ref: str, vid: int) -> None:  # type: ignore[no-untyped-def]
    approve(ctx, get_user(ctx, "haruka"), ref, vid, bg_detail(ctx, ref).bg.lock_version)


def _boards(ctx) -> list[ArtBoardRow]:  # type: ignore[no-untyped-def]
    with ctx.db.session() as s:
        rows = (
            s.query(ArtBoardRow).filter(ArtBoardRow.location_id.is_not(None)).order_by(ArtBoardRow.id).all()
        )
        s.expunge_all()
        return rows


def _location_of(ctx, vid: int):  # type: ignore[no-untyped-def]
    with ctx.db.session() as s:
        return (s.get(VersionRow, vid).recipe["inputs"] or {}).get("location")


def test_a_retake_note_retires_the_board_and_show_says_so(place, capsys: pytest.CaptureFixture[str]) -> None:
    v1 = _render(place, "c001")
    _approve(place, "c001", v1.id)
    (board,) = _boards(place)
    v2 = _render(place, "c002")
    assert _location_of(place, v2.id)["boards"][0]["id"] == board.id
    mask = np.zeros((H, W), np.uint8)
    mask[5:15, 10:30] = 255
    request_retake(
        place,
        get_user(place, "haruka"),
        "c001",
        v1.id,
        bg_detail(place, "c001").bg.lock_version,
        png_bytes(mask),
        "the sky is too dark",
    )
    (after,) = _boards(place)
    assert after.id == board.id and after.retired_at is not None  # the row stays, retired
    with place.db.session() as s:
        rec = s.query(LocationBoardRecordRow).order_by(LocationBoardRecordRow.id.desc()).first()
        assert (rec.outcome, rec.artboard_id, rec.version_id) == ("retired", board.id, v1.id)
    # the render that used it keeps pointing at it; a new render of the place no longer uses it
    assert _location_of(place, v2.id)["boards"][0]["id"] == board.id
    assert _location_of(place, _render(place, "c002", seed=3).id) is None
    # what the place says: the service, the CLI (text and JSON)
    by = {b.name: b for b in location_detail(place, "house").bgs}
    assert by["c001"].board is None
    assert re.fullmatch(
        r"board house/c001-r1 retired: c001 was reopened for a retake by Haruka Aoki at \S+ \S+ UTC",
        by["c001"].why_no_board,
    ), by["c001"].why_no_board
    code, out, err = run_cli(["location", "show", "house", "-p", str(place.root)], capsys)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "board house/c001-r1 (retired: c001 was reopened for a retake by Haruka Aoki" in flat, out
    code, out, err = run_cli(["location", "show", "house", "--json", "-p", str(place.root)], capsys)
    shown = json.loads(out)
    assert shown["boards"][0]["retired_why"].startswith("c001 was reopened for a retake by Haruka Aoki")
    assert shown["bgs"][0]["why_no_board"].startswith("board house/c001-r1 retired: c001 was reopened")
    # approved again: a new board row (boards are immutable), the BG's record says so
    _approve(place, "c001", v1.id)
    old, new = _boards(place)
    assert old.id == board.id and old.retired_at is not None
    assert new.retired_at is None and new.source_version_id == v1.id and new.name == "house/c001-r1-2"
    assert {b.name: b for b in location_detail(place, "house").bgs}["c001"].board == new.name


def test_a_rejection_withdraws_the_approval_and_retires_the_board(place) -> None:
    v1 = _render(place, "c001")
    _approve(place, "c001", v1.id)
    reject(
        place,
        get_user(place, "haruka"),
        "c001",
        bg_detail(place, "c001").bg.lock_version,
        "wrong season",
        version_id=v1.id,
    )
    (board,) = _boards(place)
    assert board.retired_at is not None
    d = location_detail(place, "house")
    c001 = next(b for b in d.bgs if b.name == "c001")
    assert c001.approved_revision is None and c001.status == "retake"
    assert "retired: c001 was rejected (approval withdrawn) by Haruka Aoki" in c001.why_no_board
    assert d.boards[0]["retired_why"].startswith("c001 was rejected (approval withdrawn) by Haruka Aoki")
    # rejecting a BG that has no board retires nothing and records nothing
    v3 = _render(place, "c003")
    reject(place, get_user(place, "haruka"), "c003", bg_detail(place, "c003").bg.lock_version, "no", v3.id)
    with place.db.session() as s:
        assert s.query(LocationBoardRecordRow).filter_by(outcome="retired").count() == 1


def test_a_paint_over_reopens_the_bg_and_retires_its_board_the_page_says_so(place) -> None:
    from fastapi.testclient import TestClient

    from haikei.web import create_app
    from tests.locations.test_location_pages import _login

    v1 = _render(place, "c001")
    _approve(place, "c001", v1.id)
    assert len(_boards(place)) == 1
    from haikei.imaging.io import load_rgb

    img = load_rgb(place.blobs.get(v1.image_blob)).copy()
    img[2:10, 30:50] = (250, 190, 120)
    lock = bg_detail(place, "c001").bg.lock_version
    upload_paintover(place, get_user(place, "yuki"), "c001", v1.id, lock, png_bytes(img), "po.png")
    (after,) = _boards(place)
    assert after.retired_at is not None and bg_detail(place, "c001").bg.status == "wfa"
    with TestClient(create_app(place, secret_key="test-secret-key")) as c:
        _login(c, "haruka")
        page = c.get("/location/house").text
    row = re.search(r'<tr class="retired" data-board="house/c001-r1">(.*?)</tr>', page, re.S)
    assert row, page
    assert "c001 was reopened by a paint-over (r2) by Yuki Ito" in row.group(1)
    assert re.search(r'data-bg="c001".*?no board: board house/c001-r1 retired: c001 was reopened', page, re.S)

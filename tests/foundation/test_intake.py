from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from haikei.domain.vocabulary import UNLABELLED
from haikei.errors import ImageError, InputError, RegionMapError
from haikei.imaging.io import encode_region_map, load_gray, load_region_map, save_png
from haikei.services.intake import import_folder, label_regions_at
from haikei.store.tables import BackgroundRow, CutRow, LayoutRow
from tests.conftest import VOCAB, snapshot, write_layout
from tests.engines.contract import tiny_layout


def _layouts(ctx, bg: str) -> list[LayoutRow]:
    with ctx.db.session() as s:
        b = s.scalars(select(BackgroundRow).where(BackgroundRow.name == bg)).unique().one()
        return list(
            s.scalars(select(LayoutRow).where(LayoutRow.background_id == b.id).order_by(LayoutRow.revision))
        )


def test_import_conventions_and_shared_bg(production, layouts_dir: Path) -> None:
    rep = import_folder(production, layouts_dir, artist="Kenji Mori")
    assert rep.added_cuts == ["c001", "c002", "c003", "c004"]
    assert rep.added_backgrounds == ["c001", "c002", "c003-c004"]
    with production.db.session() as s:
        cuts = {c.number: c.background.name for c in s.scalars(select(CutRow))}
        notes = s.scalars(select(CutRow).where(CutRow.number == "c001")).one().notes
    assert cuts == {"c001": "c001", "c002": "c002", "c003": "c003-c004", "c004": "c003-c004"}
    assert notes == "opening"
    lay = _layouts(production, "c001")[0]
    assert lay.labelled and lay.artist == "Kenji Mori"
    assert np.array_equal(load_region_map(production.blobs.get(lay.regions_blob), VOCAB), tiny_layout()[1])


def test_reimport_is_idempotent_and_changed_file_is_new_revision(production, layouts_dir: Path) -> None:
    import_folder(production, layouts_dir)
    before = snapshot(production)
    rep = import_folder(production, layouts_dir)
    assert rep.new_layouts == [] and sorted(rep.unchanged) == ["c001", "c002", "c003-c004"]
    assert snapshot(production) == before
    lines = load_gray(layouts_dir / "c002_lo.png")
    lines[5, 5:20] = 0
    save_png(layouts_dir / "c002_lo.png", lines)
    rep = import_folder(production, layouts_dir)
    assert rep.new_layouts == [("c002", 2)]
    assert [r.revision for r in _layouts(production, "c002")] == [1, 2]


def test_pan_from_cut_sheet(production, tmp_path: Path) -> None:
    d = tmp_path / "pan"
    d.mkdir()
    write_layout(d, "c010", h=40, w=128)
    (d / "cutsheet.csv").write_text("cut,width,height,pan_length,pan_direction\nc010,64,40,128,left\n")
    import_folder(production, d)
    with production.db.session() as s:
        bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == "c010")).unique().one()
        cut = s.scalars(select(CutRow).where(CutRow.number == "c010")).one()
        assert (bg.width, bg.height) == (128, 40)
        assert (cut.width, cut.height, cut.pan_length, cut.pan_direction) == (64, 40, 128, "left")


def test_layout_at_double_resolution_is_resampled_and_recorded(production, tmp_path: Path) -> None:
    d = tmp_path / "hi"
    d.mkdir()
    write_layout(d, "c020", h=80, w=128)
    import_folder(production, d)
    lay = _layouts(production, "c020")[0]
    assert load_gray(production.blobs.get(lay.lines_blob)).shape == (40, 64)
    assert lay.cleanup["resampled"][0]["from"] == [128, 80]


def test_wrong_aspect_refused(production, tmp_path: Path) -> None:
    d = tmp_path / "bad"
    d.mkdir()
    write_layout(d, "c021", h=64, w=64)
    before = snapshot(production)
    with pytest.raises(ImageError, match="aspect ratio"):
        import_folder(production, d)
    assert snapshot(production) == before


def test_bad_file_anywhere_leaves_everything_unchanged(production, layouts_dir: Path) -> None:
    rgb = encode_region_map(tiny_layout()[1], VOCAB)
    rgb[0, 0] = (9, 9, 9)
    save_png(layouts_dir / "c002_regions.png", rgb)
    before = snapshot(production)
    with pytest.raises(RegionMapError, match=r"c002_regions.png: colour \(9, 9, 9\)"):
        import_folder(production, layouts_dir)
    assert snapshot(production) == before  # c001 and c003-c004 were good, but nothing was written
    (layouts_dir / "c002_regions.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(ImageError, match=r"c002_regions\.png"):
        import_folder(production, layouts_dir)
    assert snapshot(production) == before


def test_duplicate_role_refused(production, layouts_dir: Path) -> None:
    (layouts_dir / "c001.png").write_bytes((layouts_dir / "c001_lo.png").read_bytes())
    before = snapshot(production)
    with pytest.raises(InputError, match="second lines file"):
        import_folder(production, layouts_dir)
    assert snapshot(production) == before


def test_missing_region_map_then_label(production, tmp_path: Path) -> None:
    d = tmp_path / "nolabel"
    d.mkdir()
    write_layout(d, "c030", regions=False)
    rep = import_folder(production, d)
    assert rep.unlabelled == ["c030"]
    lay = _layouts(production, "c030")[0]
    assert not lay.labelled
    ids = load_region_map(production.blobs.get(lay.regions_blob), VOCAB)
    assert (ids == UNLABELLED).all()
    # the tiny layout has sky on top, mountain band, grass at the bottom, separated by strokes
    rev, left = label_regions_at(production, "c030", ["sky@5,2", "mountain@5,20"])
    assert rev == 2 and left > 0
    rev, left = label_regions_at(production, "c030", ["grass@5,38"])
    assert rev == 3 and left == 0
    lay = _layouts(production, "c030")[-1]
    assert lay.labelled
    ids = load_region_map(production.blobs.get(lay.regions_blob), VOCAB)
    assert ids[2, 5] == VOCAB.id_of("sky") and ids[38, 5] == VOCAB.id_of("grass")
    # re-import of the unchanged file keeps the labels
    assert import_folder(production, d).unchanged == ["c030"]


def test_label_errors(production, tmp_path: Path) -> None:
    d = tmp_path / "nl"
    d.mkdir()
    write_layout(d, "c031", regions=False)
    import_folder(production, d)
    before = snapshot(production)
    with pytest.raises(InputError):
        label_regions_at(production, "c031", ["spaceship@1,1"])
    with pytest.raises(InputError, match="outside"):
        label_regions_at(production, "c031", ["sky@500,1"])
    assert snapshot(production) == before


def test_not_a_folder(production, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        import_folder(production, tmp_path / "nope")

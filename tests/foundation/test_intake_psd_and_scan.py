"""haikei import with a layered PSD layout and with a scanned paper layout (service level)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from psd_tools import PSDImage
from psd_tools.api.layers import PixelLayer
from sqlalchemy import select

from haikei.domain.vocabulary import UNLABELLED
from haikei.imaging.io import load_gray, load_region_map, save_png
from haikei.services.intake import import_folder
from haikei.store.tables import BackgroundRow, LayoutRow
from tests.conftest import VOCAB
from tests.engines.contract import tiny_layout
from tests.intake._intake_synth import draw_sheet, simulate_scan


def _latest(ctx, bg: str) -> LayoutRow:
    with ctx.db.session() as s:
        b = s.scalars(select(BackgroundRow).where(BackgroundRow.name == bg)).unique().one()
        return s.scalars(
            select(LayoutRow).where(LayoutRow.background_id == b.id).order_by(LayoutRow.revision.desc())
        ).first()


def test_layered_psd_layout(production, tmp_path: Path) -> None:
    lines, reg = tiny_layout()
    h, w = lines.shape
    psd = PSDImage.new("RGB", (w, h), color=(255, 255, 255))
    ink = np.zeros((h, w, 4), np.uint8)
    ink[..., 3] = 255 - lines
    regions_rgba = np.dstack([np.array(VOCAB.colour_table(), np.uint8)[reg], np.full((h, w), 255, np.uint8)])
    book = np.zeros((h, w, 4), np.uint8)
    book[30:, 40:] = (20, 20, 20, 255)
    for name, arr in (("regions", regions_rgba), ("lines", ink), ("BOOK", book)):
        layer = PixelLayer.frompil(Image.fromarray(arr, "RGBA"), psd, "layer")
        psd.append(layer)
        layer.name = name
    d = tmp_path / "psd"
    d.mkdir()
    psd.save(d / "ep01_c040.psd")
    rep = import_folder(production, d)
    assert rep.added_cuts == ["c040"] and rep.unlabelled == []
    lay = _latest(production, "c040")
    assert np.array_equal(load_region_map(production.blobs.get(lay.regions_blob), VOCAB), reg)
    got = load_gray(production.blobs.get(lay.lines_blob))
    assert np.abs(got.astype(int) - lines.astype(int)).max() <= 2
    book_mask = load_gray(production.blobs.get(lay.book_blob)) >= 128
    assert book_mask[30:, 40:].all() and not book_mask[:30].any()


def test_scanned_paper_layout_is_cleaned_cropped_and_fitted(tmp_path: Path) -> None:
    from haikei.app import create_production
    from haikei.domain.models import FrameSize

    ctx = create_production(tmp_path / "p", "Scan", FrameSize(480, 270))
    try:
        sheet = draw_sheet(1184, 720)  # frame drawn at 16:9, like a real layout sheet
        scan = simulate_scan(sheet.truth, angle_deg=1.2, seed=1)
        d = tmp_path / "scans"
        d.mkdir()
        save_png(d / "c050_lo.png", scan)
        rep = import_folder(ctx, d)
        assert rep.added_cuts == ["c050"] and rep.unlabelled == ["c050"]
        lay = _latest(ctx, "c050")
        assert (
            lay.cleanup["scan"]["crop_box"] is not None and abs(lay.cleanup["scan"]["angle_deg"] - 1.2) < 0.3
        )
        lines = load_gray(ctx.blobs.get(lay.lines_blob))
        assert lines.shape == (270, 480)
        # clean lines: paper is white, ink is present, the margin notes outside the frame are gone
        assert (lines > 250).mean() > 0.85 and (lines < 128).mean() > 0.005
        ids = load_region_map(ctx.blobs.get(lay.regions_blob), VOCAB)
        assert (ids == UNLABELLED).all()
    finally:
        ctx.close()

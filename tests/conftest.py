"""Shared fixtures: tiny productions built in-test, and a 'nothing changed' snapshot."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import inspect, text

from haikei.domain.models import FrameSize
from haikei.domain.vocabulary import Vocabulary
from haikei.imaging.io import encode_region_map, save_png
from tests.engines.contract import tiny_board, tiny_layout

pytest_plugins = ["tests.pg_cluster"]  # throwaway PostgreSQL: pg_server, pg_url

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

VOCAB = Vocabulary()


def write_board(
    folder: Path, name: str = "board", seed: int = 1, h: int = 48, w: int = 80
) -> tuple[Path, Path]:
    b = tiny_board(seed, h=h, w=w)
    img, lab = folder / f"{name}.png", folder / f"{name}_labels.png"
    save_png(img, b.image)
    save_png(lab, encode_region_map(b.labels, VOCAB))
    return img, lab


def write_layout(folder: Path, stem: str, h: int = 40, w: int = 64, regions: bool = True) -> None:
    lines, reg = tiny_layout(h, w)
    save_png(folder / f"{stem}_lo.png", lines)
    if regions:
        save_png(folder / f"{stem.split('_')[0]}_regions.png", encode_region_map(reg, VOCAB))


def snapshot(ctx: Any) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, int]]:
    """Every row of every table and every file of the blob folder: compare before/after."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with ctx.db.engine.connect() as conn:
        for t in sorted(inspect(conn).get_table_names()):
            rows[t] = [tuple(r) for r in conn.execute(text(f'SELECT * FROM "{t}" ORDER BY 1'))]
    return rows, ctx.blobs.snapshot()


@pytest.fixture
def production(tmp_path: Path):
    """An empty production at 64x40 with one consented tiny art board."""
    from haikei.app import create_production
    from haikei.services.artboards import add_artboard

    ctx = create_production(tmp_path / "prod", "Test Production", FrameSize(64, 40), episode="ep01")
    src = tmp_path / "src"
    src.mkdir()
    img, lab = write_board(src)
    add_artboard(
        ctx, img, lab, name="tiny", tags=["summer"], artist="Aki Tanaka", licence="studio", consent=True
    )
    yield ctx
    ctx.close()


@pytest.fixture
def layouts_dir(tmp_path: Path) -> Path:
    """Layouts for c001, c002 and a BG shared by c003-c004, with a cut sheet."""
    d = tmp_path / "layouts"
    d.mkdir()
    write_layout(d, "c001")
    write_layout(d, "c002")
    lines, reg = tiny_layout(40, 64)
    save_png(d / "c003-c004_lo.png", lines)
    save_png(d / "c003-c004_regions.png", encode_region_map(reg, VOCAB))
    (d / "cutsheet.csv").write_text(
        "cut,width,height,notes\nc001,64,40,opening\nc002,64,40,\n", encoding="utf-8"
    )
    return d


def tiny_ids(h: int = 40, w: int = 64) -> np.ndarray:
    return tiny_layout(h, w)[1]

"""A tiny production with a place two cuts show: c001 and c002 are at 'house' (cut sheet 場所),
c003 is elsewhere. Two production boards: 'tiny' (sky, mountain, grass; Aki Tanaka) and 'lake'
(sky, water; Mei Sato); c002's layout has a pond that only 'lake' shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from haikei.domain.models import FrameSize
from haikei.imaging.io import encode_region_map, save_png
from tests.conftest import VOCAB, write_board, write_layout
from tests.engines.contract import tiny_layout

W, H = 64, 40


def write_lake_board(folder: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    labels = np.full((48, 80), VOCAB.id_of("water"), np.uint8)
    labels[:20] = VOCAB.id_of("sky")
    base = np.array(VOCAB.colour_table(), np.float64)[labels]
    img = np.clip(base * 0.7 + rng.normal(0, 14, (48, 80, 1)), 0, 255).astype(np.uint8)
    save_png(folder / "lake.png", img)
    save_png(folder / "lake_labels.png", encode_region_map(labels, VOCAB))
    return folder / "lake.png", folder / "lake_labels.png"


def write_location_layouts(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    write_layout(d, "c001")
    lines, reg = tiny_layout(H, W)
    reg = reg.copy()
    reg[30:38, 8:40] = VOCAB.id_of("water")  # a pond on the grass
    lines = lines.copy()
    border = np.zeros_like(reg, bool)
    border[:-1] |= reg[:-1] != reg[1:]
    border[:, :-1] |= reg[:, :-1] != reg[:, 1:]
    lines[border] = 0
    save_png(d / "c002_lo.png", lines)
    save_png(d / "c002_regions.png", encode_region_map(reg, VOCAB))
    write_layout(d, "c003")
    (d / "cutsheet.csv").write_text(
        "cut,width,height,場所,notes\nc001,64,40,house,from the road\nc002,64,40,house,from the garden\nc003,64,40,,\n",
        encoding="utf-8",
    )
    return d


@pytest.fixture
def place(tmp_path: Path):
    """The production (boards allow derived use), layouts imported, a director and an artist."""
    from haikei.app import create_production
    from haikei.services.artboards import add_artboard
    from haikei.services.backgrounds import set_direction
    from haikei.services.intake import import_folder
    from haikei.services.users import add_user

    ctx = create_production(tmp_path / "prod", "Location Test", FrameSize(W, H), episode="ep01")
    src = tmp_path / "src"
    src.mkdir()
    img, lab = write_board(src, "tiny")
    add_artboard(
        ctx,
        img,
        lab,
        name="tiny",
        tags=["summer"],
        artist="Aki Tanaka",
        licence="studio",
        consent=True,
        allows_derived_use=True,
    )
    img, lab = write_lake_board(src)
    add_artboard(
        ctx,
        img,
        lab,
        name="lake",
        tags=["summer"],
        artist="Mei Sato",
        licence="CC-BY-SA-4.0",
        consent=True,
        allows_derived_use=True,
    )
    import_folder(ctx, write_location_layouts(tmp_path / "layouts"), artist="Kenji Mori")
    set_direction(ctx, "c001", "夏の夕方")
    add_user(ctx, "haruka", "director", password="haruka-pass-1", display_name="Haruka Aoki")
    add_user(ctx, "yuki", "artist", password="yuki-pass-1", display_name="Yuki Ito")
    yield ctx
    ctx.close()

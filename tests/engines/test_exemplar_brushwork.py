"""Brushwork over palette-painted areas (walls, roads, sand): strokes, their direction, their strength."""

from __future__ import annotations

import numba
import numpy as np
from scipy import ndimage

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import EngineContext, RenderRequest
from haikei.engines.exemplar import create
from haikei.engines.exemplar.brushwork import (
    MAX_CONTRAST,
    MIN_CONTRAST,
    Orientation,
    _stamp_one,
    board_brush_contrast,
    brush_field,
    stroke_orientation,
)
from tests.engines.contract import tiny_board, tiny_layout

VOCAB = Vocabulary()


def _flat(h: int, w: int, angle: float) -> Orientation:
    return Orientation(
        np.full((h, w), np.cos(angle), np.float32), np.full((h, w), np.sin(angle), np.float32), 1
    )


def test_brush_field_is_deterministic_zero_outside_and_independent_of_threads() -> None:
    areas = np.zeros((120, 200), np.int32)
    areas[10:110, 10:100] = 1
    areas[10:110, 100:190] = 2
    one = brush_field(areas, _flat(120, 200, 0.0), np.random.default_rng(3), 16.0, 0.04)
    again = brush_field(areas, _flat(120, 200, 0.0), np.random.default_rng(3), 16.0, 0.04)
    other = brush_field(areas, _flat(120, 200, 0.0), np.random.default_rng(4), 16.0, 0.04)
    assert one.dtype == np.float32 and np.array_equal(one, again) and not np.array_equal(one, other)
    assert (one[areas == 0] == 0).all()
    assert 0.01 < float(one[areas > 0].std()) < 0.08  # about the contrast asked for
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = brush_field(areas, _flat(120, 200, 0.0), np.random.default_rng(3), 16.0, 0.04)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(one, single)
    assert not brush_field(areas, _flat(120, 200, 0.0), np.random.default_rng(3), 16.0, 0.0).any()


def test_a_stroke_stops_at_its_own_areas_edge() -> None:
    """One long stroke centred in area 1 right at the border with area 2 paints area 1 only."""
    areas = np.ones((40, 60), np.int32)
    areas[:, 30:] = 2
    field = np.zeros((40, 60), np.float32)
    f32 = lambda v: np.array([v], np.float32)  # noqa: E731
    _stamp_one(
        field, areas, 0, np.array([20]), np.array([28]), f32(1.0), f32(0.0), f32(12.0), f32(3.0),
        f32(0.5), f32(0.0), f32(0.0), f32(1.0),
    )  # fmt: skip
    assert (field[:, 30:] == 0).all()
    assert (field[20, 17:30] != 0).all()  # along the stroke inside its own area
    assert (field[:15, :] == 0).all() and (field[26:, :] == 0).all()  # no wider than the brush


def test_strokes_run_along_the_areas_outline() -> None:
    """A wide band gets horizontal strokes, a tall one vertical strokes (the tone varies across them)."""
    for tall in (False, True):
        areas = np.zeros((300, 300), np.int32)
        if tall:
            areas[10:290, 120:180] = 1
        else:
            areas[120:180, 10:290] = 1
        orientation = stroke_orientation(areas == 0, 24.0)
        field = brush_field(areas, orientation, np.random.default_rng(1), 12.0, 0.05).astype(np.float64)
        inner = ndimage.binary_erosion(areas > 0, iterations=3)
        dy = (np.diff(field, axis=0)[inner[1:] & inner[:-1]] ** 2).mean()
        dx = (np.diff(field, axis=1)[inner[:, 1:] & inner[:, :-1]] ** 2).mean()
        if tall:
            assert dx > 2.0 * dy
        else:
            assert dy > 2.0 * dx


def test_open_ground_gets_level_strokes() -> None:
    """Far from any outline the strokes lie flat (a ground plane), not at a random angle."""
    edges = np.zeros((200, 200), bool)
    orientation = stroke_orientation(edges, 20.0)
    assert np.allclose(np.abs(orientation.cos), 1.0, atol=1e-3)


def test_board_contrast_ranks_a_rough_board_above_a_smooth_one() -> None:
    rng = np.random.default_rng(2)
    yy = np.linspace(0.3, 0.7, 200, dtype=np.float32)[:, None] * np.ones((1, 300), np.float32)
    smooth = board_brush_contrast(yy)
    rough = board_brush_contrast(yy * (1.0 + 0.12 * rng.standard_normal(yy.shape).astype(np.float32)))
    assert smooth == MIN_CONTRAST
    assert MIN_CONTRAST < rough <= MAX_CONTRAST


def _wall_and_road_request(strength: float) -> RenderRequest:
    # the board's paper grain is off: what is measured is the brushwork alone
    lines, regions = tiny_layout(270, 480)  # a preview-sized frame: strokes a few pixels long
    regions = regions.copy()
    regions[80:190, 30:450] = VOCAB.id_of("wall")
    regions[190:, :] = VOCAB.id_of("road")
    return RenderRequest(
        lines=lines,
        regions=regions,
        boards=(tiny_board(),),
        seed=5,
        vocabulary=VOCAB,
        options={"brush_strength": strength, "texture_strength": 0.0},
    )


def test_palette_areas_are_brushed_not_blotchy() -> None:
    """Walls and roads painted from a palette carry brush-scale detail (not only soft blotches), and
    ``brush_strength`` 0 turns it off."""
    engine = create({})

    def detail(strength: float) -> float:
        req = _wall_and_road_request(strength)
        img = engine.render(req, EngineContext()).image.astype(np.float64).mean(axis=-1)
        inner = ndimage.binary_erosion(
            np.isin(req.regions, [VOCAB.id_of("wall"), VOCAB.id_of("road")]), iterations=3
        )
        inner &= ndimage.binary_erosion(req.lines > 200, iterations=3)
        band = img - ndimage.gaussian_filter(img, 3.0)  # brush-scale detail, below the blotches' size
        return float(band[inner].std())

    assert detail(1.0) > 1.6 * detail(0.0)

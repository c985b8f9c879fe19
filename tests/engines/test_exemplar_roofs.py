"""Roofs no board shows read as thatch or tiles, as the strokes inside them say (engines/exemplar/roofs)."""

from __future__ import annotations

import numpy as np

from haikei.domain.direction import Direction
from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import EngineContext, RenderRequest
from haikei.engines.exemplar.blur import gaussian_blur
from haikei.engines.exemplar.engine import ExemplarEngine
from haikei.engines.exemplar.palettes import board_samples
from haikei.engines.exemplar.roofs import roof_kind, straw_palette, structure_roofs
from haikei.engines.exemplar.structured import Palette
from tests.engines.contract import tiny_board

VOCAB = Vocabulary()
ROOF, GRASS, SKY, WALL = (VOCAB.id_of(n) for n in ("roof", "grass", "sky", "wall"))
GREY = Palette(
    *(
        np.array(v, np.float32)
        for v in ((0.3, 0.33, 0.36), (0.42, 0.45, 0.5), (0.55, 0.58, 0.62), (0.2, 0.2, 0.22))
    )
)


def _roof(strokes: str, h: int = 90, w: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A trapezoid roof over sky; ink 1 on its outline and on ``strokes`` drawn inside it: ``down``
    (thatch strokes down the slope), ``across`` (tile courses along the eaves) or ``none``."""
    regions = np.full((h, w), SKY, np.uint8)
    for y in range(15, 80):
        inset = int(40 - 0.5 * (y - 15))
        regions[y, 10 + inset : w - 10 - inset] = ROOF
    ink = np.zeros((h, w), np.float32)
    edge = np.zeros((h, w), bool)
    edge[:-1] |= regions[:-1] != regions[1:]
    edge[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    ink[edge] = 1.0
    inside = regions == ROOF
    if strokes == "down":
        for x in range(45, 120, 9):
            ink[25:60, x] = 0.6
    elif strokes == "across":
        for y in range(28, 78, 12):
            ink[y, 30:130] = 0.6
    ink[~inside & ~edge] = 0.0
    return regions, ink


def _painted(strokes: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    regions, ink = _roof(strokes)
    canvas = np.empty((*regions.shape, 3), np.float32)
    canvas[:] = GREY.mid
    rng = np.random.default_rng(0)
    canvas *= 1.0 + 0.01 * rng.standard_normal(regions.shape).astype(np.float32)[..., None]
    before = canvas.copy()
    b = tiny_board()
    f, sky = board_samples([b.image], [b.labels], SKY)
    structure_roofs(canvas, regions, ink, [ROOF], {ROOF: GREY}, straw_palette(f, sky), 10.0, 0)
    return canvas, before, regions


def test_the_strokes_inside_a_roof_say_thatch_or_tiles() -> None:
    for strokes, kind in (("down", "thatch"), ("across", "tiles")):
        regions, ink = _roof(strokes)
        inner = (ink > 0.3) & (regions == ROOF)
        inner[:-1] &= regions[1:] == ROOF
        inner[1:] &= regions[:-1] == ROOF
        assert roof_kind(inner) == kind
    assert roof_kind(np.zeros((20, 20), bool)) is None
    # a roof with nothing drawn inside it keeps its faces
    canvas, before, _ = _painted("none")
    assert np.array_equal(canvas, before)


def test_thatch_is_straw_combed_along_the_fall_line() -> None:
    canvas, before, regions = _painted("down")
    core = np.zeros(regions.shape, bool)
    core[30:70, 50:110] = True
    r, g, b = (float(v) for v in canvas[core].mean(axis=0))
    assert r > b + 0.1 and g > b + 0.05  # warm straw, not the grey faces it was
    # the streaks run down the slope: the structure tensor of the luminance has its gradient across
    lum = canvas @ np.array([0.299, 0.587, 0.114], np.float32)
    gy, gx = np.gradient(gaussian_blur(np.ascontiguousarray(lum), 0.7))
    jxx, jyy = float((gx * gx)[core].sum()), float((gy * gy)[core].sum())
    assert jxx > 2.0 * jyy
    # and they are there: the straw is far from flat
    assert float(lum[core].std()) > 3 * float(
        (before @ np.array([0.299, 0.587, 0.114], np.float32))[core].std()
    )


def test_tiles_are_courses_lit_at_the_top_and_shaded_below() -> None:
    canvas, before, regions = _painted("across")
    lum = canvas @ np.array([0.299, 0.587, 0.114], np.float32)
    rows = lum[20:76, 70:90].mean(axis=1)
    # rows of courses: the row means rise and fall again and again down the roof (light top, dark edge)
    steps = np.diff(rows)
    falls = np.sum((steps[:-1] < -0.003) & (steps[1:] > 0.003))  # a dark edge then the next course's top
    assert falls >= 4
    # the grey stays grey: tiles keep the roof's palette
    r, _g, b = (float(v) for v in canvas[regions == ROOF].mean(axis=0))
    assert b >= r
    lum0 = before @ np.array([0.299, 0.587, 0.114], np.float32)
    grad = lambda a, ax: float(np.abs(np.diff(a, axis=ax))[30:70, 50:110].mean())  # noqa: E731
    # the courses run across: what they add is in the vertical gradient, hardly any in the horizontal
    assert grad(lum, 0) - grad(lum0, 0) > 4 * max(grad(lum, 1) - grad(lum0, 1), 0.0005)


def test_through_the_engine_a_derived_thatched_roof_is_straw() -> None:
    regions, ink = _roof("down")
    regions[82:] = GRASS
    lines = np.clip(255 - ink * 255, 0, 255).astype(np.uint8)
    req = RenderRequest(
        lines=lines, regions=regions, boards=(tiny_board(),), direction=Direction(), vocabulary=VOCAB
    )
    img = ExemplarEngine().render(req, EngineContext()).image.astype(np.float32) / 255.0
    roof = img[30:60, 55:105].reshape(-1, 3).mean(axis=0)
    assert roof[0] > roof[2] + 0.08  # straw, not a cool grey roof

"""Repetition is layout-aware: repeated structure the layout draws is not tiling; a tiled sky is.

The region map excuses duplicates that a region border explains (a long two-tone border looks
alike all along), but never texture that tiles, inside a region or across a border.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from haikei.engines.base import BoardInput
from haikei.errors import InputError
from haikei.quality.metrics import prepare_reference
from haikei.quality.repetition import repetition_counts, repetition_hits, repetition_rate
from tests.quality.synth import VOCAB, draw_lines, layout, lines_for, paint

H, W = 216, 384
WIN = 32  # window side (full-resolution pixels); its cross puts ink in every 16x16 patch inside it
WIN_XS = (24, 80, 136, 192, 248, 304)  # six identical windows in a row
WIN_Y = 160


def _window_ink() -> np.ndarray:
    ink = np.zeros((WIN, WIN), bool)
    ink[:2], ink[-2:], ink[:, :2], ink[:, -2:] = True, True, True, True  # frame
    ink[WIN // 2 - 1 : WIN // 2 + 1], ink[:, WIN // 2 - 1 : WIN // 2 + 1] = True, True  # cross bars
    return ink


def _scene(same_panes: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A layout with five identical windows; a painting with a textured sky and (by default) identical panes."""
    regions = layout(H, W, seed=5)
    lines = lines_for(regions, extra_strokes=False)
    for x in WIN_XS:
        lines[WIN_Y : WIN_Y + WIN, x : x + WIN][_window_ink()] = 0
    rng = np.random.default_rng(3)
    img = paint(regions, seed=9).astype(np.float32)
    sky = regions == VOCAB.id_of("sky")
    clouds = ndimage.gaussian_filter(rng.normal(0, 60, (H, W)), 2.0)[..., None] * np.array([0.8, 0.8, 0.5])
    img[sky] = (np.array([150, 190, 235]) + clouds)[sky]  # a textured sky: tiling there would show
    pane = np.array([90, 120, 140]) + ndimage.gaussian_filter(rng.normal(0, 50, (WIN, WIN)), 1.0)[..., None]
    for x in WIN_XS:
        img[WIN_Y : WIN_Y + WIN, x : x + WIN] = pane  # the same window painted five times
        if not same_panes:  # ... or each pane painted on its own
            pane = (
                np.array([90, 120, 140])
                + ndimage.gaussian_filter(rng.normal(0, 50, (WIN, WIN)), 1.0)[..., None]
            )
    return regions, lines, draw_lines(np.clip(img, 0, 255).astype(np.uint8), lines)


def test_repeated_windows_are_not_tiling_but_a_tiled_sky_is() -> None:
    regions, lines, painting = _scene()
    aware = repetition_counts(painting, lines)
    blind = repetition_counts(painting)  # the old, layout-blind count
    # the five panes are duplicates of each other; the layout drew them so, and they are excused
    assert blind.hits > aware.hits and aware.excused > 0
    # ... so the painting scores as if every pane had been painted on its own
    varied = _scene(same_panes=False)[2]
    assert blind.hits > repetition_counts(varied).hits + 20  # the identical panes did duplicate
    assert aware.hits <= repetition_counts(varied, lines).hits + 3
    # the same painting with its (blank-layout) sky tiled from one 32x32 block is caught
    sky = regions == VOCAB.id_of("sky")
    tiled = painting.copy()
    block = painting[8:40, 8:40]
    tiles = np.tile(block, (H // 32 + 1, W // 32 + 1, 1))[:H, :W]
    tiled[sky] = tiles[sky]
    tiled = draw_lines(tiled, lines)
    sky_share = float(sky.mean())
    assert repetition_rate(tiled, lines) > aware.rate + 0.5 * sky_share, (sky_share, aware.rate)


def test_layout_ink_that_differs_does_not_excuse_a_duplicate() -> None:
    _, lines, painting = _scene()
    # one window drawn without its cross: its pane's duplicates are no longer repeated structure
    other = lines.copy()
    x = WIN_XS[0]
    other[WIN_Y + 2 : WIN_Y + WIN - 2, x + 2 : x + WIN - 2] = 255
    assert repetition_counts(painting, other).hits > repetition_counts(painting, lines).hits


def test_flat_paint_is_not_judged_and_says_so() -> None:
    flat = repetition_counts(np.full((96, 160, 3), 90, np.uint8))
    assert flat.hits == 0 and flat.textured == 0 and flat.total > 0


def test_refuses_a_layout_of_another_size() -> None:
    with pytest.raises(InputError, match="size"):
        repetition_rate(np.zeros((64, 64, 3), np.uint8), np.zeros((60, 64), np.uint8))


# -- the region map ----------------------------------------------------------------------------
SKY, FOREST = VOCAB.id_of("sky"), VOCAB.id_of("forest")
BORDER_Y = 101  # not on the patch grid


def _two_tone(seed: int = 1, painted_offset: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Cream sky over blue forest along one long straight border, each side faintly textured
    (fresh noise: nothing tiles), no ink; the painted edge sits ``painted_offset`` px below the
    label border and is softened, as a painted edge is."""
    rng = np.random.default_rng(seed)
    regions = np.full((H, W), FOREST, np.uint8)
    regions[:BORDER_Y] = SKY
    img = np.empty((H, W, 3), np.float32)
    img[: BORDER_Y + painted_offset] = (235, 225, 200)
    img[BORDER_Y + painted_offset :] = (40, 90, 130)
    img = ndimage.gaussian_filter(img, (0.8, 0.8, 0))
    img += ndimage.gaussian_filter(rng.normal(0, 25, (H, W)), 0.7)[..., None]
    return regions, np.clip(img, 0, 255).astype(np.uint8)


def _border_hits(corners: np.ndarray, regions: np.ndarray) -> int:
    """How many hit patches hold a region border."""
    return sum(
        int(regions[y : y + 16, x : x + 16].min() != regions[y : y + 16, x : x + 16].max())
        for y, x in corners
    )


def test_a_long_straight_border_is_not_tiling() -> None:
    regions, img = _two_tone()
    blind = repetition_counts(img)
    aware = repetition_counts(img, None, regions)
    # the border's patches all look alike, so the blind count takes the band for tiling ...
    assert _border_hits(repetition_hits(img), regions) >= 40, blind
    assert blind.hits >= 40
    # ... and the region map excuses it: no ink is needed
    assert aware.hits <= 2, aware
    assert aware.excused_by_regions >= blind.hits - 2 and aware.excused == aware.excused_by_regions
    # a border drawn elsewhere on the region map explains nothing
    moved = np.roll(regions, 40, axis=0)
    assert repetition_counts(img, None, moved).hits >= blind.hits - 2


def test_tiling_inside_one_region_still_counts() -> None:
    regions, img = _two_tone()
    forest = regions == FOREST
    tiled = img.copy()
    block = img[150:182, 40:72]  # forest texture
    tiled[forest] = np.tile(block, (H // 32 + 1, W // 32 + 1, 1))[:H, :W][forest]
    before = repetition_rate(img, None, regions)
    after = repetition_rate(tiled, None, regions)
    # most of the forest's queries (less its border band) now have a far twin
    assert after > before + 0.6 * float(forest.mean()) - 0.05, (before, after)


def _tiled_texture(seed: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    block = 120 + ndimage.gaussian_filter(rng.normal(0, 40, (32, 32)), 1.0, mode="wrap")
    return np.tile(block, (H // 32 + 1, W // 32 + 1))[:H, :W]


def test_tiling_across_a_border_counts_when_the_label_patterns_differ() -> None:
    # one texture tiled over the whole painting; the region map's border waves across it
    yy, xx = np.mgrid[0:H, 0:W]
    regions = np.where(yy < 100 + 14 * np.sin(xx / 23.0), SKY, FOREST).astype(np.uint8)
    img = np.repeat(np.clip(_tiled_texture(), 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    blind = repetition_counts(img)
    aware = repetition_counts(img, None, regions)
    assert _border_hits(repetition_hits(img, None, regions), regions) >= 100  # the border band counts
    assert aware.hits >= blind.hits - 3 and aware.excused_by_regions <= 3, (blind, aware)


def test_tiling_across_a_straight_border_counts_even_when_the_label_patterns_agree() -> None:
    # the border explains the step, not the texture on both sides: a tiled texture is still tiling
    regions, _ = _two_tone()
    tex = _tiled_texture() + np.where(regions == FOREST, -60.0, 60.0)
    img = np.repeat(np.clip(tex, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    blind = repetition_counts(img)
    aware = repetition_counts(img, None, regions)
    assert _border_hits(repetition_hits(img, None, regions), regions) >= 100
    assert aware.hits >= blind.hits - 3 and aware.excused_by_regions <= 3, (blind, aware)


def test_the_boards_excuse_their_own_label_borders() -> None:
    regions, img = _two_tone()
    ref = prepare_reference([BoardInput(key="two-tone", image=img, labels=regions)], VOCAB)
    own = repetition_counts(img, None, regions)
    assert ref.repetition_rate == pytest.approx(own.rate, abs=1e-12)
    assert ref.repetition_rate <= 2 / own.total  # the border band is not the board's tiling ...
    assert repetition_rate(img) >= ref.repetition_rate + 40 / own.total  # ... though it duplicates
    assert ref.repetition_excused_by_regions >= 38 / own.total


def test_refuses_a_region_map_of_another_size() -> None:
    with pytest.raises(InputError, match="region map"):
        repetition_rate(np.zeros((64, 64, 3), np.uint8), None, np.zeros((64, 60), np.uint8))

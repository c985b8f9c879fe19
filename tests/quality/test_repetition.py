"""Repetition is layout-aware: repeated structure the layout draws is not tiling; a tiled sky is."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from haikei.errors import InputError
from haikei.quality.repetition import repetition_counts, repetition_rate
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

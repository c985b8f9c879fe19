"""The palette pass's fast kernels give the same numbers as the scipy / numpy code they replace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from haikei.engines.exemplar.blur import gaussian_blur
from haikei.engines.exemplar.structured import _grow_into_lines, distance_to, paper_texture


@pytest.mark.parametrize("shape", [(1, 1), (3, 100), (40, 30), (97, 131)])
@pytest.mark.parametrize("sigma", [1.5, 4.0])
def test_gaussian_blur_is_scipys_gaussian_filter_bit_for_bit(shape: tuple[int, int], sigma: float) -> None:
    a = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    assert np.array_equal(gaussian_blur(a, sigma), ndimage.gaussian_filter(a, sigma))


@pytest.mark.parametrize("density", [0.0005, 0.02, 0.3])
def test_distance_to_is_the_exact_euclidean_distance(density: float) -> None:
    rng = np.random.default_rng(2)
    mask = rng.random((83, 121)) < density
    mask[40, 60] = True  # at least one
    assert np.array_equal(distance_to(mask), ndimage.distance_transform_edt(~mask))


def test_grow_into_lines_is_six_rounds_of_a_3x3_maximum() -> None:
    rng = np.random.default_rng(3)
    faces = rng.integers(1, 9, (60, 70)).astype(np.int32)
    faces[rng.random(faces.shape) < 0.6] = 0  # lines and gaps between faces
    todo = rng.random(faces.shape) < 0.9
    want = faces.copy()
    for _ in range(6):
        gap = todo & (want == 0)
        grown = ndimage.maximum_filter(want, size=3)
        want[gap] = grown[gap]
    got = faces.copy()
    _grow_into_lines(got, todo, 6)
    assert np.array_equal(got, want)


def _grain(luma: np.ndarray) -> np.ndarray:
    """The board's grain as paper_texture takes it (scipy filters as the reference)."""
    hp = luma - ndimage.gaussian_filter(luma, 1.5)
    energy = ndimage.gaussian_filter(np.abs(hp), 4.0)
    hp = hp * np.minimum(1.0, (float(np.median(energy)) + 1e-6) / np.maximum(energy, 1e-6))
    spread = float(np.median(np.abs(hp))) * 2.5 + 1e-4
    return np.clip(hp, -spread, spread)


@pytest.mark.parametrize("hw", [(50, 40), (130, 170), (7, 300), (30, 45)])
def test_paper_texture_is_a_deterministic_field_of_the_grains_size(hw: tuple[int, int]) -> None:
    h, w = hw
    luma = np.random.default_rng(4).random((30, 45)).astype(np.float32)
    got = paper_texture(luma, h, w, np.random.default_rng(5))
    again = paper_texture(luma, h, w, np.random.default_rng(5))
    other = paper_texture(luma, h, w, np.random.default_rng(6))
    grain = _grain(luma)
    assert got.dtype == np.float32 and got.shape == (h, w)
    assert np.array_equal(got, again) and not np.array_equal(got, other)
    spread = float(np.abs(grain).max())
    assert np.abs(got).max() <= spread + 1e-6
    if h * w >= 1000:  # tiny crops have too few pixels for a stable deviation
        assert 0.6 < float(got.std()) / float(grain.std()) < 1.4


def test_paper_texture_never_repeats_the_board_over_a_larger_frame() -> None:
    """A board of 30x45 grain covering 240x360: no patch of the field recurs at a board period
    (a tiled grain, mirrored or not, correlates 1.0 with itself shifted by its period)."""
    luma = np.random.default_rng(7).random((30, 45)).astype(np.float32)
    tex = paper_texture(luma, 240, 360, np.random.default_rng(8)).astype(np.float64)
    tex -= tex.mean()

    def corr(dy: int, dx: int) -> float:
        a = tex[: tex.shape[0] - dy, : tex.shape[1] - dx]
        b = tex[dy:, dx:]
        return float((a * b).mean() / np.sqrt((a * a).mean() * (b * b).mean()))

    for dy, dx in [(0, 45), (0, 90), (30, 0), (60, 0), (30, 45), (60, 90), (0, 180), (120, 0)]:
        assert abs(corr(dy, dx)) < 0.15, (dy, dx)


def test_paper_texture_keeps_the_direction_of_the_boards_strokes() -> None:
    """Fine horizontal strokes on the board (grain varies along y) stay horizontal in the field."""
    rng = np.random.default_rng(9)
    rows = rng.random((60, 1)).astype(np.float32)
    luma = np.repeat(rows, 80, axis=1) + 0.05 * rng.random((60, 80)).astype(np.float32)
    tex = paper_texture(luma, 200, 300, np.random.default_rng(10)).astype(np.float64)
    along_y = float(np.mean(np.diff(tex, axis=0) ** 2))
    along_x = float(np.mean(np.diff(tex, axis=1) ** 2))
    assert along_y > 4 * along_x

"""The palette pass's fast kernels give the same numbers as the scipy / numpy code they replace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from haikei.engines.exemplar.structured import _grow_into_lines, distance_to, gaussian_blur, paper_texture


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


@pytest.mark.parametrize("hw", [(50, 40), (130, 170), (7, 300), (30, 45)])
def test_paper_texture_is_the_mirrored_tiling_cropped(hw: tuple[int, int]) -> None:
    h, w = hw
    luma = np.random.default_rng(4).random((30, 45)).astype(np.float32)
    got = paper_texture(luma, h, w, np.random.default_rng(5))
    # reference: the board's grain (scipy filters), the whole cover tiled with every other tile
    # turned 180 degrees, cropped at the same random offset
    hp = luma - ndimage.gaussian_filter(luma, 1.5)
    energy = ndimage.gaussian_filter(np.abs(hp), 4.0)
    hp = hp * np.minimum(1.0, (float(np.median(energy)) + 1e-6) / np.maximum(energy, 1e-6))
    spread = float(np.median(np.abs(hp))) * 2.5 + 1e-4
    hp = np.clip(hp, -spread, spread)
    reps = (int(np.ceil((h + 30) / 30)), int(np.ceil((w + 45) / 45)))
    tile = np.block(
        [[hp if (i + j) % 2 == 0 else hp[::-1, ::-1] for j in range(reps[1])] for i in range(reps[0])]
    )
    rng = np.random.default_rng(5)
    oy, ox = int(rng.integers(0, 30)), int(rng.integers(0, 45))
    assert got.dtype == np.float32
    assert np.array_equal(got, tile[oy : oy + h, ox : ox + w])

"""The position guide reads a pixel's place in its region by the region's box and by its mass, so a
thin tail of a class (sky down a valley between two peaks on a board) does not stretch the whole
class: the bottom of the main body of sky reads near the bottom, where the layout's horizon band
reads, not half-way."""

from __future__ import annotations

import numpy as np

from haikei.engines.exemplar.guides import position_guides


def test_a_thin_tail_does_not_stretch_the_class() -> None:
    labels = np.full((100, 100), 3, np.uint8)
    labels[:50] = 1  # the body of the class: the upper half
    labels[50:, 45:56] = 1  # a thin tail down to the bottom
    y = position_guides(labels, per_component=False)[..., 0]
    # by the box alone the body's lowest row would read 49/99 = .49
    assert y[49, 10] > 0.6
    assert y[0, 10] < 0.1 and y[99, 50] > 1.0  # top still near 0; the tail's end beyond the body


def test_an_even_region_reads_zero_to_one_across_it() -> None:
    labels = np.full((40, 60), 2, np.uint8)
    g = position_guides(labels, per_component=True)
    assert np.allclose(g[0, 0], 0.0, atol=0.01) and np.allclose(g[-1, -1], 1.0, atol=0.01)
    assert np.allclose(g[20, 30], 0.5, atol=0.02)
    # each component by itself (10 px wide: the mass reading of a few pixels is a little inside 0..1)
    labels[:, 30:] = 5
    labels[:, 10:20] = 5
    g = position_guides(labels, per_component=True)
    assert np.allclose(g[5, 0, 1], 0.0, atol=0.03) and np.allclose(g[5, 9, 1], 1.0, atol=0.03)
    assert np.allclose(g[5, 20, 1], 0.0, atol=0.03) and np.allclose(g[5, 29, 1], 1.0, atol=0.03)

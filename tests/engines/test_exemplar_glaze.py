"""The glaze (a wash is never perfectly even) goes over paint the engine makes from a palette, never
over paint copied from a board: the board's paint carries its own unevenness, and a glaze over it
turned an even board sky into a blotchy pale wash (read as another class by the region metric)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import create

VOCAB = Vocabulary()
SKY = (150, 200, 240)


def _board() -> BoardInput:
    """A flat sky over a flat grass, as a 96x160 board."""
    h, w = 96, 160
    image = np.empty((h, w, 3), np.uint8)
    labels = np.empty((h, w), np.uint8)
    image[: h // 2], labels[: h // 2] = SKY, VOCAB.id_of("sky")
    image[h // 2 :], labels[h // 2 :] = (90, 150, 60), VOCAB.id_of("grass")
    return BoardInput(key="flat", image=image, labels=labels, name="flat")


def _render(glaze: float) -> tuple[np.ndarray, np.ndarray]:
    h, w = 96, 160
    regions = np.full((h, w), VOCAB.id_of("sky"), np.uint8)
    regions[40:70] = VOCAB.id_of("grass")
    regions[70:] = VOCAB.id_of("sand")  # no board shows sand: painted from a derived palette
    lines = np.full((h, w), 255, np.uint8)
    req = RenderRequest(
        lines=lines, regions=regions, boards=(_board(),), seed=5, vocabulary=VOCAB, options={"glaze": glaze}
    )
    return create({}).render(req, EngineContext()).image, regions


def test_copied_paint_is_not_glazed_palette_paint_is() -> None:
    flat, regions = _render(0.0)
    glazed, _ = _render(0.3)
    # away from the class borders (the seam blend and form work there) the copied sky is the board's
    # own flat paint, glaze or not
    sky_core = ndimage.binary_erosion(regions == VOCAB.id_of("sky"), iterations=6)
    sky = glazed[sky_core].astype(np.int16)
    assert np.abs(sky - np.array(SKY, np.int16)).max() <= 2
    assert np.array_equal(glazed[sky_core], flat[sky_core])
    # the glaze still evens (unevens) the paint made from a palette
    sand = ndimage.binary_erosion(regions == VOCAB.id_of("sand"), iterations=4)
    assert np.abs(glazed[sand].astype(np.int16) - flat[sand].astype(np.int16)).mean() > 2.0

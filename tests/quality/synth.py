"""Tiny synthetic paintings for metric tests: each class has its own colour AND its own texture."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import BoardInput

VOCAB = Vocabulary()
CLASSES = ("sky", "mountain", "forest", "grass")


def layout(h: int, w: int, seed: int) -> np.ndarray:
    """Region ids: sky on top, a mountain ridge, a forest blob, grass below; wavy borders per seed."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    ph = rng.uniform(0, 6, 3)
    regions = np.full((h, w), VOCAB.id_of("grass"), np.uint8)
    ridge = h * (0.3 + 0.1 * np.sin(xx / w * 6 + ph[0]))
    regions[yy < h * 0.62 + 0.04 * h * np.sin(xx / w * 9 + ph[1])] = VOCAB.id_of("mountain")
    regions[yy < ridge] = VOCAB.id_of("sky")
    cx = w * rng.uniform(0.25, 0.75)
    blob = ((xx - cx) / (0.18 * w)) ** 2 + ((yy - 0.72 * h) / (0.12 * h)) ** 2 < 1
    regions[blob] = VOCAB.id_of("forest")
    return regions


def paint(regions: np.ndarray, seed: int, swap: dict[str, str] | None = None) -> np.ndarray:
    """Paint each class in its style; ``swap`` paints a class in another class's style (wrong class)."""
    rng = np.random.default_rng(seed)
    h, w = regions.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros((h, w, 3), np.float32)
    styles = {
        # smooth vertical gradient
        "sky": lambda: (
            np.stack([110 + 60 * yy / h, 170 + 40 * yy / h, 235 + 0 * yy], axis=2)
            + rng.normal(0, 1.5, (h, w, 1))
        ),
        # diagonal strokes
        "mountain": lambda: (
            np.array([95, 110, 170], np.float32)
            + (22 * np.sin((xx + yy) / 3.0) + ndimage.gaussian_filter(rng.normal(0, 30, (h, w)), 1.5))[
                ..., None
            ]
        ),
        # dark blotches
        "forest": lambda: (
            np.array([30, 90, 45], np.float32)
            + ndimage.gaussian_filter(rng.normal(0, 60, (h, w)), 2.5)[..., None] * np.array([0.6, 1.0, 0.6])
        ),
        # fine grain
        "grass": lambda: np.array([160, 200, 80], np.float32) + rng.normal(0, 16, (h, w, 1)),
    }
    for name in CLASSES:
        style = (swap or {}).get(name, name)
        m = regions == VOCAB.id_of(name)
        out[m] = np.asarray(styles[style]())[m]
    return np.clip(out, 0, 255).astype(np.uint8)


def borders(regions: np.ndarray) -> np.ndarray:
    b = np.zeros(regions.shape, bool)
    b[:-1] |= regions[:-1] != regions[1:]
    b[:, :-1] |= regions[:, :-1] != regions[:, 1:]
    return b


def lines_for(regions: np.ndarray, extra_strokes: bool = True) -> np.ndarray:
    """Layout ink: region borders (2 px) plus, optionally, interior strokes (rock cracks, tree trunks)."""
    h, w = regions.shape
    ink = ndimage.binary_dilation(borders(regions))
    if extra_strokes:
        for i in range(4):
            x = int(w * (0.15 + 0.2 * i))
            ink[int(h * 0.45) : int(h * 0.58), x : x + 2] = True
        ink[int(h * 0.85) : int(h * 0.85) + 2, int(w * 0.1) : int(w * 0.9)] = True
    lines = np.full((h, w), 255, np.uint8)
    lines[ink] = 0
    return lines


def draw_lines(painting: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """The painting with the layout's ink laid on as dark strokes."""
    out = painting.astype(np.float32)
    out[lines < 128] *= 0.25
    return out.astype(np.uint8)


def board(h: int = 180, w: int = 320, seed: int = 1) -> BoardInput:
    regions = layout(h, w, seed)
    return BoardInput(key=f"synth{seed}", image=paint(regions, seed), labels=regions, name=f"synth{seed}")

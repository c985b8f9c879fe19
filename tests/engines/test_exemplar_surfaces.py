"""Derived surfaces that read as what they are: sand no board shows is warm and grained, not grey."""

from __future__ import annotations

import numpy as np

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.exemplar.painters import _fine_grain, paint_soft
from haikei.engines.exemplar.palettes import ROLES, board_samples, derived_palette
from tests.engines.contract import tiny_board

VOCAB = Vocabulary()


def _cool_board() -> tuple[np.ndarray, np.ndarray]:
    """A board of greys and blues with a muted, cool-leaning ground: its shadows lean blue."""
    b = tiny_board()
    img = b.image.astype(np.float32)
    grey = img.mean(axis=2, keepdims=True)
    img = 0.35 * img + 0.65 * grey + np.array([-6.0, 0.0, 10.0], np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), b.labels


def test_derived_sand_is_warm_in_light_and_shadow_on_a_cool_board() -> None:
    img, labels = _cool_board()
    f, sky = board_samples([img], [labels], VOCAB.id_of("sky"))
    sand = derived_palette(ROLES["sand"], f, sky)
    for tone in (sand.shadow, sand.mid, sand.light):
        r, g, bl = (float(v) for v in tone)
        # ochre to cream: red >= green > blue, and clearly warmer than grey (before: shadows grey-blue)
        assert r >= g - 0.01 and g > bl, tone
        assert r - bl > 0.08, tone
    # light above mid above shadow, all light (sand is one of the lightest grounds)
    lum = np.array([0.299, 0.587, 0.114], np.float32)
    assert sand.light @ lum > sand.mid @ lum > sand.shadow @ lum > 0.5


def test_sand_is_laid_in_with_a_fine_grain() -> None:
    """Painted as style "grain", sand carries a pixel-scale stipple a plain surface lacks."""
    h, w = 96, 160
    regions = np.full((h, w), 7, np.int32)
    ink = np.zeros((h, w), np.float32)
    pal = derived_palette(ROLES["sand"], *board_samples([tiny_board().image], [tiny_board().labels], None))
    tex = np.zeros((h, w), np.float32)

    def paint(style: str) -> np.ndarray:
        canvas = np.zeros((h, w, 3), np.float32)
        paint_soft(regions, ink, {7: (pal, style)}, tex, (0.0, -1.0), np.random.default_rng(1), 0.0, canvas)
        return canvas[..., 1]

    grained, plain = paint("grain"), paint("surface")
    fine = lambda a: float(np.abs(np.diff(a, axis=1)).mean())  # noqa: E731
    assert ROLES["sand"].style == "grain"
    assert fine(grained) > 3 * fine(plain)
    # the grain is its own seeded stream: the same class gives the same grain
    assert np.array_equal(_fine_grain((h, w), 7), _fine_grain((h, w), 7))

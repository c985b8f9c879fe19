"""Foliage copied from a board reads as a mass: a shadow side in the foliage's own darker tone,
opposite the light, and clumps; not a flat blob of the board's texture."""

from __future__ import annotations

import numpy as np

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.base import BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import create
from haikei.engines.exemplar.foliage import mass_form, tone_ramp

VOCAB = Vocabulary()
LUM = np.array([0.299, 0.587, 0.114])
CY, CX = 130, 240


def _board() -> BoardInput:
    """Sky over a wide autumn crown over grass. The crown's paint is crimson to orange speckle with no
    light in it: every part of it has the same tones, so any side a painting shows is the painter's."""
    h, w = 120, 200
    rng = np.random.default_rng(3)
    labels = np.full((h, w), VOCAB.id_of("grass"), np.uint8)
    img = np.zeros((h, w, 3), np.float32)
    img[:] = (150, 190, 80)
    labels[:35] = VOCAB.id_of("sky")
    img[:35] = (170, 205, 235)
    crown = np.zeros((h, w), bool)
    crown[35:90, 10:190] = True
    labels[crown] = VOCAB.id_of("tree")
    # per 3x3 speckle: a tone between crimson and orange
    s = rng.random((h // 3 + 1, w // 3 + 1)).repeat(3, 0).repeat(3, 1)[:h, :w]
    dark, light = np.array([120.0, 20.0, 45.0]), np.array([245.0, 130.0, 40.0])
    img[crown] = (dark + (light - dark) * s[..., None])[crown]
    img += rng.normal(0, 3, img.shape)
    return BoardInput(key="autumn", image=np.clip(img, 0, 255).astype(np.uint8), labels=labels, name="autumn")


def _layout() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A round crown (radius 60, a frame's eighth) on grass under sky; returns (lines, regions, crown mask)."""
    h, w = 270, 480
    yy, xx = np.mgrid[:h, :w]
    regions = np.full((h, w), VOCAB.id_of("grass"), np.uint8)
    regions[:110] = VOCAB.id_of("sky")
    crown = (yy - CY) ** 2 + (xx - CX) ** 2 <= 60**2
    regions[crown] = VOCAB.id_of("tree")
    lines = np.full((h, w), 255, np.uint8)
    edge = crown ^ np.pad(crown[1:-1, 1:-1] & crown[:-2, 1:-1] & crown[2:, 1:-1], 1)
    lines[edge] = 0
    return lines, regions, crown


def _render(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    lines, regions, crown = _layout()
    req = RenderRequest(lines=lines, regions=regions, boards=(_board(),), vocabulary=VOCAB, seed=seed)
    res = create({}).render(req, EngineContext())
    return res.image.astype(np.float64) / 255.0, crown


def test_a_copied_crown_has_a_shadow_side_away_from_the_light() -> None:
    """Light from the upper left (light_angle 135): the crown's lower-right part is darker than its
    upper-left part by a clear margin (the board's crown has no side: copied as it was, the two
    differ by the speckle's chance: measured without the form, the lit part was 0.024 darker; with it
    0.021 lighter)."""
    img, crown = _render()
    h, w = crown.shape
    yy, xx = np.mgrid[:h, :w]
    along = (yy - CY) * -np.sqrt(0.5) + (xx - CX) * -np.sqrt(0.5)  # towards the light
    lit = crown & (along > 25)
    shade = crown & (along < -25)
    y = img @ LUM
    assert y[lit].mean() - y[shade].mean() > 0.01
    # the shadow side is the foliage's own darker tone (crimson), never grey: red well above blue
    r, g, b = img[shade].mean(axis=0)
    assert r > 0.35 and r - b > 0.15 and r > g


def test_the_form_is_in_the_same_place_for_any_seed() -> None:
    """The side follows the light, not the seed (the seed moves the copied texture and the clumps)."""
    (a, crown), (b, _) = _render(0), _render(7)
    h, w = crown.shape
    yy, xx = np.mgrid[:h, :w]
    along = (yy - CY) * -np.sqrt(0.5) + (xx - CX) * -np.sqrt(0.5)
    for img in (a, b):
        y = img @ LUM
        assert y[crown & (along > 25)].mean() > y[crown & (along < -25)].mean()


def test_mass_form_lights_the_side_facing_the_light_and_lobes_cut_by_strokes() -> None:
    h, w = 120, 120
    yy, xx = np.mgrid[:h, :w]
    disc = (yy - 60) ** 2 + (xx - 60) ** 2 <= 50**2
    ink = np.zeros((h, w), np.float32)
    t = mass_form(disc, ink, (0.0, -1.0), 8.0, np.random.default_rng(0))  # light from the left
    assert t[disc & (xx < 30)].mean() > 0.3
    assert t[disc & (xx > 90)].mean() < -0.3
    assert float(t.min()) >= -1.0 and float(t.max()) <= 1.0
    # a stroke through the mass: each side of it gets a side of its own (a lobe), lit left of it
    ink[:, 59:61] = 1.0
    cut = mass_form(disc, ink, (0.0, -1.0), 8.0, np.random.default_rng(0))
    near = disc & (np.abs(yy - 60) < 30)
    assert (cut - t)[near & (xx >= 61) & (xx < 66)].mean() > 0.05  # right of the stroke: its lit edge
    assert (cut - t)[near & (xx > 53) & (xx < 59)].mean() < -0.05  # left of it: the lobe's far side


def test_tone_ramp_runs_dark_to_light_in_the_boards_own_colours() -> None:
    rng = np.random.default_rng(0)
    s = rng.random(5000)[:, None]
    px = (np.array([120, 20, 45]) + (np.array([245, 130, 40]) - np.array([120, 20, 45])) * s).astype(np.uint8)
    ramp, y = tone_ramp(px)
    assert np.all(np.diff(y) > 0)
    assert ramp[0, 0] > 2 * ramp[0, 2] * 0.9  # the darkest step is a crimson, not a grey
    assert ramp[-1, 1] > ramp[0, 1] + 0.2  # and it runs to orange

"""The ``ink`` figure: how much darker than both sides the painting is along the layout's strokes.

Each case is a painting whose answer is known by construction: strokes drawn d L* darker than a
flat surround measure d; a colour step, light/shade across a stroke, a highlight and a blank
painting all measure (about) 0; inked paintings rank far above painted ones.
"""

from __future__ import annotations

import numpy as np
import pytest

from haikei.errors import InputError
from haikei.quality.colour import rgb_to_lab
from haikei.quality.ink import DARK_STEP, ink_darkness
from haikei.quality.metrics import prepare_reference, score_painting
from tests.quality.synth import VOCAB, board, draw_lines, layout, lines_for, paint

H, W = 216, 384


def _grey(v: int) -> np.ndarray:
    return np.full((H, W, 3), v, np.uint8)


def _l_of(v: int) -> float:
    return float(rgb_to_lab(np.array([[[v, v, v]]], np.uint8))[0, 0, 0])


@pytest.fixture(scope="module")
def scene() -> tuple[np.ndarray, np.ndarray]:
    regions = layout(H, W, seed=5)
    return regions, lines_for(regions)


def test_blank_painting_has_no_ink(scene) -> None:  # type: ignore[no-untyped-def]
    regions, lines = scene
    s = ink_darkness(_grey(140), lines, regions)
    assert s.ink == 0.0
    assert s.details["dark_share"] == 0.0 and s.details["measured_pixels"] > 0.9 * (lines < 128).sum()


@pytest.mark.parametrize("darker", [6, 20, 60])
def test_a_stroke_darker_than_a_flat_surround_measures_its_step(scene, darker: int) -> None:  # type: ignore[no-untyped-def]
    """Ink of a known depth reads back as that depth in L* (within 10 %): the figure's unit is real."""
    regions, lines = scene
    img = _grey(160)
    img[lines < 128] = 160 - darker
    expected = _l_of(160) - _l_of(160 - darker)
    s = ink_darkness(img, lines, regions)
    assert s.ink == pytest.approx(expected, rel=0.1)
    assert s.details["dark_share"] > (0.85 if expected > DARK_STEP else -1)


def test_a_lighter_stroke_is_not_ink(scene) -> None:  # type: ignore[no-untyped-def]
    regions, lines = scene
    img = _grey(120)
    img[lines < 128] = 200  # a highlight along the line
    assert ink_darkness(img, lines, regions).ink == 0.0


def test_colour_edges_and_form_are_not_ink() -> None:
    """A stroke on a step between two tones, or with light on one side and shade on the other, sits
    between its sides: 0. The same stroke drawn dark is large."""
    lines = np.full((H, W), 255, np.uint8)
    lines[:, 190:192] = 0  # a vertical stroke
    lines[100:102, 20:150] = 0  # a horizontal one, inside the left half
    step = _grey(90)
    step[:, 191:] = 200  # a value edge exactly on the vertical stroke
    step[:101, :150] = 60  # shade above the horizontal stroke, light below
    step[101:, :150] = 140
    assert ink_darkness(step, lines).ink == pytest.approx(0.0, abs=0.5)
    inked = step.copy()
    inked[lines < 128] = 20
    assert ink_darkness(inked, lines).ink > 20


def test_inked_painting_ranks_far_above_the_same_painting_without_ink(scene) -> None:  # type: ignore[no-untyped-def]
    regions, lines = scene
    painted = paint(regions, seed=9)  # region borders are colour / texture edges, no lines drawn
    inked = draw_lines(painted, lines)  # the same painting with the layout's lines drawn as ink
    p = ink_darkness(painted, lines, regions)
    k = ink_darkness(inked, lines, regions)
    assert p.ink is not None and k.ink is not None
    assert p.ink < 2.0  # texture alone: a small floor
    assert k.ink > 10 * max(p.ink, 1.0)
    # the split by where the stroke lies: the synthetic layout has border and interior strokes
    assert k.details["interior_pixels"] > 0 and k.details["border_pixels"] > 0
    assert k.details["ink_interior"] > 10 and k.details["ink_border"] > 10
    assert p.details["ink_interior"] < 2 and p.details["ink_border"] < 2


def test_ink_is_in_score_painting_and_none_without_lines(scene) -> None:  # type: ignore[no-untyped-def]
    regions, lines = scene
    ref = prepare_reference([board()], VOCAB)
    inked = draw_lines(paint(regions, seed=9), lines)
    s = score_painting(inked, lines, regions, ref)
    assert s.ink is not None and s.ink > 10 and s.as_dict()["ink"] == s.ink
    assert s.details["ink"]["dark_share"] > 0.5
    blank = np.full((H, W), 255, np.uint8)
    assert score_painting(inked, blank, regions, ref).ink is None


def test_ink_refuses_mismatched_sizes(scene) -> None:  # type: ignore[no-untyped-def]
    _, lines = scene
    with pytest.raises(InputError, match="layout lines"):
        ink_darkness(_grey(100)[:100], lines)
    with pytest.raises(InputError, match="uint8"):
        ink_darkness(_grey(100).astype(np.float32), lines)  # type: ignore[arg-type]

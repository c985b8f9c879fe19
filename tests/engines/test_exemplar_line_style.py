"""line_style: the layout's lines as paint (edges and form) or as ink, and auto's choice from the boards."""

from __future__ import annotations

import numpy as np
import pytest

from haikei.engines.base import BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import create
from haikei.engines.exemplar.lines import INK_LSTAR, board_ink, form_field
from haikei.errors import RenderRefused
from haikei.quality.ink import ink_darkness
from haikei.quality.metrics import line_f1
from tests.engines.contract import VOCAB, tiny_board, tiny_layout


def _outlined(board: BoardInput) -> BoardInput:
    """The same board with its label borders drawn as a dark 2-px outline, as an inked board has."""
    lab = board.labels
    border = np.zeros(lab.shape, bool)
    border[:-1] |= lab[:-1] != lab[1:]
    border[:, :-1] |= lab[:, :-1] != lab[:, 1:]
    border |= np.roll(border, 1, axis=0)
    img = board.image.copy()
    img[border] = (25, 20, 30)
    return BoardInput(key=board.key + "-inked", image=img, labels=lab)


def _render(options: dict[str, object], board: BoardInput | None = None, size: tuple[int, int] = (96, 160)):  # type: ignore[no-untyped-def]
    lines, regions = tiny_layout(*size)
    req = RenderRequest(
        lines=lines,
        regions=regions,
        boards=(board or tiny_board(),),
        seed=3,
        vocabulary=VOCAB,
        options=options,
    )
    return create({}).render(req, EngineContext()), lines, regions


def test_board_ink_tells_an_outlined_board_from_a_painted_one() -> None:
    painted = tiny_board()
    assert board_ink(painted) < 1.0
    assert board_ink(_outlined(painted)) > 3 * INK_LSTAR


def test_auto_picks_paint_for_a_painted_board_and_ink_for_an_outlined_one() -> None:
    res, _, _ = _render({})
    assert res.recipe["line_style"]["asked"] == "auto"
    assert res.recipe["line_style"]["used"] == "paint"
    assert res.recipe["options"]["line_style"] == "paint"
    inked, _, _ = _render({}, _outlined(tiny_board()))
    assert inked.recipe["line_style"]["used"] == "ink"
    assert inked.recipe["line_style"]["board_ink"] > INK_LSTAR
    # ink asked for is ink, whatever the board
    assert _render({"line_style": "ink"})[0].recipe["line_style"] == {
        "asked": "ink",
        "used": "ink",
        "board_ink": None,
        "line": {"source": "fallback: the darker side's paint", "shade": 0.7},  # the tiny board draws none
    }


def test_paint_turns_the_layouts_lines_into_edges_not_ink() -> None:
    paint, lines, regions = _render({"line_style": "paint"})
    ink, _, _ = _render({"line_style": "ink"})
    ink_paint = ink_darkness(paint.image, lines, regions).ink
    ink_ink = ink_darkness(ink.image, lines, regions).ink
    assert ink_paint is not None and ink_ink is not None
    assert ink_ink > 3.0  # the old way draws the pencil darker than both sides
    # the tiny board is noisy: its floor is ~1-2.5 (2.51 since the position guide reads a region by its
    # box and its mass, 0c8d3f9; ink 13.5): paint stays well under a quarter of ink
    assert ink_paint < 3.0 and ink_paint < ink_ink / 4
    # the edges are still where the layout puts them
    f1_paint, _ = line_f1(paint.image, lines)
    assert f1_paint is not None and f1_paint > 0.5


def test_form_is_lit_on_the_side_facing_the_light() -> None:
    ink = np.zeros((40, 40), np.float32)
    ink[20, :] = 1.0  # a horizontal stroke; the light from above (y up)
    field = form_field(ink, (-1.0, 0.0), (540, 960), 0.2)
    assert field[19, 20] > 0.1  # above: lit
    assert field[21, 20] < -0.1  # below: shade
    assert abs(field[20, 20]) < 0.02  # the stroke itself: the mid tone, not a dark line


def test_a_bad_line_style_is_refused_naming_the_option() -> None:
    with pytest.raises(RenderRefused, match="line_style"):
        _render({"line_style": "pencil"})

"""line_style ink: the board's own line colour and weight, read off its label borders and drawn
along the layout's strokes (engines/exemplar/board_lines.py)."""

from __future__ import annotations

import numpy as np

from haikei.engines.base import BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import create
from haikei.engines.exemplar.board_lines import FALLBACK_SHADE, InkLine, board_line, draw_ink, ink_line
from haikei.engines.exemplar.lines import choose_line_style
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.exemplar.plan import make_plan
from haikei.quality.colour import rgb_to_lab
from haikei.quality.ink import ink_darkness
from haikei.quality.metrics import line_f1
from tests.engines.contract import VOCAB, tiny_board, tiny_layout

BROWN = (70, 45, 25)
BLUE = (30, 40, 120)


def outlined(board: BoardInput, colour: tuple[int, int, int], width: int) -> BoardInput:
    """The board with its label borders drawn in ``colour``, ``width`` px wide (as an inked board)."""
    lab = board.labels
    mark = np.zeros(lab.shape, bool)
    mark[:-1] |= lab[:-1] != lab[1:]
    mark[:, :-1] |= lab[:, :-1] != lab[:, 1:]
    for k in range(width - 1):  # grow one pixel at a time, alternately down-right and up-left
        s = 1 if k % 2 == 0 else -1
        mark |= np.roll(mark, s, axis=0) | np.roll(mark, s, axis=1)
    img = board.image.copy()
    img[mark] = colour
    return BoardInput(key=f"{board.key}-outlined-{width}", image=img, labels=lab)


def _lab(rgb: tuple[float, ...] | tuple[int, ...]) -> np.ndarray:
    c = np.asarray(rgb, np.float64)
    if c.max() <= 1.0:
        c = c * 255.0
    return rgb_to_lab(np.round(c).astype(np.uint8).reshape(1, 1, 3))[0, 0]


def _board() -> BoardInput:
    return tiny_board(h=96, w=160)


def test_a_brown_three_pixel_outline_is_read_as_brown_and_three_pixels() -> None:
    line = board_line(outlined(_board(), BROWN, 3))
    assert line is not None
    assert np.linalg.norm(np.asarray(line.lab) - _lab(BROWN)) < 5.0  # its own hue, not black
    assert line.lab[1] > 3 and line.lab[2] > 10  # warm: red and yellow in it
    assert 2.5 < line.width < 4.0
    assert line.softness < 0.5 and line.opacity > 0.9


def test_a_thin_blue_line_is_read_as_thin_and_blue() -> None:
    line = board_line(outlined(_board(), BLUE, 1))
    assert line is not None
    assert np.linalg.norm(np.asarray(line.lab) - _lab(BLUE)) < 5.0
    assert line.lab[2] < -30  # blue
    assert line.width < 2.0


def test_wider_outlines_read_wider() -> None:
    widths = [board_line(outlined(_board(), BROWN, w)) for w in (1, 3, 5)]
    assert all(w is not None for w in widths)
    w1, w3, w5 = (w.width for w in widths if w is not None)
    assert w1 < w3 < w5
    assert 4.0 < w5 < 6.5  # past the 5 x 5 top-hat that auto reads (the measure's closing is 11)


def test_a_painted_board_has_no_line_of_its_own() -> None:
    assert board_line(_board()) is None  # tones meet at its borders: nothing darker than both sides
    soft = _board()
    blurred = BoardInput(key="soft", image=(soft.image // 2 + 60).astype(np.uint8), labels=soft.labels)
    assert board_line(blurred) is None


def test_the_line_is_scaled_like_the_boards_paint() -> None:
    b = board_line(outlined(_board(), BROWN, 3))
    assert b is not None
    full, half = ink_line([(b, 1.0)]), ink_line([(b, 0.5)])
    assert abs(full.width - b.width) < 1e-6 and abs(half.width - b.width / 2) < 1e-6
    assert full.rgb is not None and np.linalg.norm(_lab(full.rgb) - np.asarray(b.lab)) < 1.5
    # boards that draw outlines weigh in by the length of their borders; one without none at all
    blue = board_line(outlined(_board(), BLUE, 1))
    assert blue is not None
    mixed = ink_line([(b, 1.0), (blue, 1.0), (None, 1.0)])
    assert mixed.rgb is not None and min(b.width, blue.width) < mixed.width < max(b.width, blue.width)
    assert ink_line([(None, 1.0)]).rgb is None  # no board draws outlines: the fallback


def _stroke_canvas() -> tuple[np.ndarray, np.ndarray]:
    canvas = np.full((40, 60, 3), (0.55, 0.75, 0.45), np.float32)  # a light green wash
    ink = np.zeros((40, 60), np.float32)
    ink[20, 5:55] = 1.0  # a full 1-px pencil stroke
    return canvas, ink


def _covered(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Per row of the stroke's middle column, how far the pixel moved towards the line (0..1)."""
    return np.abs(after[:, 30] - before[:, 30]).max(axis=1)


def test_ink_draws_a_brown_stroke_three_pixels_wide() -> None:
    canvas, ink = _stroke_canvas()
    before = canvas.copy()
    draw_ink(canvas, ink, InkLine((70 / 255, 45 / 255, 25 / 255), 3.0, 0.0, 1.0))
    moved = _covered(before, canvas) > 0.05
    assert moved[19:22].all() and not moved[:18].any() and not moved[23:].any()
    assert np.linalg.norm(_lab(tuple(canvas[20, 30])) - _lab(BROWN)) < 2.0
    assert np.allclose(canvas[5], before[5])  # away from the stroke the paint is untouched


def test_ink_draws_a_thin_blue_stroke_thin() -> None:
    canvas, ink = _stroke_canvas()
    before = canvas.copy()
    draw_ink(canvas, ink, InkLine((30 / 255, 40 / 255, 120 / 255), 1.0, 0.0, 1.0))
    moved = _covered(before, canvas) > 0.05
    assert moved[20] and not moved[19] and not moved[21]
    assert np.linalg.norm(_lab(tuple(canvas[20, 30])) - _lab(BLUE)) < 2.0


def _cover(before: np.ndarray, after: np.ndarray, colour: tuple[float, float, float]) -> np.ndarray:
    """Per row of the stroke's middle column, the line's cover (0..1), read off the green channel."""
    return (before[:, 30, 1] - after[:, 30, 1]) / (before[:, 30, 1] - colour[1])


def test_a_half_weight_stroke_is_drawn_at_half_the_boards_weight() -> None:
    brown = (70 / 255, 45 / 255, 25 / 255)
    widths = []
    for pressure in (1.0, 0.5):  # the layout's full pencil, and its lighter one (an interior stroke)
        canvas, ink = _stroke_canvas()
        before = canvas.copy()
        draw_ink(canvas, ink * pressure, InkLine(brown, 4.0, 0.0, 1.0))
        widths.append(float(_cover(before, canvas, brown).sum()))
    assert abs(widths[0] - 4.0) < 0.3 and abs(widths[1] - 2.0) < 0.3


def test_a_board_without_outlines_gets_the_darker_sides_own_tone_never_black() -> None:
    canvas = np.zeros((40, 60, 3), np.float32)
    canvas[:20] = (0.55, 0.75, 0.95)  # sky
    canvas[20:] = (0.25, 0.45, 0.2)  # grass
    ink = np.zeros((40, 60), np.float32)
    ink[20, :] = 1.0
    draw_ink(canvas, ink, InkLine(None, 0.0, 0.0, 1.0))
    got = canvas[20, 30]
    assert np.allclose(got, np.asarray((0.25, 0.45, 0.2)) * FALLBACK_SHADE, atol=1e-5)
    assert got[1] > got[0] and got[1] > got[2] and got.min() > 0.1  # green, not black
    assert np.allclose(canvas[17, 30], (0.55, 0.75, 0.95))  # off the stroke nothing changes


def test_a_variants_change_is_only_covered() -> None:
    canvas, ink = _stroke_canvas()
    draw_ink(canvas, ink, InkLine((70 / 255, 45 / 255, 25 / 255), 1.0, 0.0, 1.0), delta=True)
    assert np.allclose(canvas[20, 10:50], 0.0) and np.allclose(canvas[10], (0.55, 0.75, 0.45))


def test_ink_asks_the_plans_boards_for_their_line() -> None:
    lines, regions = tiny_layout(96, 160)
    opts = ExemplarOptions.model_validate({})
    for board, colour in ((outlined(_board(), BROWN, 3), BROWN), (_board(), None)):
        req = RenderRequest(lines=lines, regions=regions, boards=(board,), vocabulary=VOCAB)
        plan = make_plan(req, opts, regions)
        style = choose_line_style(req, "ink", plan)
        assert style.used == "ink" and style.line is not None
        if colour is None:
            assert style.line.rgb is None  # the fallback
        else:
            assert style.line.rgb is not None
            assert np.linalg.norm(_lab(style.line.rgb) - _lab(colour)) < 5.0
            assert 2.0 < style.line.width < 4.0  # 3 px at the plan's copy scale (about 1 here)
        auto = choose_line_style(req, "auto", plan)
        assert (auto.used == "ink") == (colour is not None)
        assert (auto.line is not None) == (colour is not None)
    paint = choose_line_style(req, "paint", plan)
    assert paint.line is None


# -- through the engine ------------------------------------------------------------------------


def _render(board: BoardInput, style: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, object]]:
    """The tiny layout at 384 x 640 (the 96 x 160 board copied at scale 1, its line F1 tolerance 2 px)."""
    lines, regions = tiny_layout(384, 640)
    req = RenderRequest(
        lines=lines, regions=regions, boards=(board,), seed=3, vocabulary=VOCAB, options={"line_style": style}
    )
    res = create({}).render(req, EngineContext())
    return res.image, lines, regions, res.recipe


def _across_the_flat_border(image: np.ndarray, lines: np.ndarray, colour: tuple[int, int, int]) -> int:
    """How many rows, across the layout's straight mountain / grass border, are painted in ``colour``
    (within 12 Lab units), in the median column."""
    row = int(np.median(np.nonzero(lines[:, 320] == 0)[0][-1:]))  # the lowest stroke: the straight one
    strip = rgb_to_lab(image[row - 8 : row + 9, 200:440])
    near = np.linalg.norm(strip - _lab(colour), axis=-1) < 12.0
    return int(np.median(near.sum(axis=0)))


def test_an_inked_board_gives_ink_in_its_own_colour_and_weight() -> None:
    image, lines, regions, recipe = _render(outlined(_board(), BROWN, 3), "ink")
    line = recipe["line_style"]["line"]  # type: ignore[index]
    assert line["source"] == "boards" and 2.5 < line["width_px"] < 4.0
    on = rgb_to_lab(image[lines == 0])
    assert np.linalg.norm(np.median(on, axis=0) - _lab(BROWN)) < 8.0  # brown, not black
    assert 2 <= _across_the_flat_border(image, lines, BROWN) <= 4
    thin, _, _, _ = _render(outlined(_board(), BLUE, 1), "ink")
    assert np.linalg.norm(np.median(rgb_to_lab(thin[lines == 0]), axis=0) - _lab(BLUE)) < 8.0
    assert 1 <= _across_the_flat_border(thin, lines, BLUE) <= 2
    # the edges are where the layout puts them, and the ink figure tells ink from paint
    paint, _, _, _ = _render(outlined(_board(), BROWN, 3), "paint")
    f1_ink, f1_paint = line_f1(image, lines)[0], line_f1(paint, lines)[0]
    assert f1_ink is not None and f1_paint is not None and f1_ink >= max(0.95, f1_paint)
    ink_ink = ink_darkness(image, lines, regions).ink
    ink_paint = ink_darkness(paint, lines, regions).ink
    assert ink_ink is not None and ink_paint is not None and ink_ink > 8.0 and ink_paint < 3.0

"""How the layout's lines go into the painting (``line_style``: auto | paint | ink).

In anime background art the layout's pencil is not in the final picture: a region border becomes
an edge of colour and value, an interior stroke (a ripple, a gully, a cloud lobe) becomes form,
light on one side and shade on the other. Only a board whose own painting has outlines should
give outlines.

- ``paint``: natural areas get :func:`form_field`, a light / shade change across every stroke
  (lighter on the side facing the light, darker on the other, the stroke itself at the mid
  tone), so the stroke is an edge in the painting and never a line darker than both its sides;
  man-made faces meet as tones (no drawn line, no contact shade on both sides of it).
- ``ink``: the layout's strokes drawn in the boards' own line colour and weight (:mod:`.board_lines`:
  measured along the boards' label borders; boards without outlines: each stroke as the layout drew
  it, in the darkest tone of the paint on its two sides, never black), over a glaze
  (:func:`lay_in_ink`). The man-made painter still draws its lines and contact shade under them
  (``structure_line_strength``).
- ``auto``: :func:`board_ink` on the boards the plan paints from; ``ink`` when their painting draws
  dark lines along their own label borders (more than :data:`INK_LSTAR` darker than both sides,
  beyond their texture's own dark specks), otherwise ``paint``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange
from scipy import ndimage

from haikei.engines.base import BoardInput, RenderRequest
from haikei.engines.exemplar import guides as G
from haikei.engines.exemplar.blur import gaussian_blur
from haikei.engines.exemplar.board_lines import INK_LSTAR, InkLine, board_line, draw_ink, ink_line
from haikei.engines.exemplar.cache import BoundedCache
from haikei.engines.exemplar.guides import colour_features, label_borders
from haikei.engines.exemplar.plan import Plan

__all__ = [
    "INK_LSTAR",
    "LineStyle",
    "board_ink",
    "choose_line_style",
    "form_field",
    "lay_in_ink",
    "plan_ink_line",
    "shade_form",
]

# the form's width across a stroke, in u: at 1.5 the dense far paddy borders of rice_fields blurred
# into one another and cancelled (line F1 .67 with line_form .16; at 1.0 and .2: .79)
FORM_SIGMA = 1.0
_MAX_SIDE = 960  # boards are measured at most this large (a stride, deterministic)
_INK: BoundedCache[tuple[str, bytes], float] = BoundedCache(16, "board ink")


@dataclass(frozen=True)
class LineStyle:
    """The line style asked for, the one used, what auto measured (None when not asked) and, for
    ink, the line drawn (the boards' own, or the fallback)."""

    asked: str
    used: str
    board_ink: float | None
    line: InkLine | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "asked": self.asked,
            "used": self.used,
            "board_ink": None if self.board_ink is None else round(self.board_ink, 3),
        }
        if self.line is not None:
            out["line"] = self.line.as_dict()
        return out


def _lstar(rgb: np.ndarray) -> np.ndarray:
    """Approximate CIE L* (0..100) of uint8 RGB from its luma."""
    y = colour_features(rgb)[..., 0].astype(np.float32)
    lin = np.where(y <= 0.04045, y / 12.92, ((y + 0.055) / 1.055) ** 2.4)
    return np.where(lin > 0.008856, 116.0 * np.cbrt(lin) - 16.0, 903.3 * lin).astype(np.float32)


def board_ink(board: BoardInput) -> float:
    """How much darker than both sides the board's painting is along its own label borders (L*),
    beyond its texture: the mean black top-hat (a 5 x 5 closing minus the painting: thin dark
    marks) on its label borders minus its mean away from them. A colour or value step between two
    classes gives 0 (a closing keeps steps); a drawn outline gives about its depth."""
    img, lab = board.image, board.labels
    key = (board.key, hashlib.blake2b(img.tobytes() + lab.tobytes(), digest_size=16).digest())
    hit = _INK.get(key)
    if hit is not None:
        return hit
    step = max(1, -(-max(img.shape[:2]) // _MAX_SIDE))
    img, lab = img[::step, ::step], lab[::step, ::step]
    lstar = _lstar(img)
    tophat = ndimage.grey_closing(lstar, size=(5, 5)) - lstar
    labelled = lab != 255
    border = label_borders(lab)
    border |= np.roll(border, 1, axis=0) | np.roll(border, 1, axis=1)  # both sides of the border
    near = ndimage.binary_dilation(border, iterations=4)
    on = border & labelled & ndimage.binary_erosion(labelled, iterations=1)
    away = labelled & ~near
    if on.sum() < 16 or away.sum() < 16:
        return _INK.put(key, 0.0)
    return _INK.put(key, max(0.0, float(tophat[on].mean() - tophat[away].mean())))


def _plan_boards(request: RenderRequest, plan: Plan) -> list[int]:
    return sorted({b for p in plan.classes.values() for b in p.boards}) or list(range(len(request.boards)))


def plan_ink_line(request: RenderRequest, plan: Plan) -> InkLine:
    """The line ``ink`` draws for this plan: the outlines of the boards it paints from, each at its
    copy scale (:func:`.board_lines.ink_line`), or the fallback when none draws any."""
    return ink_line(
        [(board_line(request.boards[b]), plan.scales.get(b, 1.0)) for b in _plan_boards(request, plan)]
    )


def choose_line_style(request: RenderRequest, asked: str, plan: Plan) -> LineStyle:
    """``asked`` as used: paint or ink themselves; auto measures the boards the plan paints from.
    Ink comes with its line (:func:`plan_ink_line`)."""
    if asked == "paint":
        return LineStyle(asked, asked, None)
    if asked == "ink":
        return LineStyle(asked, asked, None, plan_ink_line(request, plan))
    ink = max(board_ink(request.boards[b]) for b in _plan_boards(request, plan))
    if ink > INK_LSTAR:
        return LineStyle(asked, "ink", ink, plan_ink_line(request, plan))
    return LineStyle(asked, "paint", ink)


def lay_in_ink(
    canvas: np.ndarray,
    natural: np.ndarray,
    drawn: np.ndarray,
    ink: np.ndarray,
    line: InkLine,
    glaze: float,
    frame: tuple[int, int],
    rng: np.random.Generator,
    *,
    delta: bool = False,
) -> None:
    """``line_style`` ink: the ``natural`` pixels glazed (as with paint: a wash is never perfectly
    even), then the layout's strokes drawn over the ``drawn`` pixels in ``line``
    (:func:`.board_lines.draw_ink`). ``delta``: the canvas holds a change to a parent that carries
    the lines already (a variant): the change is only covered where the line covers the paint."""
    h, w = natural.shape
    glaze_noise = G.smooth_noise(h, w, rng, max(8.0, 0.02 * max(frame)))
    shade_form(canvas, natural, np.zeros((h, w), np.bool_), np.zeros((h, w), np.float32), glaze_noise, glaze)
    draw_ink(canvas, np.where(drawn, ink, 0.0), line, delta=delta)


def form_field(
    ink: np.ndarray, light: tuple[float, float], frame: tuple[int, int], strength: float
) -> np.ndarray:
    """A relative tone change across the layout's strokes (float32; multiply the paint by ``1 + field``).

    The ink (1 = full) is blurred by :data:`FORM_SIGMA` u (u = 1 px at 960x540, grows with the frame's diagonal);
    its gradient across a stroke points at the stroke from both sides. The field is ``strength``
    times that gradient's size (a full 1-px stroke's peak = 1), signed by the side facing the light
    (a direction turned 20 degrees off the light, so that strokes along the light still get a side,
    its sign eased in over a few degrees): on the stroke itself 0, lighter on the lit side, darker
    on the other, as a fold in a surface is lit. Clipped to +-1.5 ``strength``."""
    h, w = frame
    unit = max(1.0, float(np.hypot(h, w)) / 1100.0)
    sigma = FORM_SIGMA * unit
    soft = gaussian_blur(np.ascontiguousarray(ink, np.float32), sigma)
    a = np.radians(20.0)
    ly, lx = light
    dy, dx = ly * np.cos(a) - lx * np.sin(a), lx * np.cos(a) + ly * np.sin(a)
    # the peak gradient of a 1-px stroke of full ink blurred by sigma is exp(-1/2) / (sqrt(2 pi) sigma)
    peak = np.exp(-0.5) / (np.sqrt(2.0 * np.pi) * sigma)
    out = np.empty(soft.shape, np.float32)
    _form(soft, np.float32(dy), np.float32(dx), np.float32(strength / peak), np.float32(1.5 * strength), out)
    return out


@njit(cache=True, parallel=True)
def _form(soft, dy, dx, k, lim, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out = clip(-k |g| tanh(4 (g . d) / |g|), -lim, lim)`` with ``g`` the gradient of ``soft``
    (central differences, one-sided at the borders, as numpy's ``gradient``), in one parallel pass."""
    h, w = soft.shape
    half = np.float32(0.5)
    for y in prange(h):
        for x in range(w):
            if h == 1:
                gy = np.float32(0.0)
            elif y == 0:
                gy = soft[1, x] - soft[0, x]
            elif y == h - 1:
                gy = soft[h - 1, x] - soft[h - 2, x]
            else:
                gy = (soft[y + 1, x] - soft[y - 1, x]) * half
            if w == 1:
                gx = np.float32(0.0)
            elif x == 0:
                gx = soft[y, 1] - soft[y, 0]
            elif x == w - 1:
                gx = soft[y, w - 1] - soft[y, w - 2]
            else:
                gx = (soft[y, x + 1] - soft[y, x - 1]) * half
            mag = np.float32(math.sqrt(gy * gy + gx * gx))
            if mag < 1e-9:
                out[y, x] = 0.0
                continue
            v = -k * mag * np.float32(math.tanh(np.float32(4.0) * (gy * dy + gx * dx) / mag))
            out[y, x] = min(max(v, -lim), lim)


@njit(cache=True, parallel=True)
def shade_form(canvas, natural, formed, field, glaze_noise, glaze):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """One parallel pass: the ``natural`` pixels times ``1 + glaze * glaze_noise`` (a wash is never
    perfectly even), the ``formed`` pixels times ``1 + field``."""
    h, w = natural.shape
    one = np.float32(1.0)
    gl = np.float32(glaze)
    for y in prange(h):
        for x in range(w):
            f = one
            if natural[y, x]:
                f = one + gl * glaze_noise[y, x]
            if formed[y, x]:
                f = f * (one + field[y, x])
            if f != one:
                for c in range(canvas.shape[2]):
                    canvas[y, x, c] *= f

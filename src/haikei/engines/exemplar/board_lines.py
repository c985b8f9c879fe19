"""``line_style`` ink: the layout's strokes drawn in the board's own line colour and weight.

A board whose painting draws outlines (:func:`.lines.board_ink` above :data:`INK_LSTAR`) is
measured along its own label borders (:func:`board_line`):

- the line's *depth*: the black top-hat of L* (an 11 x 11 closing minus L*: marks darker than both
  sides, up to ~9 px wide; a step between two tones gives 0), the median of its ridge along the
  borders, less the top-hat's median away from them (the texture's own dark specks);
- its *coverage* per pixel near the borders: the top-hat over the depth, clipped to 0..1; the
  line's *weight* is the covered area (coverage above 1/2, less what the texture gives as much area
  away from the borders) over the borders' length (per 16 px tile, the hypot of its horizontal and
  vertical label crossings), in board pixels; its *softness* is half the difference between the
  widths at coverage 1/4 and 3/4 (0 for a hard-edged line);
- its *colour*: the median CIE Lab of the pixels covered at 3/4 or more (the board's own hue, a
  brown line stays brown); its *opacity*: the share of the border pixels whose ridge is at least
  half the depth (a line broken in places, or drawn along some borders only, is laid in lighter).

:func:`ink_line` combines the boards the plan paints from (weighted by their borders' length) at
the render's scale (each board's weight times its copy scale, as its paint is scaled). A plan whose
boards draw no outlines gets the fallback: each stroke as the layout drew it (its own weight and
anti-aliasing), in the darkest tone of the paint on its two sides (the darkest pixel within reach
of the stroke, by luma) taken down by :data:`FALLBACK_SHADE` - the region's own darker tone, never
black. :func:`draw_ink` lays the strokes over the painted window (every class: natural, man-made,
palette-painted).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange
from scipy import ndimage

from haikei.engines.base import BoardInput
from haikei.engines.exemplar.adjust import lab_to_rgb
from haikei.engines.exemplar.cache import BoundedCache
from haikei.engines.exemplar.guides import label_borders
from haikei.quality.colour import rgb_to_lab

__all__ = [
    "FALLBACK_SHADE",
    "INK_LSTAR",
    "BoardLine",
    "InkLine",
    "board_line",
    "draw_ink",
    "ink_line",
]

# L*: a board whose label borders are on average this much darker than both sides (beyond the dark
# specks of its texture) paints outlines. The bundled boards: SafeLanding and Altai well below 1
INK_LSTAR = 4.0
FALLBACK_SHADE = 0.7  # a fallback stroke: the darker side's darkest paint times this (sRGB)
CLOSING = 11  # the top-hat's closing (px): lines up to ~9 px wide are measured whole
_BAND = 6  # px either side of a label border searched for its line
_TILE = 16  # px: the borders' length is summed per tile of this size
_MAX_SIDE = 2048  # boards are measured at most this large (a stride; the weight is scaled back)
_LINES: BoundedCache[tuple[str, bytes], BoardLine] = BoundedCache(16, "board lines")


@dataclass(frozen=True)
class BoardLine:
    """A board's own outline: colour (sRGB 0..1 and Lab), weight and softness in board pixels,
    opacity (0..1), depth (L* darker than both sides) and the borders' length it was read on (px)."""

    rgb: tuple[float, float, float]
    lab: tuple[float, float, float]
    width: float
    softness: float
    opacity: float
    depth: float
    length: float


@dataclass(frozen=True)
class InkLine:
    """The line ``ink`` draws: ``rgb`` None is the fallback (the darker side's own tone, the layout's
    weight); otherwise the board's colour at ``width`` / ``softness`` render pixels and ``opacity``."""

    rgb: tuple[float, float, float] | None
    width: float
    softness: float
    opacity: float

    def as_dict(self) -> dict[str, Any]:
        if self.rgb is None:
            return {"source": "fallback: the darker side's paint", "shade": FALLBACK_SHADE}
        return {
            "source": "boards",
            "colour": "#" + "".join(f"{round(c * 255):02x}" for c in self.rgb),
            "width_px": round(self.width, 2),
            "softness_px": round(self.softness, 2),
            "opacity": round(self.opacity, 3),
        }


def _lab_to_srgb(lab: np.ndarray) -> tuple[float, float, float]:
    """One CIE Lab colour -> sRGB 0..1 (clipped), the inverse of :func:`rgb_to_lab`."""
    rgb = lab_to_rgb(np.asarray(lab, np.float64).reshape(1, 3))[0]
    return (float(rgb[0]) / 255.0, float(rgb[1]) / 255.0, float(rgb[2]) / 255.0)


def _length(cross_h: np.ndarray, cross_v: np.ndarray, shape: tuple[int, int]) -> float:
    """The length (px) of the curves crossed: per tile the hypot of its crossings between horizontal
    neighbours (``cross_h``, h x w-1) and between vertical ones (``cross_v``, h-1 x w)."""
    h, w = shape
    th, tw = -(-h // _TILE), -(-w // _TILE)
    nh = np.zeros((th * _TILE, tw * _TILE), np.float64)
    nv = np.zeros_like(nh)
    nh[:h, : w - 1] = cross_h
    nv[: h - 1, :w] = cross_v
    sh = nh.reshape(th, _TILE, tw, _TILE).sum(axis=(1, 3))
    sv = nv.reshape(th, _TILE, tw, _TILE).sum(axis=(1, 3))
    return float(np.hypot(sh, sv).sum())


def board_line(board: BoardInput) -> BoardLine | None:
    """The board's outline as its painting draws it along its label borders (see the module), or
    None when it draws none measurable (no labelled border, or no line darker than its texture)."""
    img, lab = board.image, board.labels
    key = (board.key, hashlib.blake2b(img.tobytes() + lab.tobytes(), digest_size=16).digest())
    if key in _LINES:
        return _LINES.get(key)
    out = _measure(img, lab)
    if out is not None:
        _LINES.put(key, out)
    return out


def _measure(img: np.ndarray, lab: np.ndarray) -> BoardLine | None:
    step = max(1, -(-max(img.shape[:2]) // _MAX_SIDE))
    img, lab = img[::step, ::step], lab[::step, ::step]
    lstar = rgb_to_lab(img)[..., 0]
    tophat = ndimage.grey_closing(lstar, size=(CLOSING, CLOSING)) - lstar
    labelled = lab != 255
    border = label_borders(lab) & labelled
    border |= np.roll(border, 1, axis=0) | np.roll(border, 1, axis=1)
    band = ndimage.binary_dilation(border, iterations=_BAND) & labelled
    away = labelled & ~ndimage.binary_dilation(border, iterations=_BAND + 4)
    if border.sum() < 16 or away.sum() < 16:
        return None
    base = float(np.median(tophat[away]))
    # the borders must be darker than both sides beyond the texture by INK_LSTAR, as auto asks
    # (as lines.board_ink, here with the wider closing)
    if float(tophat[border].mean() - tophat[away].mean()) <= INK_LSTAR:
        return None
    # the ridge: the darkest mark within a pixel of each border pixel
    ridge = ndimage.maximum_filter(tophat, size=3)[border]
    depth = float(np.median(ridge)) - base
    cover = np.clip((tophat - base) / depth, 0.0, 1.0)
    cross_h = (lab[:, :-1] != lab[:, 1:]) & labelled[:, :-1] & labelled[:, 1:]
    cross_v = (lab[:-1] != lab[1:]) & labelled[:-1] & labelled[1:]
    length = _length(cross_h, cross_v, lab.shape)
    if length < 8:
        return None
    n_band, n_away = int(band.sum()), int(away.sum())

    def width(t: float) -> float:
        texture = float((cover[away] > t).sum()) / n_away * n_band  # what the texture covers as much
        return max(0.0, (float((cover[band] > t).sum()) - texture) / length)

    w25, w50, w75 = width(0.25), width(0.5), width(0.75)
    core = band & (cover >= 0.75)
    if core.sum() < 8:
        return None
    med = np.median(rgb_to_lab(img[core]).reshape(-1, 3), axis=0)
    opacity = float(np.mean((ridge - base) >= 0.5 * depth))  # the share of the borders it is drawn on
    return BoardLine(
        rgb=_lab_to_srgb(med),
        lab=(float(med[0]), float(med[1]), float(med[2])),
        width=w50 * step,
        softness=max(0.0, (w25 - w75) / 2.0) * step,
        opacity=opacity,
        depth=depth,
        length=length * step,
    )


def ink_line(lines: list[tuple[BoardLine | None, float]]) -> InkLine:
    """The line to draw from (board line, copy scale) of the boards the plan paints from: their
    colours (in Lab), weights and softness at the render's scale, weighted by their borders' length;
    the fallback when none draws outlines."""
    drawn = [(b, s) for b, s in lines if b is not None]
    if not drawn:
        return InkLine(None, 0.0, 0.0, 1.0)
    wt = np.array([b.length for b, _ in drawn], np.float64)
    wt /= wt.sum()
    lab = np.sum([np.array(b.lab) * k for (b, _), k in zip(drawn, wt, strict=True)], axis=0)
    return InkLine(
        rgb=_lab_to_srgb(lab),
        width=float(sum(b.width * s * k for (b, s), k in zip(drawn, wt, strict=True))),
        softness=float(sum(b.softness * s * k for (b, s), k in zip(drawn, wt, strict=True))),
        opacity=float(sum(b.opacity * k for (b, _), k in zip(drawn, wt, strict=True))),
    )


def _fallback_colour(canvas: np.ndarray, reach: int, where: np.ndarray) -> np.ndarray:
    """At the ``where`` pixels (n x 3) the colour of the darkest paint (by luma) within ``reach`` px,
    times FALLBACK_SHADE."""
    h, w = canvas.shape[:2]
    luma = canvas[..., 0] * 0.299 + canvas[..., 1] * 0.587 + canvas[..., 2] * 0.114
    # the argmin of a minimum filter: luma quantised above the pixel's index, one int64 filter
    q = np.clip(luma * 4095.0, 0, 4095).astype(np.int64)
    keyed = (q << 32) | np.arange(h * w, dtype=np.int64).reshape(h, w)
    idx = ndimage.minimum_filter(keyed, size=2 * reach + 1, mode="nearest")[where] & 0xFFFFFFFF
    return np.asarray(canvas.reshape(-1, 3)[idx] * FALLBACK_SHADE, np.float32)


def _distances(width: float, softness: float) -> np.ndarray:
    """The distances (px) from the centre of a square just large enough for a stamp ``width`` wide."""
    n = max(1, int(np.ceil(width / 2.0 + 1.0 + softness)))
    yy, xx = np.mgrid[-n : n + 1, -n : n + 1]
    return np.ascontiguousarray(np.hypot(yy, xx), np.float32)


@njit(cache=True, parallel=True)
def _stamp(ink, near, dist, width, ramp, out):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """``out[p]``: the most any pencil pixel ``q`` covers ``p`` when stamped as a round dab
    ``width * ink[q]`` px across (edge ramp ``ramp`` px): ``clip(((wq - 1) / 2 + 1/2 - d) / ramp + 1/2, 0, 1)``
    at distance ``d`` from ``q``, ``min(1, wq)`` on ``q`` itself (a dab under a pixel covers it partly);
    0 where not ``near`` (no pencil within reach)."""
    h, w = ink.shape
    n = dist.shape[0] // 2
    one = np.float32(1.0)
    half = np.float32(0.5)
    zero = np.float32(0.0)
    for y in prange(h):
        for x in range(w):
            m = zero
            if not near[y, x]:
                out[y, x] = m
                continue
            for dy in range(-n, n + 1):
                yy = y + dy
                if yy < 0 or yy >= h:
                    continue
                for dx in range(-n, n + 1):
                    xx = x + dx
                    if xx < 0 or xx >= w:
                        continue
                    wq = width * ink[yy, xx]
                    if wq <= zero:
                        continue
                    d = dist[dy + n, dx + n]
                    if d == zero:
                        v = min(one, wq)
                    else:
                        v = min(max(((wq - one) * half + half - d) / ramp + half, zero), one)
                    if v > m:
                        m = v
            out[y, x] = m


def draw_ink(canvas: np.ndarray, ink: np.ndarray, line: InkLine, *, delta: bool = False) -> None:
    """The layout's strokes (``ink``: 1 = full pencil) drawn into ``canvas`` (float32 sRGB 0..1) as
    ``line`` says. The boards' line: every pencil pixel stamped as a round dab of the line's colour
    ``width`` times its ink across (so a full 1-px stroke becomes a line of the board's weight, a
    stroke the layout draws at half weight one of half the board's, and an anti-aliased stroke stays
    whole), the edge ramped over ``softness``, laid at the line's opacity. The fallback: the stroke as
    the layout drew it, in the darker side's tone (:func:`_fallback_colour`). ``delta``: the canvas is
    a change to a parent painted with the same lines: only covered."""
    ink = np.ascontiguousarray(np.clip(ink, 0.0, 1.0), np.float32)
    pencil = ink > 0
    if not pencil.any():
        return
    if line.rgb is None:
        alpha = ink
    else:
        dist = _distances(line.width, line.softness)
        near = ndimage.maximum_filter(pencil.view(np.uint8), size=dist.shape[0]) > 0
        alpha = np.empty_like(ink)
        ramp = np.float32(1.0 + 2.0 * line.softness)
        _stamp(ink, near, dist, np.float32(line.width), ramp, alpha)
        alpha *= np.float32(line.opacity)
    drawn = alpha > 0
    a = alpha[drawn][:, None]
    if delta:
        canvas[drawn] *= 1.0 - a
        return
    colour = np.asarray(line.rgb, np.float32) if line.rgb is not None else _fallback_colour(canvas, 2, drawn)
    canvas[drawn] = canvas[drawn] * (1.0 - a) + a * colour

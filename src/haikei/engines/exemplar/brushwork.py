"""Brushwork for the areas painted from a palette (man-made faces, derived ground, sand, paths).

A palette gives an area its colours but not its hand: a flat tone under smooth noise reads as a
digital blur (soft blotches), not as paint. Here the area is laid in with short brush strokes the
way a background artist blocks in a wall or a beach:

- each stroke is a capsule (a line with round ends) a few pixels wide, its tone a small step
  lighter or darker than the base, drying out along its length, with faint bristle streaks;
- strokes follow the form: they run along the nearest outlines and layout lines of the area
  (a structure tensor of the area's edges), and lie flat where no outline is near (a ground plane);
- on a ground plane they shorten towards the top of the area (farther away);
- the strength of the strokes is read from the board: the relative size of its fine tonal detail
  in its calm areas, so a smooth, airbrushed board gives quiet strokes and a rough one bold ones.

Strokes are placed at random pixels of the area, so no two parts of it are the same (a wall or a
beach many times the board's size never repeats), and they stop exactly at the area's border.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from haikei.engines.exemplar.blur import gaussian_blur
from haikei.engines.exemplar.cache import BoundedCache

__all__ = ["Orientation", "board_brush_contrast", "brush_field", "stroke_length", "stroke_orientation"]

# the relative tonal step of a stroke is kept within these bounds whatever the board shows
MIN_CONTRAST = 0.02
MAX_CONTRAST = 0.10
# a board's contrast per (luminance bytes, shape): measured once per process
_CONTRASTS: BoundedCache[tuple[bytes, tuple[int, ...]], float] = BoundedCache(16, "brush contrasts")


def stroke_length(h: int, w: int) -> float:
    """A brush stroke's length in pixels for an h x w frame (the brush scales with the frame)."""
    return max(4.0, 0.012 * max(h, w))


def _blur(a: np.ndarray, sigma: float) -> np.ndarray:
    return gaussian_blur(np.ascontiguousarray(a, np.float32), sigma)


def board_brush_contrast(luma: np.ndarray) -> float:
    """The board's fine tonal detail relative to its tone, in its calm areas (a ratio, 0.02-0.10).

    ``luma``: the board's luminance at the render's scale (0..255 or 0..1, any). The local standard
    deviation over about 6 x 6 pixels, divided by the local mean, is taken at its 40th percentile:
    below the edges and objects (which are not brushwork), above the flattest sky.
    """
    lum = np.ascontiguousarray(luma, dtype=np.float32)
    if lum.size < 64:
        return MIN_CONTRAST
    key = (hashlib.blake2b(lum.tobytes(), digest_size=16).digest(), lum.shape)
    hit = _CONTRASTS.get(key)
    if hit is not None:
        return hit
    mean = _blur(lum, 2.0)
    var = _blur(lum * lum, 2.0) - mean * mean
    rel = np.sqrt(np.maximum(var, 0.0)) / np.maximum(mean, 1e-3 * float(lum.max()) + 1e-6)
    out = min(max(float(np.percentile(rel, 40)), MIN_CONTRAST), MAX_CONTRAST)
    return _CONTRASTS.put(key, out)


@dataclass(frozen=True)
class Orientation:
    """The direction strokes run in, sampled every ``step`` pixels: (cos, sin) of the angle from +x,
    y pointing down, at ``[y // step, x // step]``."""

    cos: np.ndarray
    sin: np.ndarray
    step: int

    def at(self, y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.cos[y // self.step, x // self.step], self.sin[y // self.step, x // self.step]


def stroke_orientation(edges: np.ndarray, scale: float) -> Orientation:
    """Where strokes run: along the edges (``edges``: outlines and layout lines, bool) within about
    ``scale`` pixels, and horizontally where none is near. Worked at a quarter of the size (the field
    is smooth)."""
    h, w = edges.shape
    f = 4 if min(h, w) >= 64 else 1
    sh, sw = -(-h // f), -(-w // f)
    pad = np.zeros((sh * f, sw * f), np.float32)
    pad[:h, :w] = edges
    small = pad.reshape(sh, f, sw, f).mean(axis=(1, 3))
    soft = _blur(small, 1.0)
    gy, gx = np.gradient(soft)
    s = max(1.0, scale / f)
    jxx = _blur(gx * gx, s)
    jyy = _blur(gy * gy, s)
    jxy = _blur(gx * gy, s)
    # a weak prior for a level ground plane: horizontal strokes = a vertical gradient
    prior = 0.05 * float(max(jxx.max(), jyy.max(), 1e-9))
    jyy = jyy + prior
    # the dominant gradient's angle; strokes run at right angles to it
    theta = 0.5 * np.arctan2(2.0 * jxy, jxx - jyy) + 0.5 * np.pi
    return Orientation(np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32), f)


def brush_field(
    areas: np.ndarray,
    orientation: Orientation,
    rng: np.random.Generator,
    length: float,
    contrast: float,
    *,
    coverage: float = 2.0,
    perspective: np.ndarray | None = None,
) -> np.ndarray:
    """A relative tone field (float32, 0 outside the areas) of brush strokes laid over ``areas``.

    ``areas``: int32 area ids, 0 = not painted; a stroke stays inside the area (a face of a
    building, a beach) its centre lies in, as a painter's brush stops at the face's edge;
    ``orientation``: where the strokes run (:func:`stroke_orientation`, jittered a little per stroke).
    ``length``: a stroke's length in pixels (its width is about a quarter of it); ``contrast``: the
    standard deviation of a stroke's tonal step (relative, e.g. 0.04); ``coverage``: how many
    strokes cover a pixel on average; ``perspective``: per pixel 0 (far) .. 1 (near), strokes are
    shorter and narrower where it is small. Multiply a base colour by ``1 + field``.
    """
    h, w = areas.shape
    field = np.zeros((h, w), np.float32)
    ys, xs = np.nonzero(areas)
    if len(ys) == 0 or contrast <= 0:
        return field
    half_len = max(1.0, 0.5 * length)
    half_wid = max(0.75, 0.125 * length)
    n = math.ceil(coverage * len(ys) / (4.0 * half_len * half_wid))
    pick = rng.integers(0, len(ys), n)
    cy, cx = ys[pick], xs[pick]
    size = (
        np.ones(n, np.float32)
        if perspective is None
        else (0.45 + 0.55 * perspective[cy, cx]).astype(np.float32)
    )
    size *= rng.uniform(0.7, 1.3, n).astype(np.float32)
    jitter = rng.normal(0.0, 0.12, n).astype(np.float32)  # radians off the form's direction
    c0, s0 = orientation.at(cy, cx)
    cj, sj = np.cos(jitter), np.sin(jitter)
    ca = (c0 * cj - s0 * sj).astype(np.float32)
    sa = (s0 * cj + c0 * sj).astype(np.float32)
    value = np.clip(rng.normal(0.0, contrast, n), -2.5 * contrast, 2.5 * contrast).astype(np.float32)
    dry = rng.uniform(-0.6, 0.6, n).astype(np.float32) * np.abs(value)  # tone change along the stroke
    phase = rng.uniform(0.0, 1.0, n).astype(np.float32)
    opacity = rng.uniform(0.45, 0.85, n).astype(np.float32)
    half_lens = (half_len * size).astype(np.float32)
    half_wids = np.maximum(np.float32(0.75), half_wid * size).astype(np.float32)
    # bands of rows, each taller than two strokes' reach (see _stamp)
    band = 2 * int(float(half_lens.max()) + float(half_wids.max()) + 3) + 1
    band_of = cy // band
    order = np.argsort(band_of, kind="stable").astype(np.int64)
    starts = np.searchsorted(band_of[order], np.arange(h // band + 2)).astype(np.int64)
    _stamp(
        field,
        np.ascontiguousarray(areas, np.int32),
        order,
        starts,
        cy.astype(np.int64),
        cx.astype(np.int64),
        ca,
        sa,
        half_lens,
        half_wids,
        value,
        dry,
        phase,
        opacity,
    )
    return field


@njit(cache=True, parallel=True)
def _stamp(field, areas, order, starts, cy, cx, ca, sa, half_len, half_wid, value, dry, phase, opacity):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Lay the strokes band by band: ``order[starts[b]:starts[b + 1]]`` are band ``b``'s strokes in
    their drawing order. Bands are taller than two strokes' reach, so the even bands are laid at the
    same time, then the odd ones: no two threads touch one row, and the result does not depend on
    the number of threads."""
    n_bands = len(starts) - 1
    for parity in range(2):
        for k in prange((n_bands - parity + 1) // 2):
            b = 2 * k + parity
            for j in range(starts[b], starts[b + 1]):
                _stamp_one(
                    field, areas, order[j], cy, cx, ca, sa, half_len, half_wid, value, dry, phase, opacity
                )


@njit(cache=True)
def _stamp_one(field, areas, i, cy, cx, ca, sa, half_len, half_wid, value, dry, phase, opacity):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Lay stroke ``i`` over the field (alpha-blended), inside its own area only."""
    h, w = field.shape
    ln = half_len[i]
    wd = half_wid[i]
    reach = int(ln + wd) + 2
    y0, y1 = max(0, cy[i] - reach), min(h, cy[i] + reach + 1)
    x0, x1 = max(0, cx[i] - reach), min(w, cx[i] + reach + 1)
    c, s = ca[i], sa[i]
    own = areas[cy[i], cx[i]]
    bristle = np.float32(0.42) / wd  # a few bristle streaks across the stroke (cycles per pixel)
    r_across = wd + np.float32(1.0)  # beyond |v| > r_across or |u| > r_along nothing is touched
    r_along = ln + wd + np.float32(1.0)
    one = np.float32(1.0)
    for y in range(y0, y1):
        dy = np.float32(y - cy[i])
        # the columns where both bounds can hold: two slabs, intersected (only these are visited)
        lo, hi = np.float32(x0 - cx[i]), np.float32(x1 - 1 - cx[i])
        if abs(s) > 1e-6:  # |dy c - dx s| <= r_across
            a0, a1 = (dy * c - r_across) / s, (dy * c + r_across) / s
            lo, hi = max(lo, min(a0, a1)), min(hi, max(a0, a1))
        elif abs(dy) > r_across:
            continue
        if abs(c) > 1e-6:  # |dx c + dy s| <= r_along
            b0, b1 = (-r_along - dy * s) / c, (r_along - dy * s) / c
            lo, hi = max(lo, min(b0, b1)), min(hi, max(b0, b1))
        elif abs(dy) > r_along:
            continue
        if lo > hi:
            continue
        for x in range(cx[i] + math.floor(lo), cx[i] + math.ceil(hi) + 1):
            if areas[y, x] != own:
                continue
            dx = np.float32(x - cx[i])
            u = dx * c + dy * s  # along the stroke
            v = dy * c - dx * s  # across it
            t = u / ln
            # the stroke narrows towards its ends (the brush lifts off)
            wt = wd * (one - np.float32(0.35) * min(t * t, one))
            over = abs(u) - ln
            d = abs(v) if over <= 0 else np.float32(math.sqrt(over * over + v * v))
            a = min(wt - d + np.float32(0.5), one) * opacity[i]
            if a <= 0.0:
                continue
            # bristle streaks: a triangle wave across the stroke, in -1..1
            q = v * bristle + phase[i]
            q = q - np.float32(math.floor(q))
            tri = np.float32(4.0) * abs(q - np.float32(0.5)) - one
            tone = (value[i] + dry[i] * t) * (one + np.float32(0.25) * tri)
            field[y, x] = field[y, x] * (one - a) + tone * a

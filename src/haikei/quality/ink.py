"""``ink``: does the painting draw the layout's pencil as dark lines, or turn it into paint?

In anime background art the layout's lines are not in the final picture: a region border becomes
an edge of colour and value, an interior stroke becomes form (light on one side of a fold, shade
on the other). A colouring book draws them as ink: a line darker than *both* sides.

For every stroke pixel of the layout (``lines`` < 128) the stroke's direction is read off the ink
itself (the Hessian of the lightly blurred ink mask: the normal is the direction of strongest
negative curvature across the ridge). The painting's CIE L* is sampled

- on the stroke: the mean of the pixel and its two neighbours along the stroke;
- on each side: the median of 3 x 3 samples just beyond the stroke's edge along the normal (3
  distances, ``u``, ``2u``, ``3u`` past the last ink pixel, each at 3 offsets along the stroke;
  ``u`` grows with the frame's diagonal, 1 px at 960x540), leaving out samples that fall on other
  ink or outside the frame.

The pixel's deficit is ``max(0, min(side_a, side_b) - on_stroke)``: how much darker the stroke is
than the darker of its two sides, i.e. than both. ``ink`` is the mean deficit over the stroke
pixels, in L* units (0..100).

Where its zero lies: a stroke painted as a step between two tones (a region border as a colour
edge) or as light on one side and shade on the other sits between its sides: deficit 0. A blank or
flat painting: 0. A stroke lighter than its sides: 0 (a highlight is not ink). A stroke drawn
``d`` L* darker than a flat surround: ``d``. Texture gives a small positive floor (a noisy pixel is
sometimes darker than two noisy medians); the bench's calibration measures it on the art boards
themselves, along their own label borders (what the artist's painting gives).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from haikei.errors import InputError
from haikei.quality.colour import rgb_to_lab

__all__ = ["DARK_STEP", "InkScore", "ink_darkness"]

LAYOUT_INK = 128  # a layout pixel below this is pencil
DARK_STEP = 10.0  # L*: a stroke pixel darker than both sides by more than this counts as drawn ink
SIDE_DISTANCES = 3  # samples per side along the normal
MAX_STROKE_PIXELS = 200_000  # stroke pixels measured (an even subset beyond this)


@dataclass(frozen=True)
class InkScore:
    """The ``ink`` figure and what it is made of."""

    ink: float | None  # mean deficit, L* units; None when the layout has no ink
    details: dict[str, Any]


def _stroke_normals(
    ink: np.ndarray, ys: np.ndarray, xs: np.ndarray, sigma: float
) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals (ny, nx) across the strokes at the given ink pixels, from the blurred ink's Hessian."""
    f = ink.astype(np.float32)
    hyy = ndimage.gaussian_filter(f, sigma, order=(2, 0), mode="nearest")[ys, xs]
    hxx = ndimage.gaussian_filter(f, sigma, order=(0, 2), mode="nearest")[ys, xs]
    hxy = ndimage.gaussian_filter(f, sigma, order=(1, 1), mode="nearest")[ys, xs]
    # the direction of the algebraically larger eigenvalue is theta (x, y); across a ridge the
    # curvature is the most negative one, perpendicular to it
    theta = 0.5 * np.arctan2(2.0 * hxy, hxx - hyy)
    return np.cos(theta), -np.sin(theta)  # (ny, nx) = (cos theta, -sin theta) is perpendicular to theta


def _sample(img: np.ndarray, y: np.ndarray, x: np.ndarray, order: int) -> np.ndarray:
    return np.asarray(
        ndimage.map_coordinates(img, [y.ravel(), x.ravel()], order=order, mode="nearest")
    ).reshape(y.shape)


def ink_darkness(
    painting: np.ndarray,
    lines: np.ndarray,
    regions: np.ndarray | None = None,
    *,
    _lab: np.ndarray | None = None,
) -> InkScore:
    """How much darker than both sides the painting is along the layout's strokes (see module doc).

    With ``regions`` the details also split the figure into strokes on a region border and strokes
    inside one region (interior strokes: ripples, gullies, cloud lobes).
    """
    if painting.ndim != 3 or painting.shape[2] != 3 or painting.dtype != np.uint8:
        raise InputError(f"the painting must be uint8 HxWx3, got {painting.dtype} {painting.shape}")
    h, w = painting.shape[:2]
    if lines.shape != (h, w):
        raise InputError(
            f"layout lines are {lines.shape[1]}x{lines.shape[0]} but the painting is {w}x{h}; "
            "score the painting at its layout's size"
        )
    ink = lines < LAYOUT_INK
    if not ink.any():
        return InkScore(None, {})
    L = (rgb_to_lab(painting) if _lab is None else _lab)[..., 0].astype(np.float32)
    unit = max(1.0, float(np.hypot(h, w)) / 1100.0)  # 1 px at 960x540, 2 px at 1920x1080
    ys, xs = np.nonzero(ink)
    if len(ys) > MAX_STROKE_PIXELS:
        keep = np.linspace(0, len(ys) - 1, MAX_STROKE_PIXELS).astype(np.int64)
        ys, xs = ys[keep], xs[keep]
    ny, nx = _stroke_normals(ink, ys, xs, sigma=1.5 * unit)
    ty, tx = -nx, ny  # along the stroke
    fy, fx = ys.astype(np.float32), xs.astype(np.float32)
    ink_f = ink.astype(np.float32)

    # on the stroke: the pixel and its neighbours along the stroke
    along = np.array([-1.0, 0.0, 1.0], np.float32)
    on = _sample(L, fy[:, None] + along * ty[:, None], fx[:, None] + along * tx[:, None], 1).mean(axis=1)

    # distance from the pixel to the stroke's edge on each side: the first non-ink step
    max_gap = int(np.ceil(8 * unit))
    steps = np.arange(1, max_gap + 1, dtype=np.float32)
    sides = []
    for sign in (1.0, -1.0):
        py = fy[:, None] + sign * steps * ny[:, None]
        px = fx[:, None] + sign * steps * nx[:, None]
        inked = _sample(ink_f, py, px, 0) > 0.5
        gap = np.where(inked.all(axis=1), np.nan, np.argmin(inked, axis=1) + 1.0)  # px to the first paper
        dist = gap[:, None, None] - 1.0 + unit * np.arange(1, SIDE_DISTANCES + 1)[None, :, None]
        off = along[None, None, :]
        sy = fy[:, None, None] + sign * dist * ny[:, None, None] + off * ty[:, None, None]
        sx = fx[:, None, None] + sign * dist * nx[:, None, None] + off * tx[:, None, None]
        valid = np.isfinite(sy) & (sy >= 0) & (sy <= h - 1) & (sx >= 0) & (sx <= w - 1)
        sy0, sx0 = np.where(valid, sy, 0.0), np.where(valid, sx, 0.0)
        valid &= _sample(ink_f, sy0, sx0, 0) < 0.5  # another stroke is not this stroke's side
        vals = np.where(valid, _sample(L, sy0, sx0, 1), np.nan).reshape(len(fy), -1)
        ok = valid.reshape(len(fy), -1).any(axis=1)
        med = np.full(len(fy), np.nan, np.float32)
        med[ok] = np.nanmedian(vals[ok], axis=1)
        sides.append(med)
    a, b = sides
    measured = np.isfinite(a) & np.isfinite(b)
    if not measured.any():
        return InkScore(None, {"stroke_pixels": len(fy), "measured_pixels": 0})
    deficit = np.maximum(0.0, np.minimum(a, b) - on)[measured]
    details: dict[str, Any] = {
        "unit": "L* (0..100)",
        "stroke_pixels": len(fy),
        "measured_pixels": int(measured.sum()),
        "dark_share": float(np.mean(deficit > DARK_STEP)),  # share darker than both sides by > DARK_STEP
        "side_contrast": float(np.mean(np.abs(a - b)[measured])),  # how much the stroke separates two tones
        "side_step_px": unit,
    }
    if regions is not None:
        if regions.shape != (h, w):
            raise InputError(
                f"region map is {regions.shape[1]}x{regions.shape[0]} but the painting is {w}x{h}"
            )
        r = max(2, int(np.ceil(3 * unit)))
        size = 2 * r + 1
        border = ndimage.maximum_filter(regions, size) != ndimage.minimum_filter(regions, size)
        on_border = border[ys, xs][measured]
        for name, sel in (("border", on_border), ("interior", ~on_border)):
            details[f"ink_{name}"] = float(deficit[sel].mean()) if sel.any() else None
            details[f"{name}_pixels"] = int(sel.sum())
    return InkScore(float(deficit.mean()), details)

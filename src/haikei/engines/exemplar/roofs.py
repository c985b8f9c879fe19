"""Roofs no board shows, given the structure a background painter gives them: thatch or tiles.

A roof painted from a palette derived from the boards (:mod:`.palettes`, role ``roof``) comes out
of :func:`.structured.paint_structured` as flat faces. The layout says what kind of roof it is by
the strokes drawn inside it (away from its outline and the hips): strokes that run down the slope
are thatch, strokes that run along the eaves are tile courses. Each roof (a connected piece of the
class) is read on its own, so one class can hold a thatched farmhouse and a tiled house:

- **thatch**: the faces' light and shade kept, recoloured into a straw ramp derived from the boards'
  warm earth tones; soft combed straw streaks along the fall line (the direction of the strokes
  drawn inside the roof, down the slope where none is near); the eave's cut edge a little darker;
- **tiles**: courses parallel to the eaves, each lit along its top and shaded at its lower edge
  (where it overlaps the next course), their spacing read from the courses the layout draws.

A roof with no strokes inside it is left as its faces are.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from haikei.engines.exemplar.blur import gaussian_blur
from haikei.engines.exemplar.palettes import BoardTones, Role, derived_palette
from haikei.engines.exemplar.structured import Palette, distance_to

__all__ = ["STRAW", "roof_kind", "straw_palette", "structure_roofs"]

# straw: light, warm, from the boards' earth (ochre to tan), never the board's grey-blue shadows
STRAW = Role("straw", 0.5, 0.85, 0.9, 0.12, earth=True, min_chroma=0.12)
# the strokes drawn inside a roof are light (thatch, tile courses): ink above this counts
STROKE = 0.3
# the straw streaks' and the tile courses' relative tonal steps, and the eave's shade
COMB = 0.05
TILE = 0.6
FOOT = 0.2


def straw_palette(f: np.ndarray, sky: np.ndarray, tones: BoardTones | None = None) -> Palette:
    """The thatch's straw ramp from the boards' samples (:func:`.palettes.board_samples`)."""
    return derived_palette(STRAW, f, sky, tones)


def _tensor(strokes: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    soft = gaussian_blur(np.ascontiguousarray(strokes, np.float32), 1.0)
    gy, gx = np.gradient(soft)
    return (
        gaussian_blur(np.ascontiguousarray(gx * gx), sigma),
        gaussian_blur(np.ascontiguousarray(gy * gy), sigma),
        gaussian_blur(np.ascontiguousarray(gx * gy), sigma),
    )


def roof_kind(strokes: np.ndarray) -> str | None:
    """``thatch`` when the strokes (bool, inside one roof) run more down than across, ``tiles``
    when they run along the eaves, None when there are too few to tell."""
    if int(strokes.sum()) < 6:
        return None
    soft = gaussian_blur(np.ascontiguousarray(strokes, np.float32), 1.0)
    gy, gx = np.gradient(soft)
    jxx, jyy = float((gx * gx).sum()), float((gy * gy).sum())
    # a stroke across the view has a vertical gradient: along the eaves when that dominates
    return "tiles" if jyy > jxx else "thatch"


def _fall_lines(strokes: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(cos, sin) per pixel of the direction the straw runs: along the strokes within about
    ``scale`` pixels, straight down the roof where none is near."""
    jxx, jyy, jxy = _tensor(strokes, scale)
    prior = 0.05 * float(max(jxx.max(), jyy.max(), 1e-9))
    jxx = jxx + prior  # a horizontal gradient: strokes straight down
    theta = 0.5 * np.arctan2(2.0 * jxy, jxx - jyy) + 0.5 * np.pi
    return np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)


def _combed(
    ry: np.ndarray,
    rx: np.ndarray,
    c: np.ndarray,
    s: np.ndarray,
    shape: tuple[int, int],
    reach: float,
    seed: int,
) -> np.ndarray:
    """Straw: fine noise smeared along the direction (c, s) at each pixel (a line integral over
    ``reach`` pixels each way), normalised to unit deviation."""
    rng = np.random.default_rng([seed, 0x5457])
    noise = rng.standard_normal(shape).astype(np.float32)
    h, w = shape
    acc = np.zeros(len(ry), np.float32)
    steps = max(2, int(reach))
    for k in range(-steps, steps + 1):
        yy = np.clip(np.rint(ry + k * s).astype(np.int64), 0, h - 1)
        xx = np.clip(np.rint(rx + k * c).astype(np.int64), 0, w - 1)
        acc += noise[yy, xx]
    acc /= max(float(acc.std()), 1e-6)
    return acc


def structure_roofs(
    canvas: np.ndarray,
    regions: np.ndarray,
    ink: np.ndarray,
    roofs: Sequence[int],
    roof_palettes: dict[int, Palette],
    straw: Palette,
    length: float,
    seed: int,
) -> dict[str, int]:
    """Give the ``roofs`` classes' pieces in ``canvas`` (float32 RGB, painted as faces with
    ``roof_palettes``) thatch or tiles, as their inner strokes say. Returns how many pieces of each."""
    counts = {"thatch": 0, "tiles": 0}
    for cid in roofs:
        mask = regions == cid
        if not mask.any():
            continue
        pieces, _ = ndimage.label(mask)
        for k, sl in enumerate(ndimage.find_objects(pieces), start=1):
            if sl is None:
                continue
            m = 2
            by = slice(max(0, sl[0].start - m), min(regions.shape[0], sl[0].stop + m))
            bx = slice(max(0, sl[1].start - m), min(regions.shape[1], sl[1].stop + m))
            obj = pieces[by, bx] == k
            if obj.sum() < 24:
                continue
            d_out = distance_to(np.pad(~obj, 1, constant_values=True))[1:-1, 1:-1]
            strokes = (ink[by, bx] > STROKE) & obj
            inner = strokes & (d_out > 1.5)
            kind = roof_kind(inner)
            if kind is None:
                continue
            counts[kind] += 1
            ry, rx = np.nonzero(obj)
            paint = canvas[by, bx]
            px = paint[ry, rx]
            if kind == "thatch":
                pal = roof_palettes[cid]
                # the faces' light and shade kept, in straw: each channel by the roof mid's ratio
                out = px * (straw.mid / np.maximum(pal.mid, 1e-3))
                c, s = _fall_lines(inner, max(2.0, 1.5 * length))
                comb = _combed(ry, rx, c[ry, rx], s[ry, rx], obj.shape, 0.8 * length, seed + cid * 131 + k)
                out = out * (1.0 + COMB * np.clip(comb, -2.5, 2.5))[:, None]
                # the eave's cut edge: the thatch's thickness, in shade along the roof's foot
                below = np.zeros(obj.shape, bool)
                below[:-1] = obj[:-1] & ~obj[1:]
                below[-1] = obj[-1]
                d_foot = distance_to(np.pad(below, 1, constant_values=False))[1:-1, 1:-1][ry, rx]
                foot = np.clip(1.0 - d_foot / max(1.5, 0.25 * length), 0.0, 1.0)
                out = out * (1.0 - FOOT * foot)[:, None]
            else:
                # courses parallel to the eaves: the distance below the roof's top, in courses as
                # tall as the drawn courses are apart (their median gap), at least a few pixels
                ys = np.nonzero(inner.any(axis=1))[0]
                gaps = np.diff(ys)
                gaps = gaps[gaps > 2]
                course = float(np.median(gaps)) / 2.0 if len(gaps) else 0.35 * length
                course = max(3.0, min(course, 0.6 * length))
                top = np.argmax(obj, axis=0)  # each column's first roof row
                f = ((ry - top[rx]) / course) % 1.0
                # lit along its top, shaded towards its lower edge, a dark line where it overlaps
                shade = TILE * (0.07 * (0.5 - f) - 0.1 * np.clip((f - 0.82) / 0.18, 0.0, 1.0))
                out = px * (1.0 + shade)[:, None]
            paint[ry, rx] = np.clip(out, 0.0, 1.0)
    return counts

"""The structured painter for man-made classes (buildings, roofs, roads, fences, poles ...).

Patch synthesis clones whole objects from a board and bends straight lines, so man-made areas
are painted the way a background artist blocks them in instead:

1. faces = the layout's closed sub-areas of the region (split by its ink lines);
2. each face gets a flat tone from the board's palette for the class (or its fallback): light,
   mid or shadow depending on which side of its object it sits relative to the light, with a
   small per-face variation and a soft gradient towards the light;
3. ambient occlusion: a little darker close to the face's lines;
4. the board's own paper / brush texture (its high-pass luminance, re-grown without repeats) is
   laid over the flats;
5. the layout's lines are drawn crisp in the palette's darkest colour (not black).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft
from numba import njit
from scipy import ndimage

from haikei.engines.exemplar import guides as G
from haikei.engines.exemplar.blur import gaussian_blur
from haikei.engines.exemplar.brushwork import Orientation, brush_field, stroke_length, stroke_orientation
from haikei.engines.exemplar.cache import BoundedCache

__all__ = [
    "Palette",
    "board_palette",
    "class_boxes",
    "distance_to",
    "gaussian_blur",
    "paint_structured",
    "paper_texture",
]


@dataclass(frozen=True)
class Palette:
    shadow: np.ndarray  # float32 RGB 0..1
    mid: np.ndarray
    light: np.ndarray
    line: np.ndarray


def board_palette(pixels: np.ndarray) -> Palette:
    """Shadow / mid / light / line colours from a class's board pixels (N x 3 uint8)."""
    f = pixels.reshape(-1, 3).astype(np.float32) / 255.0
    lum = f @ np.array([0.299, 0.587, 0.114], np.float32)
    n = len(lum)
    # luminance bands by rank: one partition (O(n)) instead of a full sort of the board's pixels
    cuts = sorted({min(n - 1, int(q * n)) for q in (0.05, 0.3, 0.35, 0.65, 0.7, 0.95)})
    part = np.partition(lum, cuts)

    def band(lo: float, hi: float) -> np.ndarray:
        a, b = int(lo * n), max(int(hi * n), int(lo * n) + 1)
        sel = (lum >= part[min(a, n - 1)]) & (lum < part[b]) if b < n else lum >= part[min(a, n - 1)]
        if not sel.any():
            sel = lum == part[min(a, n - 1)]
        return f[sel].mean(axis=0)

    shadow, mid, light = band(0.05, 0.3), band(0.35, 0.65), band(0.7, 0.95)
    line = np.clip(shadow * 0.55, 0.0, 1.0)
    return Palette(shadow, mid, light, line)


def paper_texture(luma: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """The board's fine brush / paper texture (high-pass luminance), re-grown to cover h x w without repeats.

    The grain is not copied: a new field is grown with the grain's own power spectrum and random
    phases (convolution of the grain with white noise), so its fibres, stroke direction and coarseness
    are the board's, but no patch of it occurs twice (a tiled or mirrored copy of the board's grain
    repeats every board width, which shows over a long wall or a wide beach).
    """
    amplitude, fh, fw, spread, std = _grain_spectrum(np.ascontiguousarray(luma, dtype=np.float32), h, w)
    shape = (fh, fw // 2 + 1)
    phase = rng.standard_normal(shape, dtype=np.float32) + 1j * rng.standard_normal(shape, dtype=np.float32)
    field = sfft.irfft2(amplitude * phase, s=(fh, fw), workers=-1)[:h, :w]
    field *= std / max(float(field.std()), 1e-9)
    return np.clip(field, -spread, spread).astype(np.float32)


# the grain's amplitude spectrum per (board luminance, frame size): the same board at the same size is
# analysed once per process (a production's cuts, a bench's repeats)
_SPECTRA: BoundedCache[tuple[bytes, tuple[int, int], int, int], tuple[np.ndarray, int, int, float, float]] = (
    BoundedCache(4, "grain spectra")
)


def _grain_spectrum(luma: np.ndarray, h: int, w: int) -> tuple[np.ndarray, int, int, float, float]:
    """(amplitude spectrum, its rows, its columns, the grain's clip spread, the grain's deviation)."""
    key = (hashlib.blake2b(luma.tobytes(), digest_size=16).digest(), luma.shape, h, w)
    hit = _SPECTRA.get(key)
    if hit is not None:
        return hit
    hp = luma - gaussian_blur(luma, 1.5)
    # keep the grain, not the board's drawn structure: busy areas (outlines, objects) are turned down
    # to the calm areas' level, and what remains is clipped to the grain's size
    energy = gaussian_blur(np.abs(hp), 4.0)
    calm = float(np.median(energy)) + 1e-6
    hp = hp * np.minimum(1.0, calm / np.maximum(energy, 1e-6))
    spread = float(np.median(np.abs(hp))) * 2.5 + 1e-4
    hp = np.clip(hp, -spread, spread).astype(np.float32)
    hp -= hp.mean()
    # a smooth taper to zero at the grain sample's borders: its hard edges would add a cross of
    # false frequencies (straight streaks along x and y) to the spectrum
    bh, bw = hp.shape
    sample = hp * _taper(bh)[:, None] * _taper(bw)[None, :]
    # the field is periodic with the transform's size, which is at least the output's: no repeat inside
    fh, fw = sfft.next_fast_len(max(h, bh), real=True), sfft.next_fast_len(max(w, bw), real=True)
    amplitude = np.abs(sfft.rfft2(sample, s=(fh, fw), workers=-1)).astype(np.float32)
    return _SPECTRA.put(key, (amplitude, fh, fw, spread, float(hp.std())))


def _taper(n: int) -> np.ndarray:
    """1 inside, falling to 0 as sin^2 over the outer tenth at both ends (float32, length n)."""
    i = np.arange(n)
    t = np.minimum(1.0, np.minimum(i + 0.5, n - i - 0.5) / max(1.0, 0.1 * n))
    return np.sin(0.5 * np.pi * t).astype(np.float32) ** 2


def class_boxes(regions: np.ndarray, classes: list[int]) -> dict[int, tuple[slice, slice]]:
    """Bounding box of each of ``classes`` present in ``regions`` (uint8 class ids), one pass."""
    boxes: dict[int, tuple[slice, slice]] = {}
    found = ndimage.find_objects(regions)  # entry k - 1 is class k's box (0 is background to it)
    for c in classes:
        if c == 0:
            rows = np.flatnonzero((regions == 0).any(axis=1))
            if len(rows):
                cols = np.flatnonzero((regions[rows[0] : rows[-1] + 1] == 0).any(axis=0))
                boxes[c] = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
        elif c <= len(found) and found[c - 1] is not None:
            boxes[c] = found[c - 1]
    return boxes


@njit(cache=True)
def _squared_distance_to(mask: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Exact squared Euclidean distance of every pixel to the nearest True pixel (Meijster et al.'s
    two-pass algorithm, integer arithmetic throughout); pixels with no True pixel at all get a huge value."""
    h, w = mask.shape
    big = h + w + 1
    g = np.empty((h, w), np.int64)
    for x in range(w):  # 1. per column: distance to the nearest True pixel in the column (down, then up)
        g[0, x] = 0 if mask[0, x] else big
    for y in range(1, h):
        for x in range(w):
            g[y, x] = 0 if mask[y, x] else min(g[y - 1, x] + 1, big)
    for y in range(h - 2, -1, -1):
        for x in range(w):
            if g[y + 1, x] < g[y, x]:
                g[y, x] = g[y + 1, x] + 1
    out = np.empty((h, w), np.int64)
    s = np.empty(w, np.int64)
    t = np.empty(w, np.int64)
    for y in range(h):  # 2. per row: lower envelope of the parabolas (x - i)^2 + g(i)^2
        row = g[y]
        q = 0
        s[0] = 0
        t[0] = 0
        for u in range(1, w):
            gu = row[u] * row[u]
            while q >= 0 and (t[q] - s[q]) ** 2 + row[s[q]] ** 2 > (t[q] - u) ** 2 + gu:
                q -= 1
            if q < 0:
                q = 0
                s[0] = u
            else:
                i = s[q]
                sep = (u * u - i * i + gu - row[i] * row[i]) // (2 * (u - i))
                if sep + 1 < w:
                    q += 1
                    s[q] = u
                    t[q] = sep + 1
        for u in range(w - 1, -1, -1):
            out[y, u] = (u - s[q]) ** 2 + row[s[q]] ** 2
            if u == t[q]:
                q -= 1
    return out


def distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (float64) of every pixel to the nearest True pixel of ``mask``, which must
    have one; the same values as ``ndimage.distance_transform_edt(~mask)``, several times faster."""
    return np.sqrt(_squared_distance_to(np.ascontiguousarray(mask, dtype=np.bool_)).astype(np.float64))


@njit(cache=True)
def _face_stats(
    faces: np.ndarray, objects: np.ndarray, n_faces: int, n_obj: int, faces_all: np.ndarray, first: int
) -> tuple[np.ndarray, ...]:  # pragma: no cover - compiled
    """Pixel counts and row / column sums of every face and object, and the object each face lies in;
    writes face ``f`` into ``faces_all`` as ``first + f - 1``."""
    fn = np.zeros(n_faces + 1, np.int64)
    fsy = np.zeros(n_faces + 1, np.int64)
    fsx = np.zeros(n_faces + 1, np.int64)
    on = np.zeros(n_obj + 1, np.int64)
    osy = np.zeros(n_obj + 1, np.int64)
    osx = np.zeros(n_obj + 1, np.int64)
    obj_of = np.zeros(n_faces + 1, np.int64)
    h, w = faces.shape
    for y in range(h):
        for x in range(w):
            o = objects[y, x]
            if o:
                on[o] += 1
                osy[o] += y
                osx[o] += x
                f = faces[y, x]
                if f:
                    fn[f] += 1
                    fsy[f] += y
                    fsx[f] += x
                    obj_of[f] = o
                    faces_all[y, x] = first + f - 1
    return fn, fsy, fsx, on, osy, osx, obj_of


@njit(cache=True)
def _grow_into_lines(face_of: np.ndarray, todo: np.ndarray, steps: int) -> None:  # pragma: no cover
    """``steps`` rounds of: every ``todo`` pixel still without a face takes the largest face id among
    its 3 x 3 neighbours (all pixels of a round read the previous round; borders repeat the edge)."""
    h, w = face_of.shape
    ys, xs = np.nonzero(todo & (face_of == 0))
    n = len(ys)
    new = np.empty(n, face_of.dtype)
    for _ in range(steps):
        if n == 0:
            break
        for k in range(n):
            y, x = ys[k], xs[k]
            m = face_of[y, x]
            for yy in range(max(y - 1, 0), min(y + 2, h)):
                for xx in range(max(x - 1, 0), min(x + 2, w)):
                    m = max(m, face_of[yy, xx])
            new[k] = m
        keep = 0
        for k in range(n):
            face_of[ys[k], xs[k]] = new[k]
            if new[k] == 0:
                ys[keep], xs[keep] = ys[k], xs[k]
                keep += 1
        n = keep


def paint_structured(
    regions: np.ndarray,
    ink: np.ndarray,
    palettes: dict[int, Palette],
    texture: np.ndarray,
    light: tuple[float, float],
    rng: np.random.Generator,
    texture_strength: float,
    line_strength: float,
    canvas: np.ndarray,
    boxes: dict[int, tuple[slice, slice]] | None = None,
    brush_contrast: float = 0.0,
    occlusion: float = 1.0,
) -> None:
    """Paint the pixels of the classes in ``palettes`` into ``canvas`` (float32 RGB, 0..1).

    ``brush_contrast``: relative strength of the brush strokes laid over each face (see
    :mod:`.brushwork`; a stroke never crosses from one face into another).

    ``occlusion``: how much the faces darken towards their lines (1: as drawn with ink; 0: the faces
    meet as tones, line_style paint).

    ``boxes``: the classes' bounding boxes from :func:`class_boxes`, if already known. All work is
    done inside the painted classes' bounding box and mostly on their pixels alone.
    """
    h, w = regions.shape
    if boxes is None:
        boxes = class_boxes(regions, sorted(palettes))
    present = [c for c in sorted(palettes) if c in boxes]
    if not present:
        return
    # the window: the painted pixels' bounding box and a small margin; everything below lives in it
    m = 4
    y0 = max(0, min(boxes[c][0].start for c in present) - m)
    y1 = min(h, max(boxes[c][0].stop for c in present) + m)
    x0 = max(0, min(boxes[c][1].start for c in present) - m)
    x1 = min(w, max(boxes[c][1].stop for c in present) + m)
    win = (slice(y0, y1), slice(x0, x1))
    reg, ik = regions[win], ink[win] > 0.5
    wh, ww = reg.shape
    ly, lx = light
    faces_all = np.zeros((wh, ww), np.int32)
    tones: list[np.ndarray] = [np.zeros((1, 3), np.float32)]  # blocks of face tones; row 0 = no face
    grad = np.zeros((wh, ww), np.float32)
    line_lut = np.zeros((256, 3), np.float32)  # class id -> line colour
    for cid in present:
        pal = palettes[cid]
        by, bx = boxes[cid]
        box = (slice(by.start - y0, by.stop - y0), slice(bx.start - x0, bx.stop - x0))
        region = reg[box] == cid
        objects, n_obj = ndimage.label(region)
        faces, n_faces = ndimage.label(region & ~ik[box])
        line_lut[cid] = pal.line
        # soft gradient towards the light across the class's extent
        ry, rx = np.nonzero(region)
        extent = max(float(np.sqrt(len(ry))), 1.0)
        g = (ry.astype(np.float32) * ly + rx.astype(np.float32) * lx) / extent * 0.06
        grad[box][region] = g - g.mean()
        if n_faces == 0:
            continue
        fn, fsy, fsx, on, osy, osx, obj_of = _face_stats(
            faces, objects, n_faces, n_obj, faces_all[box], sum(len(b) for b in tones)
        )
        fy = (fsy[1:] / fn[1:].astype(np.float64)).astype(np.float32)
        fx = (fsx[1:] / fn[1:].astype(np.float64)).astype(np.float32)
        area = fn[1:].astype(np.float32)
        oy = (osy[1:] / on[1:].astype(np.float64)).astype(np.float32)
        ox = (osx[1:] / on[1:].astype(np.float64)).astype(np.float32)
        osz = np.sqrt(on[1:].astype(np.float32))
        o = obj_of[1:] - 1
        side = ((fy - oy[o]) * ly + (fx - ox[o]) * lx) / np.maximum(osz[o], 1.0)
        # the biggest face of each object is its front: keep it mid-toned
        biggest = np.zeros(n_obj, np.float32)
        np.maximum.at(biggest, o, area)
        t = np.clip(side * 4.0, -1.0, 1.0)
        t[area >= biggest[o]] = 0.0
        jitter = rng.uniform(-0.06, 0.06, n_faces).astype(np.float32)
        tc = t[:, None]
        base = np.where(tc >= 0, pal.mid + (pal.light - pal.mid) * tc, pal.mid + (pal.mid - pal.shadow) * tc)
        tones.append((base * (1.0 + jitter[:, None])).astype(np.float32))
    pw = np.isin(reg, np.array(present, dtype=reg.dtype))
    # lines take the tone of a face next to them: grow the faces into the (thin) lines a pixel at a
    # time; thick ink left over takes the nearest face's tone exactly
    face_of = faces_all
    _grow_into_lines(face_of, pw, 6)
    if (pw & (face_of == 0)).any() and (face_of > 0).any():
        _, (iy, ix) = ndimage.distance_transform_edt(face_of == 0, return_indices=True)
        face_of = face_of[iy, ix]
    dline = distance_to(ik) if ik.any() else np.full(ik.shape, 99.0)
    # hand work: occlusion, line weight and weathering vary along the lines and across the faces, so
    # that repeated shapes (windows, poles, a long eave) never come out as identical copies; the
    # noise fields cover the window (their look depends on its size), the arithmetic only the pixels
    cell = max(8.0, 0.02 * max(h, w))
    near = np.exp(-dline / 2.5) * occlusion
    n_occl = G.smooth_noise(wh, ww, rng, cell)
    n_weather = G.smooth_noise(wh, ww, rng, cell)
    n_pressure = G.smooth_noise(wh, ww, rng, cell)
    if brush_contrast > 0:
        length = stroke_length(h, w)
        field = stroke_orientation(~pw | ik, 2.0 * length)
        ids = np.where(pw, face_of, 0)
        # one direction per face (a wall is brushed straight, along its longer outlines): the mean of
        # the field's doubled angles over the face, sampled where the field is
        n_ids = int(ids.max()) + 1
        st = field.step
        fc, fs = field.cos[: -(-wh // st), : -(-ww // st)], field.sin[: -(-wh // st), : -(-ww // st)]
        sampled = ids[::st, ::st]
        c2 = np.bincount(sampled.ravel(), weights=(fc * fc - fs * fs).ravel(), minlength=n_ids)
        s2 = np.bincount(sampled.ravel(), weights=(2.0 * fc * fs).ravel(), minlength=n_ids)
        half_angle = 0.5 * np.arctan2(s2, c2)
        per_face = Orientation(
            np.cos(half_angle).astype(np.float32)[ids], np.sin(half_angle).astype(np.float32)[ids], 1
        )
        strokes = brush_field(ids, per_face, rng, length, brush_contrast)
    else:
        strokes = np.zeros((wh, ww), np.float32)
    _composite(
        canvas[win],
        pw,
        face_of,
        np.concatenate(tones),
        near,
        n_occl,
        n_weather,
        n_pressure,
        grad,
        texture[win],
        strokes,
        ink[win],
        reg,
        line_lut,
        np.float32(texture_strength),
        np.float32(line_strength),
    )


@njit(cache=True)
def _composite(
    out,
    pw,
    face_of,
    tones,
    near,
    n_occl,
    n_weather,
    n_pressure,
    grad,
    tex,
    strokes,
    ink,
    reg,
    line_lut,
    ts,
    ls,
):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Per painted pixel: face tone x (gradient + weathering) x occlusion x grain x brush strokes, then the
    line over it.

    The arithmetic is numpy's for the same expressions (float32 fields, float64 where occlusion
    enters), written out so that no full-size temporaries are made.
    """
    one = np.float32(1.0)
    h, w = pw.shape
    for y in range(h):
        for x in range(w):
            if not pw[y, x]:
                continue
            occl = 1.0 - np.float64(np.float32(0.12) * (one + np.float32(0.8) * n_occl[y, x])) * near[y, x]
            weather = np.float32(0.04) * n_weather[y, x]
            shade = (
                np.float64(one + grad[y, x] + weather)
                * occl
                * np.float64(one + ts * tex[y, x])
                * np.float64(one + strokes[y, x])
            )
            pressure = np.float32(0.75) + np.float32(0.25) * n_pressure[y, x]
            a = min(max(ink[y, x] * ls * pressure, np.float32(0.0)), one)
            keep = np.float64(one - a)
            f = face_of[y, x]
            c = reg[y, x]
            for k in range(3):
                v = np.float64(tones[f, k]) * shade * keep + np.float64(line_lut[c, k] * a)
                out[y, x, k] = min(max(np.float32(v), np.float32(0.0)), one)

"""The structured painter for man-made classes (buildings, roofs, roads, fences, poles ...).

Patch synthesis clones whole objects from a board and bends straight lines, so man-made areas
are painted the way a background artist blocks them in instead:

1. faces = the layout's closed sub-areas of the region (split by its ink lines);
2. each face gets a flat tone from the board's palette for the class (or its fallback): light,
   mid or shadow depending on which side of its object it sits relative to the light, with a
   small per-face variation and a soft gradient towards the light;
3. ambient occlusion: a little darker close to the face's lines;
4. the board's own paper / brush texture (its high-pass luminance) is laid over the flats;
5. the layout's lines are drawn crisp in the palette's darkest colour (not black).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from haikei.engines.exemplar import guides as G

__all__ = ["Palette", "board_palette", "paint_structured", "paper_texture"]


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
    """The board's fine brush / paper texture (high-pass luminance), mirrored to cover h x w."""
    hp = luma - ndimage.gaussian_filter(luma, 1.5)
    # keep the grain, not the board's drawn structure: busy areas (outlines, objects) are turned down
    # to the calm areas' level, and what remains is clipped to the grain's size
    energy = ndimage.gaussian_filter(np.abs(hp), 4.0)
    calm = float(np.median(energy)) + 1e-6
    hp = hp * np.minimum(1.0, calm / np.maximum(energy, 1e-6))
    spread = float(np.median(np.abs(hp))) * 2.5 + 1e-4
    hp = np.clip(hp, -spread, spread)
    bh, bw = hp.shape
    reps = (int(np.ceil((h + bh) / bh)), int(np.ceil((w + bw) / bw)))
    tile = np.block(
        [[hp if (i + j) % 2 == 0 else hp[::-1, ::-1] for j in range(reps[1])] for i in range(reps[0])]
    )
    oy = int(rng.integers(0, bh))
    ox = int(rng.integers(0, bw))
    return np.ascontiguousarray(tile[oy : oy + h, ox : ox + w], dtype=np.float32)


def paint_structured(
    regions: np.ndarray,
    ink: np.ndarray,
    palettes: dict[int, Palette],
    texture: np.ndarray,
    light: tuple[float, float],
    rng: np.random.Generator,
    texture_strength: float,
    line_strength: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Paint the pixels of the classes in ``palettes``; returns (float32 RGB image, painted mask)."""
    h, w = regions.shape
    out = np.zeros((h, w, 3), np.float32)
    painted = np.isin(regions, np.array(sorted(palettes), dtype=regions.dtype))
    if not painted.any():
        return out, painted
    inked = ink > 0.5
    ly, lx = light
    faces_all = np.zeros((h, w), np.int32)
    tones: list[np.ndarray] = [np.zeros((1, 3), np.float32)]  # blocks of face tones; row 0 = no face
    grad = np.zeros((h, w), np.float32)
    line_col = np.zeros((h, w, 3), np.float32)
    all_boxes = ndimage.find_objects(regions.astype(np.int32) + 1)  # one pass for every class
    for cid in sorted(palettes):
        pal = palettes[cid]
        box = all_boxes[cid] if cid < len(all_boxes) else None
        if box is None:
            continue
        region = regions[box] == cid
        bh, bw = region.shape
        yy = np.broadcast_to(np.arange(bh, dtype=np.float32)[:, None], (bh, bw))
        xx = np.broadcast_to(np.arange(bw, dtype=np.float32)[None, :], (bh, bw))
        objects, n_obj = ndimage.label(region)
        faces, n_faces = ndimage.label(region & ~inked[box])
        line_col[box][region] = pal.line
        # soft gradient towards the light across the class's extent
        extent = max(float(np.sqrt(region.sum())), 1.0)
        g = (yy * ly + xx * lx) / extent * 0.06
        grad[box][region] = (g - g[region].mean())[region]
        if n_faces == 0:
            continue
        idx = np.arange(1, n_faces + 1)
        oidx = np.arange(1, n_obj + 1)
        fy = np.asarray(ndimage.mean(yy, faces, idx), np.float32)
        fx = np.asarray(ndimage.mean(xx, faces, idx), np.float32)
        area = np.bincount(faces.ravel(), minlength=n_faces + 1)[1:].astype(np.float32)
        # a face lies inside one object: any of its pixels names it (no sort, unlike ndimage.maximum)
        obj_of_face = np.zeros(n_faces + 1, np.int64)
        obj_of_face[faces.ravel()] = objects.ravel()
        obj_of_face = obj_of_face[1:]
        oy = np.asarray(ndimage.mean(yy, objects, oidx), np.float32)
        ox = np.asarray(ndimage.mean(xx, objects, oidx), np.float32)
        osz = np.sqrt(np.bincount(objects.ravel(), minlength=n_obj + 1)[1:].astype(np.float32))
        o = obj_of_face - 1
        side = ((fy - oy[o]) * ly + (fx - ox[o]) * lx) / np.maximum(osz[o], 1.0)
        # the biggest face of each object is its front: keep it mid-toned
        biggest = np.zeros(n_obj, np.float32)
        np.maximum.at(biggest, o, area)
        t = np.clip(side * 4.0, -1.0, 1.0)
        t[area >= biggest[o]] = 0.0
        jitter = rng.uniform(-0.06, 0.06, n_faces).astype(np.float32)
        tc = t[:, None]
        base = np.where(tc >= 0, pal.mid + (pal.light - pal.mid) * tc, pal.mid + (pal.mid - pal.shadow) * tc)
        first = sum(len(b) for b in tones)
        tones.append((base * (1.0 + jitter[:, None])).astype(np.float32))
        fb = faces_all[box]
        fb[faces > 0] = faces[faces > 0] + (first - 1)
    # everything below works inside the painted classes' bounding box (cost follows their area)
    ys, xs = np.nonzero(painted)
    m = 4
    win = (slice(max(0, ys.min() - m), ys.max() + 1 + m), slice(max(0, xs.min() - m), xs.max() + 1 + m))
    fa, ik = faces_all[win], inked[win]
    # lines take the tone of a face next to them: grow the faces into the (thin) lines a pixel at a
    # time, which is far cheaper than a full-frame feature transform; thick ink left over takes the
    # nearest face's tone exactly
    pw = painted[win]
    face_of = fa.copy()
    for _ in range(6):
        gap = pw & (face_of == 0)
        if not gap.any():
            break
        grown = ndimage.maximum_filter(face_of, size=3)
        face_of[gap] = grown[gap]
    if (pw & (face_of == 0)).any() and (face_of > 0).any():
        _, (iy, ix) = ndimage.distance_transform_edt(face_of == 0, return_indices=True)
        face_of = face_of[iy, ix]
    col = np.concatenate(tones)[face_of]
    dline = ndimage.distance_transform_edt(~ik) if ik.any() else np.full(ik.shape, 99.0)
    # hand work: occlusion, line weight and weathering vary along the lines and across the faces, so
    # that repeated shapes (windows, poles, a long eave) never come out as identical copies
    wh, ww = fa.shape
    cell = max(8.0, 0.02 * max(h, w))
    occl = 1.0 - 0.12 * (1.0 + 0.8 * G.smooth_noise(wh, ww, rng, cell)) * np.exp(-dline / 2.5)
    weather = 0.07 * G.smooth_noise(wh, ww, rng, cell)
    shade = (1.0 + grad[win] + weather) * occl * (1.0 + texture_strength * texture[win])
    col = col * shade[..., None]
    # crisp layout lines in the palette's darkest colour
    pressure = 0.75 + 0.25 * G.smooth_noise(wh, ww, rng, cell)
    a = np.clip(ink[win] * line_strength * pressure, 0.0, 1.0)[..., None]
    col = col * (1.0 - a) + line_col[win] * a
    out[win][pw] = col[pw]
    return np.clip(out, 0.0, 1.0), painted

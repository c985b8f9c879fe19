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
    order = np.argsort(lum, kind="stable")
    n = len(order)

    def band(lo: float, hi: float) -> np.ndarray:
        a, b = int(lo * n), max(int(hi * n), int(lo * n) + 1)
        return f[order[a:b]].mean(axis=0)

    shadow, mid, light = band(0.05, 0.3), band(0.35, 0.65), band(0.7, 0.95)
    line = np.clip(shadow * 0.55, 0.0, 1.0)
    return Palette(shadow, mid, light, line)


def paper_texture(luma: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """The board's fine brush / paper texture (high-pass luminance), mirrored to cover h x w."""
    hp = luma - ndimage.gaussian_filter(luma, 3.0)
    bh, bw = hp.shape
    reps = (int(np.ceil((h + bh) / bh)), int(np.ceil((w + bw) / bw)))
    tile = np.block([[hp if (i + j) % 2 == 0 else hp[::-1, ::-1] for j in range(reps[1])] for i in range(reps[0])])
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
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    for cid in sorted(palettes):
        pal = palettes[cid]
        region = regions == cid
        if not region.any():
            continue
        objects, n_obj = ndimage.label(region)
        faces, n_faces = ndimage.label(region & ~inked)
        tone = np.zeros((n_faces + 1, 3), np.float32)
        if n_faces:
            idx = np.arange(1, n_faces + 1)
            fy = np.asarray(ndimage.mean(np.broadcast_to(yy, (h, w)), faces, idx), np.float32)
            fx = np.asarray(ndimage.mean(np.broadcast_to(xx, (h, w)), faces, idx), np.float32)
            area = np.asarray(ndimage.sum(np.ones((h, w), np.float32), faces, idx), np.float32)
            obj_of_face = np.asarray(ndimage.maximum(objects, faces, idx), np.int64)
            oy = np.asarray(ndimage.mean(np.broadcast_to(yy, (h, w)), objects, np.arange(1, n_obj + 1)), np.float32)
            ox = np.asarray(ndimage.mean(np.broadcast_to(xx, (h, w)), objects, np.arange(1, n_obj + 1)), np.float32)
            osz = np.sqrt(np.asarray(ndimage.sum(np.ones((h, w), np.float32), objects, np.arange(1, n_obj + 1))))
            o = obj_of_face - 1
            side = ((fy - oy[o]) * ly + (fx - ox[o]) * lx) / np.maximum(osz[o], 1.0)
            # the biggest face of each object is its front: keep it mid-toned
            biggest = np.zeros(n_obj, np.float32)
            np.maximum.at(biggest, o, area)
            is_front = area >= biggest[o]
            t = np.clip(side * 4.0, -1.0, 1.0)
            t[is_front] = 0.0
            jitter = rng.uniform(-0.04, 0.04, n_faces).astype(np.float32)
            for i in range(n_faces):
                ti = float(t[i])
                base = pal.mid + (pal.light - pal.mid) * ti if ti >= 0 else pal.mid + (pal.mid - pal.shadow) * ti
                tone[i + 1] = base * (1.0 + jitter[i])
            # lines belong to the nearest face for their underlying tone
            _, (iy, ix) = ndimage.distance_transform_edt(faces == 0, return_indices=True)
            face_of = faces[iy, ix]
        else:
            face_of = faces
            tone[0] = pal.mid
        col = tone[face_of]
        # soft gradient towards the light inside each object, and occlusion near lines
        extent = max(float(np.sqrt(region.sum())), 1.0)
        grad = ((yy * ly + xx * lx) / extent) * 0.06
        grad = grad - grad[region].mean()
        dline = ndimage.distance_transform_edt(~inked) if inked.any() else np.full((h, w), 99.0)
        occl = 1.0 - 0.12 * np.exp(-dline / 2.5)
        shade = (1.0 + grad) * occl * (1.0 + texture_strength * texture)
        col = col * shade[..., None]
        # crisp layout lines in the palette's darkest colour
        a = np.clip(ink * line_strength, 0.0, 1.0)[..., None]
        col = col * (1.0 - a) + pal.line[None, None, :] * a
        out[region] = col[region]
    return np.clip(out, 0.0, 1.0), painted

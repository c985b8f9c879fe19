"""The source atlas: the chosen boards stacked with padding, their candidate lists, resizing helpers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from haikei.engines.exemplar import kernels as K

__all__ = ["Atlas", "build_atlas", "candidates", "resize", "up2"]


@dataclass
class Atlas:
    col: np.ndarray
    gd: np.ndarray
    skey: np.ndarray
    y0: np.ndarray
    x0: np.ndarray
    hb: np.ndarray
    wb: np.ndarray


def build_atlas(
    parts: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]], n_boards: int, gw: np.ndarray
) -> Atlas:
    """Stack boards (index -> (colour, guides, labels)) vertically with PAD margins."""
    pad = K.PAD
    y0 = np.zeros(n_boards, np.int64)
    x0 = np.full(n_boards, pad, np.int64)
    hb = np.ones(n_boards, np.int64)
    wb = np.ones(n_boards, np.int64)
    y = pad
    width = 1
    for b, (col, _, _) in parts.items():
        y0[b], hb[b], wb[b] = y, col.shape[0], col.shape[1]
        y += col.shape[0] + pad
        width = max(width, col.shape[1])
    hs, ws = y, width + 2 * pad
    nch = next(iter(parts.values()))[0].shape[2]
    acol = np.zeros((hs, ws, nch), np.float32)
    agd = np.zeros((hs, ws, len(gw)), np.float32)
    skey = np.full((hs, ws), -1, np.int32)
    for b, (col, gd, lab) in parts.items():
        sl = (slice(y0[b], y0[b] + hb[b]), slice(pad, pad + wb[b]))
        acol[sl] = col
        agd[sl] = gd * gw
        skey[sl] = np.where(lab == 255, -1, b * 256 + lab.astype(np.int32))
    return Atlas(acol, agd, skey, y0, x0, hb, wb)


def candidates(skey: np.ndarray, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per slot, the atlas positions it may copy from (and how many)."""
    ok = skey >= 0
    key = np.where(ok, skey, 0)
    ptr = [0]
    chunks = []
    for s in range(allowed.shape[0]):
        m = ok & (allowed[s][key] != 0)
        pos = np.argwhere(m).astype(np.int32)
        chunks.append(pos)
        ptr.append(ptr[-1] + len(pos))
    cand = np.ascontiguousarray(np.concatenate(chunks) if chunks else np.zeros((0, 2), np.int32))
    counts = np.diff(np.array(ptr, np.int64))
    return np.array(ptr, np.int64), cand, counts


def up2(a: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Double an estimate to ``shape`` (nearest, then a 2x2 box to soften the blocks)."""
    b = np.repeat(np.repeat(a, 2, axis=0), 2, axis=1)[: shape[0], : shape[1]]
    return np.ascontiguousarray(ndimage.uniform_filter(b, size=(2, 2, 1)), dtype=np.float32)


def resize(img: np.ndarray, w: int, h: int, nearest: bool) -> np.ndarray:
    if img.shape[1] == w and img.shape[0] == h:
        return img
    mode = Image.Resampling.NEAREST if nearest else Image.Resampling.BOX
    return np.asarray(Image.fromarray(img).resize((w, h), mode))

"""Numba kernels of the variant re-vote: read the parent's source map, re-vote it over the variant boards.

A variant does no search, so its cost is bookkeeping over every output pixel; these kernels do
that bookkeeping in one or two passes instead of a dozen whole-frame numpy passes.

Arrays (all C-contiguous):

- ``sm`` (H, W, 3) int32: the parent's source map (board index, y, x at the board's full size);
- ``tcls`` (H, W) int32: the target class slot of each pixel, ``-1`` where nothing is re-voted;
- the variant boards flattened: ``col`` (N, 3) uint8 and ``key`` (N,) int32 are a (rows, stride)
  image, row-major, holding every re-voted board (at the render's board scale) one under another
  with a margin of one pixel all round; board ``b``'s pixel (y, x) is at ``off[b] + y * stride + x``
  and the board is ``hb[b]`` x ``wb[b]``. ``key`` is ``b * 256 + label``, ``-1`` where unlabelled
  and in the margins, as the atlas's ``skey``;
- ``allowed`` (slots, boards * 256) uint8: the label constraint, as in :mod:`.kernels`.

A 3x3 vote reaches at most one pixel past a board's edge, into its margin (no key), so the re-vote
gives exactly what :func:`.kernels.vote` gives with uniform weights on the atlas: colours are
whole numbers, so their sums are exact in any order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["board_counts", "revote", "slots_and_patch_boards", "to_uint8"]


@njit(cache=True, nogil=True)
def board_counts(sm, n_boards):  # type: ignore[no-untyped-def]
    """How many pixels name each board (index 0 counts ``-1``: no single source), and the largest index."""
    h, w = sm.shape[:2]
    top = -1
    for y in range(h):
        for x in range(w):
            top = max(top, sm[y, x, 0])
    counts = np.zeros(max(top, n_boards - 1) + 2, np.int64)
    for y in range(h):
        for x in range(w):
            counts[max(sm[y, x, 0], -1) + 1] += 1
    return counts, top


@njit(cache=True, nogil=True)
def slots_and_patch_boards(sm, regions, slot_lut, n_boards, tcls):  # type: ignore[no-untyped-def]
    """Fill ``tcls`` from the class slots; return (patch pixels per board, patch pixels with no source)."""
    h, w = regions.shape
    per_board = np.zeros(n_boards, np.int64)
    missing = 0
    for y in range(h):
        for x in range(w):
            s = slot_lut[regions[y, x]]
            tcls[y, x] = s
            if s < 0:
                continue
            b = sm[y, x, 0]
            if b < 0:
                missing += 1
            else:
                per_board[b] += 1
    return per_board, missing


@njit(cache=True, nogil=True, inline="always")
def _board_pos(v, scale, size):  # type: ignore[no-untyped-def]
    """Full-size board coordinate -> coordinate at the render's board scale (round half to even, clipped)."""
    p = np.rint((v + 0.5) * scale - 0.5)
    return np.int32(min(max(p, 0.0), size - 1.0))


@njit(cache=True, nogil=True, parallel=True)
def revote(sm, tcls, allowed, scale, off, hb, wb, stride, col, key, idx, out):  # type: ignore[no-untyped-def]
    """Re-vote the parent's matches over the variant colours into ``out`` (float32, 0..1).

    First each re-voted pixel's match at board scale, as a flat index into ``col`` / ``key``
    (into ``idx``, (H + 2, W + 2) int32 or int64, with a border of -1, like ``tcls < 0`` pixels); if any
    match breaks the label constraint nothing is voted and their count is returned (the caller
    then repairs them in the atlas). Otherwise each re-voted pixel p gets the mean over the
    neighbours q (3x3) of the colour at q's match shifted by p - q, skipping those whose class p
    may not take; ``out`` is left alone where ``tcls < 0``. Returns 0 then.
    """
    h, w = tcls.shape
    bad = np.zeros(h, np.int64)
    for y in prange(h):
        nb = 0
        for x in range(w):
            s = tcls[y, x]
            if s < 0:
                idx[y + 1, x + 1] = -1
                continue
            b = sm[y, x, 0]
            sy = _board_pos(sm[y, x, 1], scale[b], hb[b])
            sx = _board_pos(sm[y, x, 2], scale[b], wb[b])
            i = off[b] + sy * stride + sx
            idx[y + 1, x + 1] = i
            k = key[i]
            if k < 0 or allowed[s, k] == 0:
                nb += 1
        bad[y] = nb
    n_bad = bad.sum()
    if n_bad > 0:
        return n_bad
    inv = np.float32(1.0 / 255.0)
    for y in prange(h):
        for x in range(w):
            s = tcls[y, x]
            if s < 0:
                continue
            ip = idx[y + 1, x + 1]
            r = 0
            g = 0
            bl = 0
            n = 0
            same = 0  # neighbours whose shifted match is p's own (valid: checked above)
            for dy in range(-1, 2):
                for dx in range(-1, 2):
                    iq = idx[y + 1 - dy, x + 1 - dx]
                    if iq < 0:
                        continue
                    i = iq + dy * stride + dx
                    if i == ip:
                        same += 1
                        continue
                    k = key[i]
                    if k < 0 or allowed[s, k] == 0:
                        continue
                    r += int(col[i, 0])
                    g += int(col[i, 1])
                    bl += int(col[i, 2])
                    n += 1
            r += same * int(col[ip, 0])
            g += same * int(col[ip, 1])
            bl += same * int(col[ip, 2])
            n += same
            # mean in float64 stored as float32 (as the atlas vote), then to 0..1 in float32
            out[y, x, 0] = np.float32(r / np.float64(n)) * inv
            out[y, x, 1] = np.float32(g / np.float64(n)) * inv
            out[y, x, 2] = np.float32(bl / np.float64(n)) * inv
    return 0


@njit(cache=True, nogil=True, parallel=True)
def to_uint8(canvas, image):  # type: ignore[no-untyped-def]
    """``clip(canvas * 255 + 0.5, 0, 255)`` truncated to uint8, in float32 like the numpy expression."""
    h, w, c = canvas.shape
    k = np.float32(255.0)
    half = np.float32(0.5)
    for y in prange(h):
        for x in range(w):
            for ch in range(c):
                v = canvas[y, x, ch] * k + half
                if v < 0:
                    v = np.float32(0.0)
                elif v > 255:
                    v = np.float32(255.0)
                image[y, x, ch] = np.uint8(v)


@njit(cache=True, nogil=True, inline="always")
def _reflect(i, n):  # type: ignore[no-untyped-def]
    """scipy.ndimage's 'reflect' border (d c b a | a b c d | d c b a) for offsets up to n."""
    if i < 0:
        return -i - 1
    if i >= n:
        return 2 * n - i - 1
    return i


@njit(cache=True, nogil=True, parallel=True)
def _blur_rows(src, wts, out):  # type: ignore[no-untyped-def]
    """Along axis 0, as scipy's symmetric correlate1d: float64 sums of float32 samples, stored float32."""
    h, w = src.shape
    r = (len(wts) - 1) // 2
    for y in prange(h):
        for x in range(w):
            acc = np.float64(src[y, x]) * wts[r]
            for j in range(-r, 0):
                acc += (
                    np.float64(src[_reflect(y + j, h), x]) + np.float64(src[_reflect(y - j, h), x])
                ) * wts[r + j]
            out[y, x] = np.float32(acc)


@njit(cache=True, nogil=True, parallel=True)
def shade_lines(canvas, natural, ink, wts, noise_p, noise_g, darkening, glaze):  # type: ignore[no-untyped-def]
    """:func:`.painters.lay_in_lines` after its two noise fields, in one pass (same float32 arithmetic).

    ``soft`` = the ink blurred by the separable weights ``wts`` (axis 0, then axis 1, 'reflect'
    borders), clipped to 0..1; natural pixels are multiplied by
    ``(1 + glaze * noise_g) * (1 - darkening * (0.7 + 0.3 * noise_p) * soft)``.
    """
    h, w = ink.shape
    r = (len(wts) - 1) // 2
    tmp = np.empty((h, w), np.float32)
    _blur_rows(ink, wts, tmp)
    one = np.float32(1.0)
    k_p0 = np.float32(0.7)
    k_p1 = np.float32(0.3)
    dk = np.float32(darkening)
    gl = np.float32(glaze)
    for y in prange(h):
        for x in range(w):
            if not natural[y, x]:
                continue
            acc = np.float64(tmp[y, x]) * wts[r]
            for j in range(-r, 0):
                acc += (
                    np.float64(tmp[y, _reflect(x + j, w)]) + np.float64(tmp[y, _reflect(x - j, w)])
                ) * wts[r + j]
            soft = min(max(np.float32(acc), np.float32(0.0)), one)
            pressure = k_p0 + k_p1 * noise_p[y, x]
            f = (one + gl * noise_g[y, x]) * (one - dk * pressure * soft)
            for c in range(canvas.shape[2]):
                canvas[y, x, c] *= f

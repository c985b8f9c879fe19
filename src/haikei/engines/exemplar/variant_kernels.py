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

from haikei.engines.exemplar.kernels import class_lerp, class_weights

__all__ = [
    "add_parent",
    "add_wide",
    "board_counts",
    "box_down",
    "recolour",
    "residual",
    "revote",
    "revote_float",
    "slots_and_patch_boards",
    "to_uint8",
    "wide_vote",
]


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
def _match_index(sm, tcls, allowed, scale, off, hb, wb, stride, key, idx):  # type: ignore[no-untyped-def]
    """Each re-voted pixel's match at board scale as a flat index into the packed boards (into
    ``idx``, with its border of -1 like ``tcls < 0`` pixels); returns how many break the label
    constraint."""
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
    return bad.sum()


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
    n_bad = _match_index(sm, tcls, allowed, scale, off, hb, wb, stride, key, idx)
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
def revote_float(sm, tcls, allowed, scale, off, hb, wb, stride, col, key, idx, out):  # type: ignore[no-untyped-def]
    """:func:`revote` of float32 colours, summed in float32 in the order :func:`.kernels.vote` sums
    them (rows of taps from -1 to 1, the pixel's own tap in its place), so it gives what the atlas
    vote gives to the bit."""
    h, w = tcls.shape
    n_bad = _match_index(sm, tcls, allowed, scale, off, hb, wb, stride, key, idx)
    if n_bad > 0:
        return n_bad
    inv = np.float32(1.0 / 255.0)
    for y in prange(h):
        acc = np.zeros(3, np.float32)
        for x in range(w):
            s = tcls[y, x]
            if s < 0:
                continue
            acc[:] = 0.0
            wsum = 0.0
            for dy in range(-1, 2):
                for dx in range(-1, 2):
                    iq = idx[y + 1 - dy, x + 1 - dx]
                    if iq < 0:
                        continue
                    i = iq + dy * stride + dx
                    k = key[i]
                    if k < 0 or allowed[s, k] == 0:
                        continue
                    for c in range(3):
                        acc[c] += col[i, c]
                    wsum += 1.0
            for c in range(3):
                out[y, x, c] = np.float32(acc[c] / wsum) * inv
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


# -- the seam blend of a variant ---------------------------------------------------------------------
# The parent's full-size vote is ``vote(paint) - vote(low) + wide(low)`` (kernels.vote_blended). A
# variant re-votes ``S`` (the repaint, or the repaint minus the board when the parent image is added
# back) the same way from the parent's source map: ``low`` is ``S`` box-averaged to 1/f (:func:`box_down`)
# and blurred, per board; :func:`residual` takes it out of ``S`` at board scale, and the residual is
# re-voted at the fine vote's taps (:func:`revote_float`); ``wide`` is ``low`` voted over a wide
# neighbourhood at 1/f of the frame from the source map sampled there (:func:`wide_vote`), added back
# read bilinearly (:func:`add_wide`), as vote_blended does.


@njit(cache=True, nogil=True, parallel=True)
def box_down(paint, base, inside, f, out, wout):  # type: ignore[no-untyped-def]
    """``out`` (hc, wc, 3) float32: sums of ``(paint - base) * inside`` over f x f blocks (``base``: none
    where it has no channels); ``wout``: sums of ``inside``."""
    hc, wc = wout.shape
    h, w = inside.shape
    has_base = base.shape[2] > 0
    for i in prange(hc):
        for j in range(wc):
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            n = 0.0
            for y in range(i * f, min(h, i * f + f)):
                for x in range(j * f, min(w, j * f + f)):
                    if inside[y, x]:
                        a0 += np.float64(paint[y, x, 0])
                        a1 += np.float64(paint[y, x, 1])
                        a2 += np.float64(paint[y, x, 2])
                        if has_base:
                            a0 -= np.float64(base[y, x, 0])
                            a1 -= np.float64(base[y, x, 1])
                            a2 -= np.float64(base[y, x, 2])
                        n += 1.0
            out[i, j, 0] = a0
            out[i, j, 1] = a1
            out[i, j, 2] = a2
            wout[i, j] = n


@njit(cache=True, nogil=True, inline="always")
def _coarse(v, f, n):  # type: ignore[no-untyped-def]
    """Fine coordinate -> (lower coarse index, fraction) for bilinear reads of an n-long coarse axis."""
    c = min(max((v + 0.5) / f - 0.5, 0.0), n - 1.0)
    i0 = min(int(c), n - 2) if n > 1 else 0
    return i0, c - i0


@njit(cache=True, nogil=True, parallel=True)
def residual(paint, base, lpc, f, out):  # type: ignore[no-untyped-def]
    """``out`` (h, w, 3) float32 = ``paint - base - lpc`` (``lpc`` read bilinearly at 1/f; ``base``
    uint8, or nothing where it has no channels): the paint less its low-pass, at board scale."""
    h, w = out.shape[:2]
    hc, wc = lpc.shape[:2]
    has_base = base.shape[2] > 0
    for y in prange(h):
        i0, ty = _coarse(np.float64(y), f, hc)
        i1 = min(i0 + 1, hc - 1)
        for x in range(w):
            j0, tx = _coarse(np.float64(x), f, wc)
            j1 = min(j0 + 1, wc - 1)
            for c in range(3):
                top = lpc[i0, j0, c] * (1.0 - tx) + lpc[i0, j1, c] * tx
                bot = lpc[i1, j0, c] * (1.0 - tx) + lpc[i1, j1, c] * tx
                v = np.float64(paint[y, x, c]) - (top * (1.0 - ty) + bot * ty)
                if has_base:
                    v -= np.float64(base[y, x, c])
                out[y, x, c] = np.float32(v)


@njit(cache=True, nogil=True, parallel=True)
def wide_vote(sm, tcls, allowed, scale, off, hb, wb, stride, key, lpc, f, r, wide, cs):  # type: ignore[no-untyped-def]
    """The low-pass ``lpc`` (boards, hc, wc, 3) voted at 1/``f`` of the frame over (2r+1)^2 taps.

    Coarse pixel (i, j) takes the match of the frame pixel at the centre of its f x f block (its
    board position at board scale / f, not rounded); each tap q adds ``lpc`` read bilinearly at q's
    match shifted by p - q, unless the board pixel there has a class p may not take (or none) or
    lies off the board. Uniform weights; no tap that fits: p's own match. Pixels of no re-voted
    class are left as they are. ``cs`` (hl, wl) int64 gets each coarse pixel's class (-1: none),
    filled here, for :func:`add_wide`.
    """
    h, w = tcls.shape
    hl, wl = wide.shape[:2]
    iy = np.zeros((hl, wl), np.int64)  # integer part of the coarse board position
    ix = np.zeros((hl, wl), np.int64)
    fy = np.zeros((hl, wl), np.float32)  # its fraction
    fx = np.zeros((hl, wl), np.float32)
    cb = np.full((hl, wl), -1, np.int64)
    cs[:, :] = -1
    for i in prange(hl):
        y = min(i * f + f // 2, h - 1)
        for j in range(wl):
            x = min(j * f + f // 2, w - 1)
            s = tcls[y, x]
            b = sm[y, x, 0]
            if s < 0 or b < 0:
                continue
            cs[i, j] = s
            cb[i, j] = b
            # the block's centre sits half a pixel before (y, x); coarse coordinate as in residual
            vy = ((sm[y, x, 1] + 0.5) * scale[b] - 0.5 - (y - i * f - (f - 1) / 2.0) + 0.5) / f - 0.5
            vx = ((sm[y, x, 2] + 0.5) * scale[b] - 0.5 - (x - j * f - (f - 1) / 2.0) + 0.5) / f - 0.5
            iy[i, j] = int(np.floor(vy))
            ix[i, j] = int(np.floor(vx))
            fy[i, j] = vy - np.floor(vy)
            fx[i, j] = vx - np.floor(vx)
    one = np.float32(1.0)
    # each board's labels at the coarse positions the taps test (the block centres), read once
    nb = lpc.shape[0]
    hcs = np.zeros(nb, np.int64)
    wcs = np.zeros(nb, np.int64)
    for b in range(nb):
        hcs[b] = (hb[b] + f - 1) // f
        wcs[b] = (wb[b] + f - 1) // f
    kc = np.full(lpc.shape[:3], -1, np.int32)
    for b in range(nb):
        for ny in prange(hcs[b]):
            by = min(ny * f + f // 2, hb[b] - 1)
            for nx in range(wcs[b]):
                kc[b, ny, nx] = key[off[b] + by * stride + min(nx * f + f // 2, wb[b] - 1)]
    for i in prange(hl):
        acc = np.zeros(3, np.float32)
        for j in range(wl):
            s = cs[i, j]
            if s < 0:
                continue
            n = 0
            acc[:] = 0.0
            for dy in range(-r, r + 1):
                qi = i - dy
                if qi < 0 or qi >= hl:
                    continue
                for dx in range(-r, r + 1):
                    qj = j - dx
                    if qj < 0 or qj >= wl or cs[qi, qj] < 0:
                        continue
                    b = cb[qi, qj]
                    hc = hcs[b]
                    wc = wcs[b]
                    y0 = iy[qi, qj] + dy
                    x0 = ix[qi, qj] + dx
                    ty = fy[qi, qj]
                    tx = fx[qi, qj]
                    # the board pixel nearest the read decides the label
                    ny = y0 + (1 if ty >= 0.5 else 0)
                    nx = x0 + (1 if tx >= 0.5 else 0)
                    if ny < 0 or nx < 0 or ny >= hc or nx >= wc:
                        continue
                    k = kc[b, ny, nx]
                    if k < 0 or allowed[s, k] == 0:
                        continue
                    ya = min(max(y0, 0), hc - 1)
                    yb = min(max(y0 + 1, 0), hc - 1)
                    xa = min(max(x0, 0), wc - 1)
                    xb = min(max(x0 + 1, 0), wc - 1)
                    for c in range(3):
                        top = lpc[b, ya, xa, c] * (one - tx) + lpc[b, ya, xb, c] * tx
                        bot = lpc[b, yb, xa, c] * (one - tx) + lpc[b, yb, xb, c] * tx
                        acc[c] += top * (one - ty) + bot * ty
                    n += 1
            if n == 0:  # no tap fits: the pixel's own match
                b = cb[i, j]
                ya = min(max(iy[i, j], 0), (hb[b] + f - 1) // f - 1)
                xa = min(max(ix[i, j], 0), (wb[b] + f - 1) // f - 1)
                for c in range(3):
                    acc[c] = lpc[b, ya, xa, c]
                n = 1
            for c in range(3):
                wide[i, j, c] = acc[c] / np.float32(n)


@njit(cache=True, nogil=True, parallel=True)
def add_wide(canvas, tcls, wide, cs, f, sm, scale, hb, wb, lpc):  # type: ignore[no-untyped-def]
    """Re-voted pixels: ``canvas += wide / 255``, ``wide`` (at 1/f) read bilinearly as vote_blended
    reads it: only the samples of the pixel's own class (``cs``), renormalised. A pixel none of whose
    four samples is of its class takes the low-pass at its own match instead (``lpc``, per board, at
    1/f of the board), so that it keeps the plain re-vote as the parent kept its plain vote."""
    h, w = tcls.shape
    hl, wl = wide.shape[:2]
    inv = np.float32(1.0 / 255.0)
    for y in prange(h):
        i0, ty = _coarse(np.float64(y), f, hl)
        i1 = min(i0 + 1, hl - 1)
        for x in range(w):
            s = tcls[y, x]
            if s < 0:
                continue
            j0, tx = _coarse(np.float64(x), f, wl)
            j1 = min(j0 + 1, wl - 1)
            wts = class_weights(cs, i0, j0, i1, j1, ty, tx, s)
            if wts[4] >= 1e-4:
                for c in range(3):
                    canvas[y, x, c] += np.float32(class_lerp(wide, i0, j0, i1, j1, wts, c)) * inv
                continue
            b = sm[y, x, 0]
            sy = _board_pos(sm[y, x, 1], scale[b], hb[b])
            sx = _board_pos(sm[y, x, 2], scale[b], wb[b])
            hc = (hb[b] + f - 1) // f
            wc = (wb[b] + f - 1) // f
            a0, uy = _coarse(np.float64(sy), f, hc)
            a1 = min(a0 + 1, hc - 1)
            b0, ux = _coarse(np.float64(sx), f, wc)
            b1 = min(b0 + 1, wc - 1)
            for c in range(3):
                top = lpc[b, a0, b0, c] * (1.0 - ux) + lpc[b, a0, b1, c] * ux
                bot = lpc[b, a1, b0, c] * (1.0 - ux) + lpc[b, a1, b1, c] * ux
                canvas[y, x, c] += np.float32(top * (1.0 - uy) + bot * uy) * inv


@njit(cache=True, nogil=True, parallel=True)
def add_parent(canvas, tcls, parent):  # type: ignore[no-untyped-def]
    """Re-voted pixels: ``canvas += parent / 255`` (the parent image, uint8, carries the blend)."""
    h, w = tcls.shape
    inv = np.float32(1.0 / 255.0)
    for y in prange(h):
        for x in range(w):
            if tcls[y, x] < 0:
                continue
            for c in range(3):
                canvas[y, x, c] += np.float32(parent[y, x, c]) * inv


@njit(cache=True, nogil=True, parallel=True)
def recolour(regions, parent, maps, has, canvas):  # type: ignore[no-untyped-def]
    """Pixels of a class with ``has[class]``: ``canvas = clip(parent / 255 @ maps[class][:3] + maps[class][3], 0, 1)``."""
    h, w = regions.shape
    inv = np.float32(1.0 / 255.0)
    for y in prange(h):
        for x in range(w):
            c = regions[y, x]
            if not has[c]:
                continue
            r = np.float32(parent[y, x, 0]) * inv
            g = np.float32(parent[y, x, 1]) * inv
            b = np.float32(parent[y, x, 2]) * inv
            for k in range(3):
                v = r * maps[c, 0, k] + g * maps[c, 1, k] + b * maps[c, 2, k] + maps[c, 3, k]
                canvas[y, x, k] = min(max(v, np.float32(0.0)), np.float32(1.0))

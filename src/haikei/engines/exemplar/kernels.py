"""Numba kernels of the exemplar painter: guided PatchMatch, occurrence counts, voting.

Arrays (all C-contiguous):

- target features ``tf`` (H, W, C) float32: the colour estimate and the guides, weights already
  folded in (a feature is ``sqrt(weight) * value``); the atlas ``sf`` (Hs, Ws, C) likewise;
- ``tcls`` (H, W) int32: the *target class slot* of each pixel, ``-1`` where nothing is synthesised
  (structured man-made pixels, pixels pinned to an init image);
- the source atlas: every chosen board side by side at the level's scale, padded with a margin
  of ``PAD`` pixels so that a patch centred on any board pixel stays inside the array.
  ``skey`` (Hs, Ws) int32 is ``board * 256 + label`` on board pixels and ``-1`` in the padding;
- ``allowed`` (slots, boards * 256) uint8: 1 where a target slot may take a source key. This is the
  hard label constraint: a pixel of class c only ever copies from pixels of c (or its fallback) on
  the boards chosen for c;
- ``cand_ptr`` / ``cand`` : for each slot, the list of atlas positions it may copy from (random
  global search and (re)initialisation draw from it).

Determinism: the search runs over horizontal stripes in parallel; a stripe is scanned by one
thread in scanline order and reads only its own pixels, so results do not depend on the number
of threads or their timing. Random numbers are a hash of (seed, iteration, pixel, draw). Votes
gather (each output pixel reads its neighbours' matches), they never scatter.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

PAD = 4  # atlas padding; must be >= the largest patch radius

__all__ = [
    "PAD",
    "count_occurrences",
    "fix_invalid",
    "init_random",
    "patchmatch_iteration",
    "upsample_nnf",
    "vote",
]


@njit(cache=True, inline="always")
def _hash(a: np.uint64, b: np.uint64) -> np.uint64:
    # splitmix64 finaliser over a combined key
    z = a * np.uint64(0x9E3779B97F4A7C15) + b + np.uint64(0x632BE59BD9B4E019)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _rand(seed: np.uint64, it: int, y: int, x: int, k: int) -> np.uint64:
    h = _hash(seed, np.uint64(it * 1315423911 + k))
    return _hash(h, np.uint64(y * 65536 + x))


@njit(cache=True, inline="always")
def _dist(tf, sf, ty, tx, sy, sx, r, bound):  # type: ignore[no-untyped-def]
    """Sum of squared feature differences over a (2r+1)^2 patch; stops early past ``bound``."""
    h, w, g = tf.shape
    d = 0.0
    for dy in range(-r, r + 1):
        yy = ty + dy
        if yy < 0 or yy >= h:
            continue
        for dx in range(-r, r + 1):
            xx = tx + dx
            if xx < 0 or xx >= w:
                continue
            for c in range(g):
                e = tf[yy, xx, c] - sf[sy + dy, sx + dx, c]
                d += e * e
        if d > bound:
            return d
    return d


@njit(cache=True, parallel=True)
def init_random(tcls, cand_ptr, cand, seed, nnf, cost):  # type: ignore[no-untyped-def]
    """Random initial matches drawn from each pixel's own candidate list."""
    h, w = tcls.shape
    for y in prange(h):
        for x in range(w):
            s = tcls[y, x]
            if s < 0:
                nnf[y, x, 0] = -1
                nnf[y, x, 1] = -1
                cost[y, x] = 0.0
                continue
            n = cand_ptr[s + 1] - cand_ptr[s]
            j = cand_ptr[s] + np.int64(_rand(np.uint64(seed), 0, y, x, 99) % np.uint64(n))
            nnf[y, x, 0] = cand[j, 0]
            nnf[y, x, 1] = cand[j, 1]
            cost[y, x] = np.inf


@njit(cache=True, parallel=True)
def recompute_cost(tf, sf, tcls, nnf, r, cost):  # type: ignore[no-untyped-def]
    h, w = tcls.shape
    for y in prange(h):
        for x in range(w):
            if tcls[y, x] >= 0:
                cost[y, x] = _dist(tf, sf, y, x, nnf[y, x, 0], nnf[y, x, 1], r, np.inf)


@njit(cache=True)
def count_occurrences(tcls, nnf, hs, ws):  # type: ignore[no-untyped-def]
    occ = np.zeros((hs, ws), np.float32)
    h, w = tcls.shape
    for y in range(h):
        for x in range(w):
            if tcls[y, x] >= 0:
                occ[nnf[y, x, 0], nnf[y, x, 1]] += 1.0
    return occ


@njit(cache=True, inline="always")
def _try(tf, sf, skey, allowed, occ, slot, y, x, sy, sx, r, lam_e, best):  # type: ignore[no-untyped-def]
    """Cost of source (sy, sx) for target (y, x) if allowed, else inf. ``best`` bounds the work."""
    hs, ws = skey.shape
    if sy < 0 or sy >= hs or sx < 0 or sx >= ws:
        return np.inf, np.inf
    k = skey[sy, sx]
    if k < 0 or allowed[slot, k] == 0:
        return np.inf, np.inf
    pen = lam_e * occ[sy, sx]
    if pen >= best:
        return np.inf, np.inf
    d = _dist(tf, sf, y, x, sy, sx, r, best - pen)
    return d + pen, d


@njit(cache=True, parallel=True)
def patchmatch_iteration(  # type: ignore[no-untyped-def]
    tf,
    sf,
    tcls,
    skey,
    allowed,
    cand_ptr,
    cand,
    occ,
    lam_e,
    nnf,
    cost,
    r,
    seed,
    it,
    stripe,
    n_global,
    radius0,
):
    """One PatchMatch pass (propagation + random search), stripe-parallel and deterministic.

    ``cost`` holds the pure patch distance of each pixel's current match; the occurrence penalty
    ``lam_e[slot] * occ[source]`` is added on the fly so that over-used source pixels lose.
    """
    h, w = tcls.shape
    offset = (it * 7919) % stripe
    nstripes = (h + offset + stripe - 1) // stripe
    forward = it % 2 == 0
    step = 1 if forward else -1
    for si in prange(nstripes):
        y0 = max(0, si * stripe - offset)
        y1 = min(h, (si + 1) * stripe - offset)
        if y1 <= y0:
            continue
        for yi in range(y1 - y0):
            y = y0 + yi if forward else y1 - 1 - yi
            for xi in range(w):
                x = xi if forward else w - 1 - xi
                slot = tcls[y, x]
                if slot < 0:
                    continue
                le = lam_e[slot]
                by = nnf[y, x, 0]
                bx = nnf[y, x, 1]
                bd = cost[y, x]
                best = bd + le * occ[by, bx]
                # propagation from the already-visited neighbours in this stripe
                px = x - step
                if 0 <= px < w and tcls[y, px] >= 0:
                    sy = nnf[y, px, 0]
                    sx = nnf[y, px, 1] + step
                    if sy != by or sx != bx:
                        t, d = _try(tf, sf, skey, allowed, occ, slot, y, x, sy, sx, r, le, best)
                        if t < best:
                            best, bd, by, bx = t, d, sy, sx
                py = y - step
                if y0 <= py < y1 and tcls[py, x] >= 0:
                    sy = nnf[py, x, 0] + step
                    sx = nnf[py, x, 1]
                    if sy != by or sx != bx:
                        t, d = _try(tf, sf, skey, allowed, occ, slot, y, x, sy, sx, r, le, best)
                        if t < best:
                            best, bd, by, bx = t, d, sy, sx
                # random search: shrinking window around the best, then global draws in the class
                rad = radius0
                k = 0
                while rad >= 1:
                    hsh = _rand(np.uint64(seed), it, y, x, k)
                    oy = np.int64(hsh % np.uint64(2 * rad + 1)) - rad
                    ox = np.int64((hsh >> np.uint64(24)) % np.uint64(2 * rad + 1)) - rad
                    t, d = _try(tf, sf, skey, allowed, occ, slot, y, x, by + oy, bx + ox, r, le, best)
                    if t < best:
                        best, bd, by, bx = t, d, by + oy, bx + ox
                    rad //= 2
                    k += 1
                n = cand_ptr[slot + 1] - cand_ptr[slot]
                for g in range(n_global):
                    hsh = _rand(np.uint64(seed), it, y, x, 64 + g)
                    j = cand_ptr[slot] + np.int64(hsh % np.uint64(n))
                    t, d = _try(tf, sf, skey, allowed, occ, slot, y, x, cand[j, 0], cand[j, 1], r, le, best)
                    if t < best:
                        best, bd, by, bx = t, d, cand[j, 0], cand[j, 1]
                nnf[y, x, 0] = by
                nnf[y, x, 1] = bx
                cost[y, x] = bd


@njit(cache=True, parallel=True)
def upsample_nnf(  # type: ignore[no-untyped-def]
    nnf_c, cost_c, tcls_f, c_skey, c_y0, c_x0, f_y0, f_x0, f_h, f_w, factor, nnf_f, cost_f
):
    """Carry coarse matches to a finer level ``factor`` times larger (board coordinates scale).

    ``c_*``/``f_*`` give each board's atlas origin at the coarse/fine level and ``f_h``/``f_w`` its
    size at the fine level; the board of a coarse match is ``c_skey >> 8``.
    """
    h, w = tcls_f.shape
    hc, wc = nnf_c.shape[0], nnf_c.shape[1]
    for y in prange(h):
        for x in range(w):
            if tcls_f[y, x] < 0:
                nnf_f[y, x, 0] = -1
                nnf_f[y, x, 1] = -1
                continue
            cy = min(y // factor, hc - 1)
            cx = min(x // factor, wc - 1)
            sy = nnf_c[cy, cx, 0]
            sx = nnf_c[cy, cx, 1]
            if sy < 0 or c_skey[sy, sx] < 0:
                nnf_f[y, x, 0] = -1
                nnf_f[y, x, 1] = -1
                cost_f[y, x] = np.inf
                continue
            b = c_skey[sy, sx] >> 8
            by = (sy - c_y0[b]) * factor + (y - cy * factor)
            bx = (sx - c_x0[b]) * factor + (x - cx * factor)
            by = min(max(by, 0), f_h[b] - 1)
            bx = min(max(bx, 0), f_w[b] - 1)
            nnf_f[y, x, 0] = f_y0[b] + by
            nnf_f[y, x, 1] = f_x0[b] + bx
            cost_f[y, x] = cost_c[cy, cx]


@njit(cache=True)
def fix_invalid(tcls, skey, allowed, cand_ptr, cand, seed, max_radius, nnf):  # type: ignore[no-untyped-def]
    """Make every match obey the label constraint without feature evaluation.

    A pixel whose match is missing or of a forbidden class borrows the shifted match of the
    nearest neighbour (growing square rings) that is valid for it, else a random candidate.
    Processed in scanline order (serial) so the outcome is deterministic. Returns the count fixed.
    """
    h, w = tcls.shape
    hs, ws = skey.shape
    bad = np.zeros((h, w), np.bool_)
    nbad = 0
    for y in range(h):
        for x in range(w):
            s = tcls[y, x]
            if s < 0:
                continue
            sy = nnf[y, x, 0]
            sx = nnf[y, x, 1]
            if sy < 0 or sy >= hs or sx < 0 or sx >= ws or skey[sy, sx] < 0 or allowed[s, skey[sy, sx]] == 0:
                bad[y, x] = True
                nbad += 1
    if nbad == 0:
        return 0
    for y in range(h):
        for x in range(w):
            if not bad[y, x]:
                continue
            s = tcls[y, x]
            found = False
            for rad in range(1, max_radius + 1):
                for dy in range(-rad, rad + 1):
                    for dx in range(-rad, rad + 1):
                        if max(abs(dy), abs(dx)) != rad:
                            continue
                        qy = y + dy
                        qx = x + dx
                        if qy < 0 or qy >= h or qx < 0 or qx >= w or bad[qy, qx] or tcls[qy, qx] < 0:
                            continue
                        sy = nnf[qy, qx, 0] - dy
                        sx = nnf[qy, qx, 1] - dx
                        if sy < 0 or sy >= hs or sx < 0 or sx >= ws:
                            continue
                        k = skey[sy, sx]
                        if k >= 0 and allowed[s, k] != 0:
                            nnf[y, x, 0] = sy
                            nnf[y, x, 1] = sx
                            found = True
                            break
                    if found:
                        break
                if found:
                    break
            if not found:
                n = cand_ptr[s + 1] - cand_ptr[s]
                j = cand_ptr[s] + np.int64(_rand(np.uint64(seed), 1, y, x, 7) % np.uint64(n))
                nnf[y, x, 0] = cand[j, 0]
                nnf[y, x, 1] = cand[j, 1]
            bad[y, x] = False
    return nbad


@njit(cache=True)
def _gather(src, low, skey, allowed, tcls, nnf, weight, wshift, r, y, x, slot, acc):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Sum into ``acc`` the weighted source values that the patches of the neighbours q of (y, x)
    (within ``r``) lay on (y, x): ``src``'s channels first, then ``low``'s (a
    second source read at the same places; no channels = none); returns the sum of weights."""
    h, w = tcls.shape
    hs, ws = skey.shape
    nch = src.shape[2]
    nlow = low.shape[2]
    hw, ww = weight.shape
    for c in range(nch + nlow):
        acc[c] = 0.0
    wsum = 0.0
    for dy in range(-r, r + 1):
        qy = y - dy
        if qy < 0 or qy >= h:
            continue
        for dx in range(-r, r + 1):
            qx = x - dx
            if qx < 0 or qx >= w or tcls[qy, qx] < 0:
                continue
            sy = nnf[qy, qx, 0] + dy
            sx = nnf[qy, qx, 1] + dx
            if sy < 0 or sy >= hs or sx < 0 or sx >= ws:
                continue
            k = skey[sy, sx]
            if k < 0 or allowed[slot, k] == 0:
                continue
            wq = weight[min(qy >> wshift, hw - 1), min(qx >> wshift, ww - 1)]
            for c in range(nch):
                acc[c] += wq * src[sy, sx, c]
            for c in range(nlow):
                acc[nch + c] += wq * low[sy, sx, c]
            wsum += wq
    return wsum


@njit(cache=True, parallel=True)
def vote(src, skey, allowed, tcls, nnf, weight, wshift, r, out):  # type: ignore[no-untyped-def]
    """Match-weighted, label-consistent voting (gather form).

    Output pixel p averages ``src[nnf[q] + (p - q)]`` over the neighbours q whose patch covers p,
    each weighted by ``weight[q >> wshift]`` (a function of q's match error), and skipping
    contributions whose source pixel has a class p may not take. Pixels with ``tcls < 0`` are left untouched.
    """
    h, w = tcls.shape
    nch = src.shape[2]
    none = np.zeros((1, 1, 0), src.dtype)
    for y in prange(h):
        acc = np.zeros(nch, np.float32)
        for x in range(w):
            slot = tcls[y, x]
            if slot < 0:
                continue
            wsum = _gather(src, none, skey, allowed, tcls, nnf, weight, wshift, r, y, x, slot, acc)
            if wsum > 0.0:
                for c in range(nch):
                    out[y, x, c] = acc[c] / wsum
            else:
                sy = nnf[y, x, 0]
                sx = nnf[y, x, 1]
                for c in range(nch):
                    out[y, x, c] = src[sy, sx, c]


@njit(cache=True, inline="always")
def class_weights(cls, y0, x0, y1, x1, ty, tx, slot):  # type: ignore[no-untyped-def]
    """Bilinear weights of the four samples (y0|y1, x0|x1) of a coarse grid, zero for a sample whose
    class ``cls`` is not ``slot``; then their sum: (w00, w01, w10, w11, sum)."""
    w00 = (1.0 - tx) * (1.0 - ty) if cls[y0, x0] == slot else 0.0
    w01 = tx * (1.0 - ty) if cls[y0, x1] == slot else 0.0
    w10 = (1.0 - tx) * ty if cls[y1, x0] == slot else 0.0
    w11 = tx * ty if cls[y1, x1] == slot else 0.0
    return w00, w01, w10, w11, w00 + w01 + w10 + w11


@njit(cache=True, inline="always")
def class_lerp(img, y0, x0, y1, x1, wts, c):  # type: ignore[no-untyped-def]
    """Channel ``c`` of ``img`` read at the four samples with :func:`class_weights`, renormalised."""
    v = wts[0] * img[y0, x0, c] + wts[1] * img[y0, x1, c] + wts[2] * img[y1, x0, c] + wts[3] * img[y1, x1, c]
    return v / wts[4]


@njit(cache=True, parallel=True)
def vote_blended(src, low, skey, allowed, tcls, nnf, weight, wshift, r, wide, wcls, f, out):  # type: ignore[no-untyped-def]
    """:func:`vote` of the paint, with its low frequencies swapped for wider ones.

    ``src`` is the paint, ``low`` its low-pass (3 channels each), voted together. Each pixel gets
    ``vote(paint) - vote(low-pass) + wide``, where ``wide`` is the low-pass voted over a wide
    neighbourhood at 1/``f`` of the size, sampled bilinearly here: inside a coherent copy the two
    low-passes agree and the paint is unchanged; where neighbouring matches copy differently toned
    places, the step between them becomes a ramp as wide as the wide vote (the narrow low-pass is
    voted exactly as the paint, so the step cancels without a trace).

    ``wcls`` is ``wide``'s class map: only the bilinear samples of the pixel's own class are read
    (their weights renormalised), so one region's tone never bleeds over a region border (reading
    them all gave a light, stair-stepped halo along every border, the coarse grid's steps); a pixel
    none of whose four samples is of its class keeps its plain vote.
    """
    h, w = tcls.shape
    hl, wl = wide.shape[0], wide.shape[1]
    inv = np.float32(1.0 / f)
    for y in prange(h):
        acc = np.zeros(6, np.float32)
        fy = min(max((y + np.float32(0.5)) * inv - np.float32(0.5), np.float32(0.0)), np.float32(hl - 1))
        y0 = min(int(fy), hl - 2) if hl > 1 else 0
        ty = fy - np.float32(y0)
        y1 = min(y0 + 1, hl - 1)
        for x in range(w):
            slot = tcls[y, x]
            if slot < 0:
                continue
            wsum = _gather(src, low, skey, allowed, tcls, nnf, weight, wshift, r, y, x, slot, acc)
            if wsum <= 0.0:
                sy = nnf[y, x, 0]
                sx = nnf[y, x, 1]
                for c in range(3):
                    acc[c] = src[sy, sx, c]
                    acc[3 + c] = low[sy, sx, c]
                wsum = 1.0
            fx = min(max((x + np.float32(0.5)) * inv - np.float32(0.5), np.float32(0.0)), np.float32(wl - 1))
            x0 = min(int(fx), wl - 2) if wl > 1 else 0
            tx = fx - np.float32(x0)
            x1 = min(x0 + 1, wl - 1)
            wts = class_weights(wcls, y0, x0, y1, x1, ty, tx, slot)
            if wts[4] < 1e-4:
                for c in range(3):
                    out[y, x, c] = acc[c] / wsum
                continue
            for c in range(3):
                out[y, x, c] = (acc[c] - acc[3 + c]) / wsum + class_lerp(wide, y0, x0, y1, x1, wts, c)


@njit(cache=True, parallel=True)
def source_map(tcls, nnf, skey, y0, x0, used, scale, hb, wb, out):  # type: ignore[no-untyped-def]
    """``out`` (h, w, 3) int32: (board, y, x) in the board's own pixels of each natural pixel's match.

    The atlas position ``n`` of board ``b`` (placed at ``y0[b], x0[b]`` at ``scale[b]``) maps to
    ``min(size - 1, int((n - y0[b] + 0.5) / scale[b]))``; pixels of no natural class, or matched on a
    board not in ``used``, are left as they are.
    """
    h, w = tcls.shape
    for y in prange(h):
        for x in range(w):
            if tcls[y, x] < 0:
                continue
            ny = nnf[y, x, 0]
            nx = nnf[y, x, 1]
            b = skey[ny, nx] >> 8
            if b < 0 or not used[b]:
                continue
            out[y, x, 0] = b
            out[y, x, 1] = min(hb[b] - 1, np.int32((ny - y0[b] + 0.5) / scale[b]))
            out[y, x, 2] = min(wb[b] - 1, np.int32((nx - x0[b] + 0.5) / scale[b]))

"""``repetition``: does the painting's texture visibly tile (QUALITY.md)?

Patches of 16x16 full-resolution pixels (8x8 at the half resolution used) are queried on a fixed
grid; a query is a *hit* when some patch at least a patch away is a near-duplicate of it (RMS
difference at most ``REP_DUP_RATIO`` x the query's own standard deviation). The metric is the
share of hits among all queries, minus the same share measured on the art boards.

Layout-aware (black-box: painting, layout lines and boards only). A pair of duplicate patches is
*excused* when the layout's line patches at both places contain ink and are themselves
near-duplicates: that is structure the layout asked to be repeated (the same window drawn on five
houses, identical poles, a long straight kerb whose patches all look alike). A query counts only
when at least one of its duplicates is not excused, so blank-layout areas (sky, meadows, water,
where tiling shows most) always count, and so does a tiled texture laid over ink that differs.

Region-aware. A pair that the ink does not excuse is excused when the *region map* explains it:
a patch on a long two-tone border (cream sky over a blue forest edge, a trunk against the sky) is
a near-duplicate of every other patch along that border, because the border's step dominates
its standard deviation. That is the layout's structure, not tiling texture, and the ink excuse
misses it (the border often has no ink, or the ink sits 1-2 px off the painted edge, and a
one-pixel shift of a thin stroke breaks the layout RMS test). The rule, per duplicate pair:

1. Both region windows (the full-resolution 16x16 patch grown by ``REGION_SHIFT`` px on every
   side, so that a painted edge that spills a pixel or two past its label border still belongs
   to it) hold a border (at least two classes), and they agree as label patterns: the same label
   on at least ``REGION_AGREE`` = 90 % of their pixels at the best shift of the candidate's
   window within ``REGION_SHIFT`` = +-2 px. A window's
   label pattern is its border's shape; 90 % leaves room for a hand-drawn border's jaggies
   (40 of 400 pixels, about one pixel row across the window plus a wobble) while two borders at another
   angle, curvature or place in the patch disagree on far more; +-2 px is the placement slack
   of the painting's own duplicate test (the k-d tree finds the best-placed twin, so the painted
   edges already line up) plus a painted edge's 1-2 px offset from the label raster.
2. And the border, not the texture, is what repeats: in each patch the mean of each class is
   subtracted over its *texture pixels* (those at least ``REGION_CORE`` = 4 full-res px from any
   label border: the +-2 px of step 1, one px of the 2x2 averaging to half resolution and one of
   a painted edge's softness); the residuals are compared on the pixels that are texture in both
   patches with the painting's own bound (RMS <= ``REP_DUP_RATIO`` x the query residual's std).
   If they still near-duplicate, the texture itself tiles and the pair is *not* excused. Fewer
   than ``REGION_MIN_CORE`` = 16 shared texture pixels (a quarter of the 8x8 half-res patch), or
   residuals flatter than ``REP_MIN_STD``, mean the patch's look is its border: excused.

So tiling inside a region always counts (its patches hold no border), tiling across a border
counts where the label patterns differ (step 1) and also where they agree (step 2: a tiled
texture on both sides of a straight border). Measured on forest_path 960x540 (the exemplar
engine): of 202 hit queries after the ink excuse, 117 sat on region borders and are excused (rate
.131 -> .055; 97 without growing the window, whose misses were trunk edges bleeding 2-4 px into
the sky); what still counts is texture inside regions (vertical streaks copied down the forest
band, trunk interiors). Step 2 keeps none of those 117 on the bundled cases at REGION_CORE = 4
(at 2 px it kept a few trunk edges painted 3+ px off their labels); it is there for tiled texture
on both sides of a straight border (tests/quality/test_repetition.py). The boards are measured the same way, each with its
own label map as its region map (``metrics.prepare_reference``), so "beyond what the art board
itself has" compares like with like (the bundled boards: .060 -> .047).

Flat patches (standard deviation below ``REP_MIN_STD`` gray levels) are not queried, and that is
deliberate: a flat patch has no texture that could visibly tile, and any two flat patches of one
colour would "duplicate" each other, so counting them would measure flatness, not tiling, and
would punish a flat sky the art board itself paints flat. Flattening a textured area is a
style failure and is judged there: ``style_distance`` compares gradient magnitudes with the
board's and ``region_miou`` uses texture features. Flat patches stay in the denominator, so the
figure is the share of the painting's area that tiles; ``details['repetition_textured_share']``
says how much of the painting was textured enough to be judged at all, so a low figure that comes
from flat paint can be told apart from a low figure that comes from varied texture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from haikei.errors import InputError
from haikei.quality.colour import luminance

__all__ = ["RepetitionCounts", "repetition_counts", "repetition_hits", "repetition_rate"]

REP_PATCH = 16  # repetition patch side in full-resolution pixels (8 at the half resolution used)
REP_QUERIES = 1_500
REP_MIN_STD = 3.0  # gray levels: flatter patches cannot visibly tile
REP_DUP_RATIO = 0.3  # near-duplicate: RMS difference <= this x the patch's own std
REP_NEIGHBOURS = 16
LAYOUT_INK = 128  # layout pixels darker than this are ink
# layout patches are near-duplicates when their RMS difference is at most this x the larger of
# their standard deviations (line art is high-contrast: a one-pixel shift of a thin stroke moves
# the RMS a lot, so this is looser than the painting's bound)
LAYOUT_DUP_RATIO = 0.5
# region-map excuse (see the module doc): label patterns agree on at least this share of pixels ...
REGION_AGREE = 0.9
REGION_SHIFT = 2  # ... at the best shift within this many full-resolution pixels either way
REGION_CORE = 4  # full-res pixels this close to a label border are edge, not texture (module doc)
REGION_MIN_CORE = 16  # fewer shared texture pixels than this (of 64 at half res): the patch is all edge


@dataclass(frozen=True)
class RepetitionCounts:
    """Counts of one image's repetition queries."""

    hits: int  # queries with a near-duplicate far away that the layout does not excuse
    excused: int  # queries whose every far duplicate is excused (by ink or by the region map)
    textured: int  # queries textured enough to be judged
    total: int  # all queries (the denominator)
    excused_by_regions: int = 0  # of ``excused``: queries that the ink alone would have counted

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else 0.0


def _dct_basis(n: int) -> np.ndarray:
    """Orthonormal 1-D DCT-II basis, rows are frequencies."""
    k = np.arange(n)[:, None]
    x = np.arange(n)[None, :]
    basis = np.cos(np.pi * (x + 0.5) * k / n) * np.sqrt(2.0 / n)
    basis[0] /= np.sqrt(2.0)
    return basis


def _half(gray: np.ndarray) -> np.ndarray:
    h2, w2 = gray.shape[0] // 2, gray.shape[1] // 2
    return np.asarray(gray[: 2 * h2, : 2 * w2].reshape(h2, 2, w2, 2).mean(axis=(1, 3)), np.float64)


def _excused(
    lines: np.ndarray, q_pos: tuple[np.ndarray, np.ndarray], c_pos: tuple[np.ndarray, np.ndarray], p: int
) -> np.ndarray:
    """Per duplicate pair: do the layout's patches at both places hold ink and nearly match?"""
    lay = _half(lines.astype(np.float64))
    ink = _half((lines < LAYOUT_INK).astype(np.float64)) > 0  # any inked full-res pixel in the 2x2
    # windows are top-left anchored, as the painting's
    ink_windows = np.lib.stride_tricks.sliding_window_view(ink, (p, p))
    windows = np.lib.stride_tricks.sliding_window_view(lay, (p, p))
    qa = windows[q_pos].reshape(len(q_pos[0]), -1)
    ca = windows[c_pos].reshape(len(c_pos[0]), -1)
    rms = np.sqrt(np.mean((qa - ca) ** 2, axis=1))
    bound = LAYOUT_DUP_RATIO * np.maximum(qa.std(axis=1), ca.std(axis=1))
    both_inked = ink_windows[q_pos].any(axis=(1, 2)) & ink_windows[c_pos].any(axis=(1, 2))
    return np.asarray(both_inked & (rms <= bound))


def _labels_agree(
    regions: np.ndarray, q_pos: tuple[np.ndarray, np.ndarray], c_pos: tuple[np.ndarray, np.ndarray], p: int
) -> np.ndarray:
    """Per pair: do both region windows hold a border and match as label patterns at a small shift?

    Positions are half-resolution top-left corners; a region window is the full-resolution
    ``2p x 2p`` patch under one, grown by ``REGION_SHIFT`` px on every side. The candidate's
    window is shifted by up to ``REGION_SHIFT`` px.
    """
    # the region window is the patch grown by REGION_SHIFT on every side: a painted edge that
    # spills a pixel or two past its label border still belongs to that border
    s = REGION_SHIFT
    G = 2 * p + 2 * s
    padded = np.pad(regions, 2 * s, mode="edge")  # edge-replicated: the frame adds no class
    win = np.lib.stride_tricks.sliding_window_view(padded, (G, G))
    n = len(q_pos[0])
    rq = win[2 * q_pos[0] + s, 2 * q_pos[1] + s].reshape(n, -1)
    rc = win[2 * c_pos[0] + s, 2 * c_pos[1] + s].reshape(n, -1)
    border = (rq.min(axis=1) != rq.max(axis=1)) & (rc.min(axis=1) != rc.max(axis=1))
    out = np.zeros(n, bool)
    sel = np.flatnonzero(border)
    if not len(sel):
        return out
    q = rq[sel]
    cy, cx = 2 * c_pos[0][sel] + s, 2 * c_pos[1][sel] + s
    best = np.zeros(len(sel))
    for dy in range(-s, s + 1):
        for dx in range(-s, s + 1):
            shifted = win[cy + dy, cx + dx].reshape(len(sel), -1)
            best = np.maximum(best, np.mean(shifted == q, axis=1))
    out[sel] = best >= REGION_AGREE
    return out


def _texture_differs(
    half: np.ndarray,
    regions: np.ndarray,
    q_pos: tuple[np.ndarray, np.ndarray],
    c_pos: tuple[np.ndarray, np.ndarray],
    p: int,
) -> np.ndarray:
    """Per pair: with the border taken out, is the texture *not* a near-duplicate?

    Each patch's class means (over its texture pixels, those at least ``REGION_CORE`` full-res
    pixels from a label border) are subtracted; the residuals are compared on the pixels that are
    texture in both patches, by the painting's own bound (``REP_DUP_RATIO`` x the query residual's
    std). Too few shared texture pixels, or flat residuals, mean the patch's look is its border.
    """
    k = 2 * REGION_CORE + 1
    core_full = ndimage.maximum_filter(regions, k, mode="nearest") == ndimage.minimum_filter(
        regions, k, mode="nearest"
    )
    core = _half(core_full.astype(np.float64)) == 1.0  # the whole 2x2 block is texture
    lab = regions[: 2 * core.shape[0] : 2, : 2 * core.shape[1] : 2].astype(np.int64)
    vw = np.lib.stride_tricks.sliding_window_view(half, (p, p))
    cw = np.lib.stride_tricks.sliding_window_view(core, (p, p))
    lw = np.lib.stride_tricks.sliding_window_view(lab, (p, p))
    n = len(q_pos[0])
    res, cores = [], []
    for pos in (q_pos, c_pos):
        v = vw[pos].reshape(n, -1)
        m = cw[pos].reshape(n, -1)
        key = (np.arange(n)[:, None] * 256 + lw[pos].reshape(n, -1)).ravel()
        sums = np.bincount(key, weights=(v * m).ravel(), minlength=n * 256)
        counts = np.bincount(key, weights=m.ravel().astype(np.float64), minlength=n * 256)
        means = (sums / np.maximum(counts, 1.0))[key].reshape(n, -1)
        res.append(v - means)
        cores.append(m)
    shared = cores[0] & cores[1]
    cnt = shared.sum(axis=1)
    safe = np.maximum(cnt, 1)
    rq = np.where(shared, res[0], 0.0)
    diff = np.where(shared, res[0] - res[1], 0.0)
    rms = np.sqrt((diff**2).sum(axis=1) / safe)
    mean_q = rq.sum(axis=1) / safe
    std_q = np.sqrt(np.maximum((rq**2).sum(axis=1) / safe - mean_q**2, 0.0))
    tiles = (cnt >= REGION_MIN_CORE) & (std_q >= REP_MIN_STD) & (rms <= REP_DUP_RATIO * std_q)
    return np.asarray(~tiles)


def repetition_counts(
    img: np.ndarray, lines: np.ndarray | None = None, regions: np.ndarray | None = None
) -> RepetitionCounts:
    """Repetition queries of one image at half resolution.

    ``lines`` (the layout's ink) excuses repeated line structure; ``regions`` (a label map of the
    image's size: the layout's region map, or a board's own labels) excuses duplicates that a
    region border explains (see the module doc).
    """
    return _repetition(img, lines, regions)[0]


def repetition_hits(
    img: np.ndarray, lines: np.ndarray | None = None, regions: np.ndarray | None = None
) -> np.ndarray:
    """Full-resolution top-left corners (N x 2, y then x) of the 16x16 query patches that count as hits.

    For looking at what the metric counts (draw them over the painting)."""
    return _repetition(img, lines, regions)[1]


def _repetition(
    img: np.ndarray, lines: np.ndarray | None, regions: np.ndarray | None
) -> tuple[RepetitionCounts, np.ndarray]:
    half = _half(luminance(img))
    h2, w2 = half.shape
    p = REP_PATCH // 2
    if h2 < 3 * p or w2 < 3 * p:
        return RepetitionCounts(0, 0, 0, 0), np.zeros((0, 2), np.int64)
    # low-frequency DCT coefficients of every p x p window (top-left anchored) as search keys;
    # the basis is orthonormal, so key distance <= true patch distance (no duplicate is missed by the bound)
    basis = _dct_basis(p)
    pairs = [(u, v) for u in range(4) for v in range(4) if u + v <= 3]
    nh, nw = h2 - p + 1, w2 - p + 1
    row_pass = {
        v: ndimage.correlate1d(half, basis[v], axis=1, mode="constant")[:, p // 2 : p // 2 + nw]
        for v in range(4)
    }
    keys = np.empty((nh, nw, len(pairs)), np.float32)
    for i, (u, v) in enumerate(pairs):
        keys[..., i] = ndimage.correlate1d(row_pass[v], basis[u], axis=0, mode="constant")[
            p // 2 : p // 2 + nh
        ]
    step = max(1, int(np.sqrt(nh * nw / REP_QUERIES)))
    ys, xs = np.arange(step // 2, nh, step), np.arange(step // 2, nw, step)
    qy, qx = (a.ravel() for a in np.meshgrid(ys, xs, indexing="ij"))
    windows = np.lib.stride_tricks.sliding_window_view(half, (p, p))
    qpatch = windows[qy, qx].reshape(len(qy), -1)
    qstd = qpatch.std(axis=1)
    textured = qstd >= REP_MIN_STD
    if not textured.any():
        return RepetitionCounts(0, 0, 0, len(qy)), np.zeros((0, 2), np.int64)
    tree = cKDTree(keys.reshape(-1, len(pairs)))
    tq = np.flatnonzero(textured)
    radius = REP_DUP_RATIO * qstd[tq] * p  # L2 over p*p pixels of an RMS bound
    k = min(REP_NEIGHBOURS, nh * nw)
    dist = np.empty((len(tq), k))
    idx = np.empty((len(tq), k), np.int64)
    # query in chunks of similar radius: one wide bound for all would make every query slow
    order = np.argsort(radius)
    for chunk in np.array_split(order, max(1, len(order) // 128)):
        d, j = tree.query(
            keys[qy[tq[chunk]], qx[tq[chunk]]], k=k, distance_upper_bound=float(radius[chunk].max())
        )
        dist[chunk] = d.reshape(len(chunk), k)
        idx[chunk] = j.reshape(len(chunk), k)
    valid = np.isfinite(dist) & (dist <= radius[:, None])
    cy, cx = np.divmod(np.where(valid, idx, 0), nw)
    far = (np.maximum(np.abs(cy - qy[tq, None]), np.abs(cx - qx[tq, None])) >= p) & valid
    rows, cols = np.nonzero(far)  # verify every surviving pair on the full patch, at once
    if not len(rows):
        return RepetitionCounts(0, 0, len(tq), len(qy)), np.zeros((0, 2), np.int64)
    cand = windows[cy[rows, cols], cx[rows, cols]].reshape(len(rows), -1)
    rms = np.sqrt(np.mean((cand - qpatch[tq[rows]]) ** 2, axis=1))
    dup = rms <= REP_DUP_RATIO * qstd[tq[rows]]
    rows, cols = rows[dup], cols[dup]
    dup_queries = np.unique(rows)
    if lines is not None and len(rows):
        excused = _excused(lines, (qy[tq[rows]], qx[tq[rows]]), (cy[rows, cols], cx[rows, cols]), p)
        rows, cols = rows[~excused], cols[~excused]
    ink_hits = len(np.unique(rows))
    if regions is not None and len(rows):
        q_pos, c_pos = (qy[tq[rows]], qx[tq[rows]]), (cy[rows, cols], cx[rows, cols])
        excused = _labels_agree(regions, q_pos, c_pos, p)
        if excused.any():
            sel = np.flatnonzero(excused)
            excused[sel] = _texture_differs(
                half, regions, (q_pos[0][sel], q_pos[1][sel]), (c_pos[0][sel], c_pos[1][sel]), p
            )
        rows = rows[~excused]
    hit_queries = np.unique(rows)
    counts = RepetitionCounts(
        hits=len(hit_queries),
        excused=len(dup_queries) - len(hit_queries),
        textured=len(tq),
        total=len(qy),
        excused_by_regions=ink_hits - len(hit_queries),
    )
    return counts, 2 * np.stack([qy[tq[hit_queries]], qx[tq[hit_queries]]], axis=1)


def repetition_rate(
    img: np.ndarray, lines: np.ndarray | None = None, regions: np.ndarray | None = None
) -> float:
    """Share of 16x16 patches (on a grid) with a near-duplicate at least a patch away (see module doc)."""
    for what, a in (("layout lines", lines), ("region map", regions)):
        if a is not None and a.shape != img.shape[:2]:
            raise InputError(
                f"{what} is {a.shape[1]}x{a.shape[0]} but the image is "
                f"{img.shape[1]}x{img.shape[0]}; score the painting at its layout's size"
            )
    return repetition_counts(img, lines, regions).rate

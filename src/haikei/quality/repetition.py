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

__all__ = ["RepetitionCounts", "repetition_counts", "repetition_rate"]

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


@dataclass(frozen=True)
class RepetitionCounts:
    """Counts of one image's repetition queries."""

    hits: int  # queries with a near-duplicate far away that the layout does not excuse
    excused: int  # queries whose every far duplicate is repeated structure of the layout
    textured: int  # queries textured enough to be judged
    total: int  # all queries (the denominator)

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


def repetition_counts(img: np.ndarray, lines: np.ndarray | None = None) -> RepetitionCounts:
    """Repetition queries of one image at half resolution; ``lines`` (the layout) excuses repeated structure."""
    half = _half(luminance(img))
    h2, w2 = half.shape
    p = REP_PATCH // 2
    if h2 < 3 * p or w2 < 3 * p:
        return RepetitionCounts(0, 0, 0, 0)
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
        return RepetitionCounts(0, 0, 0, len(qy))
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
        return RepetitionCounts(0, 0, len(tq), len(qy))
    cand = windows[cy[rows, cols], cx[rows, cols]].reshape(len(rows), -1)
    rms = np.sqrt(np.mean((cand - qpatch[tq[rows]]) ** 2, axis=1))
    dup = rms <= REP_DUP_RATIO * qstd[tq[rows]]
    rows, cols = rows[dup], cols[dup]
    dup_queries = np.unique(rows)
    if lines is not None and len(rows):
        excused = _excused(lines, (qy[tq[rows]], qx[tq[rows]]), (cy[rows, cols], cx[rows, cols]), p)
        rows = rows[~excused]
    hit_queries = np.unique(rows)
    return RepetitionCounts(
        hits=len(hit_queries),
        excused=len(dup_queries) - len(hit_queries),
        textured=len(tq),
        total=len(qy),
    )


def repetition_rate(img: np.ndarray, lines: np.ndarray | None = None) -> float:
    """Share of 16x16 patches (on a grid) with a near-duplicate at least a patch away (see module doc)."""
    if lines is not None and lines.shape != img.shape[:2]:
        raise InputError(
            f"layout lines are {lines.shape[1]}x{lines.shape[0]} but the image is "
            f"{img.shape[1]}x{img.shape[0]}; score the painting at its layout's size"
        )
    return repetition_counts(img, lines).rate

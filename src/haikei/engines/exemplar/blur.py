"""A Gaussian blur for float32 images, bit for bit scipy's ``ndimage.gaussian_filter``, faster
(rows over contiguous memory, compiled); used by the grain, the brushwork and the seam blend's
low-passes (:func:`normalised_blur`)."""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["gaussian_blur", "normalised_blur"]


def gaussian_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of a float32 image, the same values as ``ndimage.gaussian_filter(a, sigma)``
    (radius 4 sigma, mirrored edges, rows then columns, float64 sums, float32 between the passes)."""
    r = int(4.0 * sigma + 0.5)
    x = np.arange(-r, r + 1)
    phi = np.exp(-0.5 / (sigma * sigma) * x**2)
    phi = phi / phi.sum()
    # rows pass, then the columns pass as a rows pass over the transpose (the same sums, in the same
    # order, but over contiguous memory)
    cols = _blur_rows(np.ascontiguousarray(_blur_rows(a, phi[r:]).T), phi[r:])
    return np.ascontiguousarray(cols.T)


def normalised_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """``blur(values) / blur(weight)`` per channel: ``values`` (H x W x C, float32) are already
    weighted by ``weight`` (H x W, float32: 1 inside, 0 outside, or counts), so what lies outside
    (the pads between boards, unlabelled pixels) neither darkens nor leaks into the result."""
    norm = np.maximum(gaussian_blur(np.ascontiguousarray(weight, np.float32), sigma), np.float32(1e-4))
    out = np.empty(values.shape, np.float32)
    for c in range(values.shape[2]):
        out[..., c] = gaussian_blur(np.ascontiguousarray(values[..., c], np.float32), sigma) / norm
    return out


@njit(cache=True)
def _mirror(i: int, n: int) -> int:  # pragma: no cover - compiled
    """Index ``i`` mirrored into 0..n-1 (d c b a | a b c d | d c b a)."""
    i = i % (2 * n)
    return 2 * n - 1 - i if i >= n else i


@njit(cache=True)
def _blur_rows(a: np.ndarray, w: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Along axis 0: out = a * w[0] + sum over k = r .. 1 of (a[-k] + a[+k]) * w[k], in that order;
    every output row is summed for the whole row at once."""
    h, wd = a.shape
    r = len(w) - 1
    out = np.empty((h, wd), np.float32)
    acc = np.empty(wd, np.float64)
    for y in range(h):
        for x in range(wd):
            acc[x] = np.float64(a[y, x]) * w[0]
        for k in range(r, 0, -1):
            y0, y1 = _mirror(y - k, h), _mirror(y + k, h)
            for x in range(wd):
                acc[x] += (np.float64(a[y0, x]) + np.float64(a[y1, x])) * w[k]
        for x in range(wd):
            out[y, x] = np.float32(acc[x])
    return out

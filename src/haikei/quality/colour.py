"""Small colour and gradient helpers shared by the metrics and the baseline engine."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["luminance", "rgb_to_lab", "sobel_magnitude"]

# sRGB (D65) -> XYZ, IEC 61966-2-1
_RGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=np.float32,
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883], dtype=np.float32)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """``uint8`` (...x3) sRGB -> ``float32`` CIE Lab (L in 0..100)."""
    c = rgb.astype(np.float32) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = lin @ _RGB_TO_XYZ.T / _WHITE_D65
    eps = 216.0 / 24389.0
    kappa = 24389.0 / 27.0
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16.0) / 116.0)
    lab = np.empty_like(f)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab.astype(np.float32, copy=False)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """``uint8`` HxWx3 -> ``float32`` HxW Rec.601 luma in 0..255 (cheap; for texture statistics)."""
    f = rgb.astype(np.float32)
    return np.asarray(0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2], dtype=np.float32)


def sobel_magnitude(channel: np.ndarray, sigma: float = 0.0) -> np.ndarray:
    """Gradient magnitude per pixel (units of the channel per pixel), optionally Gaussian-smoothed first."""
    x = channel.astype(np.float32, copy=False)
    if sigma > 0:
        x = ndimage.gaussian_filter(x, sigma, mode="reflect")
    gx = ndimage.sobel(x, axis=1, mode="reflect") / 8.0
    gy = ndimage.sobel(x, axis=0, mode="reflect") / 8.0
    return np.hypot(gx, gy).astype(np.float32, copy=False)

"""Guide channels and image pyramids for the exemplar painter (numpy / scipy only).

Guides say *where* a pixel is, so that the search copies paint from a comparable place on a
board:

- **position** (2 channels): normalised (y, x) inside the pixel's region. On the layout the
  region is the connected area; on a board it is the class's extent. Low-frequency noise is
  added on the layout side so that large regions do not map onto the board row by row (clouds
  in one line) and repeated areas do not tile;
- **line side** (1 channel): proximity to the nearest layout line, signed by the side of the
  line (+ on the side facing the light, - on the shadow side). On a board the "lines" are its
  strong luminance edges plus the label borders, and the sign is + on the brighter side. A line
  in the layout therefore pulls lit paint on one side and shade on the other;
- **line orientation** (2 channels): (cos 2θ, sin 2θ) of the line direction, times proximity.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = [
    "clean_labels",
    "colour_features",
    "downsample_mean",
    "line_guides",
    "position_guides",
    "smooth_noise",
]


def colour_features(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 (luma, red-green, yellow-blue) in roughly [-1, 1]."""
    f = rgb.astype(np.float32) * (1.0 / 255.0)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    out = np.empty(f.shape, np.float32)
    out[..., 0] = 0.299 * r + 0.587 * g + 0.114 * b
    out[..., 1] = 0.5 * (r - g)
    out[..., 2] = 0.25 * (r + g) - 0.5 * b
    return out


def features_to_rgb(feat: np.ndarray) -> np.ndarray:
    """Inverse of :func:`colour_features` (float32 RGB in [0, 1], not clipped)."""
    y, c1, c2 = feat[..., 0], feat[..., 1], feat[..., 2]
    # solve the 3x3 linear system once
    m = np.array([[0.299, 0.587, 0.114], [0.5, -0.5, 0.0], [0.25, 0.25, -0.5]], np.float64)
    inv = np.linalg.inv(m).astype(np.float32)
    return np.stack([inv[i, 0] * y + inv[i, 1] * c1 + inv[i, 2] * c2 for i in range(3)], axis=-1)


def downsample_mean(a: np.ndarray) -> np.ndarray:
    """Halve the first two axes by 2x2 means; odd sizes keep their last row/column (ceil)."""
    h, w = a.shape[:2]
    ph, pw = h % 2, w % 2
    if ph or pw:
        pad = [(0, ph), (0, pw)] + [(0, 0)] * (a.ndim - 2)
        a = np.pad(a, pad, mode="edge")
    a = np.asarray(a, dtype=np.float32)
    # four strided views summed: a reduction over two axes of a reshape was 4x slower
    return np.ascontiguousarray(
        ((a[0::2, 0::2] + a[0::2, 1::2]) + (a[1::2, 0::2] + a[1::2, 1::2])) * np.float32(0.25)
    )


def _cubic_weights(n_out: int, n_in: int, start: float, stop: float) -> np.ndarray:
    """(n_out, n_in) weights of a cubic-convolution enlargement (Keys, a = -0.5) of an axis of ``n_in``
    samples whose span ``start``..``stop`` (sample coordinates, pixel edges) is stretched over ``n_out``."""
    s = start + (np.arange(n_out) + 0.5) * ((stop - start) / n_out) - 0.5
    i0 = np.floor(s).astype(np.int64)
    t = s - i0
    weights = np.zeros((n_out, n_in), np.float64)
    rows = np.arange(n_out)
    for k in range(-1, 3):
        d = np.abs(t - k)
        wk = np.where(d <= 1.0, (1.5 * d - 2.5) * d * d + 1.0, ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0)
        np.add.at(weights, (rows, np.clip(i0 + k, 0, n_in - 1)), wk)
    return weights


def smooth_noise(h: int, w: int, rng: np.random.Generator, cell: float) -> np.ndarray:
    """Deterministic low-frequency noise in about [-1, 1] with features ``cell`` pixels apart."""
    gh = max(2, int(np.ceil(h / cell)) + 2)
    gw = max(2, int(np.ceil(w / cell)) + 2)
    grid = rng.uniform(-1.0, 1.0, (gh, gw)).astype(np.float32)
    # bicubic enlargement of the random grid, cropped so that the grid's border cells are not used;
    # separable, as two small matrix products (an image resize of the grid cost ~30 ms at 1080p)
    wy = _cubic_weights(h, gh, 0.5, gh - 1.5).astype(np.float32)
    wx = _cubic_weights(w, gw, 0.5, gw - 1.5).astype(np.float32)
    return np.clip((wy @ grid) @ wx.T, -1.0, 1.0).astype(np.float32, copy=False)


def position_guides(
    labels: np.ndarray,
    *,
    per_component: bool,
    noise: tuple[np.ndarray, np.ndarray] | None = None,
    noise_amount: float = 0.0,
) -> np.ndarray:
    """Normalised (y, x) of each pixel inside its region (component or whole class), float32 HxWx2.

    Each coordinate is the mean of two readings: across the region's bounding box (0..1), and across
    its mass (0.5 + offset from the mean / (sqrt(12) x spread): a uniform span reads 0..1 exactly, as
    by its box). By the box alone a thin tail of a class stretched the whole class: sky reaching down
    a valley between two peaks on a board made the layout's horizon band copy only that deepest,
    atypical dip of sky (pale, beside snow), read as far mountain. By the mass alone a tail falls far
    outside 0..1 and the copy breaks up (line F1 on lake .83 -> .80)."""
    h, w = labels.shape
    out = np.zeros((h, w, 2), np.float32)
    span = np.float64(np.sqrt(12.0))  # a uniform spread over s pixels has standard deviation s / sqrt(12)
    # each class is worked inside its bounding box: the cost follows the class's extent, not the frame
    class_boxes = ndimage.find_objects(labels.astype(np.int32) + 1)
    for cls in np.unique(labels):
        if cls == 255 or class_boxes[int(cls)] is None:
            continue
        cb = class_boxes[int(cls)]
        m = labels[cb] == cls
        if per_component:
            comp, n = ndimage.label(m)
        else:
            comp, n = m.astype(np.int32), 1
        # each component's box (first and last row / column) and its mass (mean and spread) per axis
        boxes = (
            ndimage.find_objects(comp) if per_component else [(slice(0, m.shape[0]), slice(0, m.shape[1]))]
        )
        lo = np.zeros((2, n + 1), np.float32)
        size = np.ones((2, n + 1), np.float32)
        for i, box in enumerate(boxes, start=1):
            if box is not None:
                for axis in (0, 1):
                    lo[axis, i] = box[axis].start
                    size[axis, i] = max(box[axis].stop - 1 - box[axis].start, 1)
        yy, xx = np.nonzero(m)
        c = comp[yy, xx]
        count = np.maximum(np.bincount(c, minlength=n + 1), 1).astype(np.float64)
        sub = out[cb]
        for axis, pos in enumerate((yy, xx)):
            mean = np.bincount(c, pos, n + 1) / count
            spread = np.sqrt(
                np.maximum(np.bincount(c, pos.astype(np.float64) ** 2, n + 1) / count - mean**2, 0.0)
            )
            # half the box reading plus half the mass reading, as one scale and offset per component
            a = 0.5 / size[axis] + 0.5 / np.maximum(spread * span, 1.0).astype(np.float32)
            b = (
                -0.5 * lo[axis] / size[axis]
                + 0.25
                - (0.5 * mean / np.maximum(spread * span, 1.0)).astype(np.float32)
            )
            sub[yy, xx, axis] = a[c] * pos.astype(np.float32) + b[c]
    if noise is not None and noise_amount > 0:
        out[..., 0] += noise_amount * noise[0]
        out[..., 1] += noise_amount * noise[1]
    return out


def label_borders(labels: np.ndarray) -> np.ndarray:
    """True on pixels whose right or lower neighbour has another label."""
    b = np.zeros(labels.shape, bool)
    b[:-1] |= labels[:-1] != labels[1:]
    b[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    return b


def line_guides(
    line_mask: np.ndarray,
    *,
    tau: float,
    light: tuple[float, float] | None = None,
    luminance: np.ndarray | None = None,
) -> np.ndarray:
    """(signed proximity, proximity*cos2θ, proximity*sin2θ) to the strokes in ``line_mask``.

    The sign comes from ``light`` (dy, dx towards the light; for layouts) or from ``luminance``
    (brighter than the stroke = +; for boards). Exactly one of them must be given.
    """
    h, w = line_mask.shape
    out = np.zeros((h, w, 3), np.float32)
    if not line_mask.any():
        return out
    dist, (iy, ix) = ndimage.distance_transform_edt(~line_mask, return_indices=True)
    prox = np.exp(-np.maximum(dist - 0.5, 0.0) / tau).astype(np.float32)
    if light is not None:
        vy = np.arange(h, dtype=np.float32)[:, None] - iy
        vx = np.arange(w, dtype=np.float32)[None, :] - ix
        side = np.sign(vy * light[0] + vx * light[1])
    else:
        assert luminance is not None
        lum = ndimage.uniform_filter(luminance, 3)
        side = np.sign(lum - lum[iy, ix])
    out[..., 0] = prox * side
    # orientation from the structure tensor of the blurred stroke map
    soft = ndimage.gaussian_filter(line_mask.astype(np.float32), 1.0)
    gy = ndimage.sobel(soft, 0)
    gx = ndimage.sobel(soft, 1)
    jxx = ndimage.gaussian_filter(gx * gx, 2.0)
    jyy = ndimage.gaussian_filter(gy * gy, 2.0)
    jxy = ndimage.gaussian_filter(gx * gy, 2.0)
    a = jxx - jyy
    b = 2.0 * jxy
    n = np.sqrt(a * a + b * b) + 1e-12
    # read the orientation at the nearest stroke pixel so it holds across the whole neighbourhood
    out[..., 1] = prox * (a / n)[iy, ix]
    out[..., 2] = prox * (b / n)[iy, ix]
    return out


def board_edges(luma: np.ndarray, labels: np.ndarray, quantile: float) -> np.ndarray:
    """The board's "lines": its strongest luminance edges plus its label borders."""
    g = ndimage.gaussian_filter(luma, 1.0)
    mag = np.hypot(ndimage.sobel(g, 0), ndimage.sobel(g, 1))
    thr = float(np.quantile(mag, quantile)) if mag.size else 0.0
    edges = mag > max(thr, 1e-3)
    # thin to the ridge: keep pixels that are local maxima of magnitude in a 3x3 window
    edges &= mag >= ndimage.maximum_filter(mag, 3) * 0.999
    return edges | label_borders(labels)


def clean_labels(rgb: np.ndarray, labels: np.ndarray, erode: int, max_reject: float = 0.35) -> np.ndarray:
    """Board labels fit to copy from: borders eroded, colours that belong to a neighbour dropped (255).

    Hand-made label maps are generous: a tree crown's label covers the sky between its leaves, a
    mountain's label runs a pixel into the sky. Such pixels would paint sky into a crown. A pixel is
    dropped when it lies within ``erode`` pixels of another label, or when its colour is nearer the
    typical colour (median) of a class touching its class than to its own class's and far from its
    own (clearly nearer, and beyond the class's 90th percentile distance). A class never loses more than ``max_reject``
    of its pixels to the colour test (labels whose classes really share colours stay as they were).
    """
    out = labels.copy()
    feats = colour_features(rgb)
    classes = [int(c) for c in np.unique(labels) if c != 255]
    if erode > 0:
        border = ndimage.binary_dilation(label_borders(labels), iterations=erode)
        border |= np.roll(border, 1, axis=0) | np.roll(border, 1, axis=1)
        keep_any = {c: bool(((labels == c) & ~border).sum() >= 16) for c in classes}
        for c in classes:
            if keep_any[c]:
                out[(labels == c) & border] = 255
    step = max(1, int(np.sqrt(labels.size / 200_000)))
    sub_l, sub_f = labels[::step, ::step], feats[::step, ::step]
    med = {c: np.median(sub_f[sub_l == c], axis=0) for c in classes if (sub_l == c).sum() >= 16}
    touch = label_borders(labels)
    for c in med:
        m = out == c
        if not m.any():
            continue
        near = ndimage.binary_dilation(labels == c, iterations=2) & touch & (labels != c) & (labels != 255)
        others = [int(d) for d in np.unique(labels[near]) if int(d) in med and int(d) != c]
        if not others:
            continue
        f = feats[m]
        own = np.linalg.norm(f - med[c], axis=1)
        far = own > np.quantile(own, 0.9)
        closer = np.zeros(len(f), bool)
        for d in others:
            closer |= np.linalg.norm(f - med[d], axis=1) < 0.7 * own
        drop = far & closer
        if drop.mean() <= max_reject:
            idx = np.flatnonzero(m)
            out.ravel()[idx[drop]] = 255
    return out

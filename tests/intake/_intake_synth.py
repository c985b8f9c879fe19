"""Synthetic layout sheets for the intake tests: ground-truth lines, then a simulated paper scan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage


@dataclass(frozen=True)
class Sheet:
    truth: np.ndarray  # bool HxW, True = ink, unrotated sheet coordinates
    inner_box: tuple[int, int, int, int]  # inside of the frame line, end-exclusive
    frame_width: int


def draw_sheet(w: int = 1000, h: int = 720, line: int = 3, frame_width: int = 4) -> Sheet:
    """A layout sheet: drawn frame, a landscape inside it, lines and notes running outside it."""
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    fx0, fy0, fx1, fy1 = int(w * 0.1), int(h * 0.12), int(w * 0.9), int(h * 0.86)
    d.rectangle((fx0, fy0, fx1, fy1), outline=0, width=frame_width)
    fw, fh = fx1 - fx0, fy1 - fy0
    X = lambda f: int(fx0 + f * fw)  # noqa: E731
    Y = lambda f: int(fy0 + f * fh)  # noqa: E731
    # horizon running past the frame into the margin on both sides
    d.line((fx0 - 60, Y(0.55), fx1 + 60, Y(0.55)), fill=0, width=line)
    # mountains
    d.line(
        [(X(0.0), Y(0.45)), (X(0.15), Y(0.2)), (X(0.3), Y(0.4)), (X(0.45), Y(0.15)), (X(0.62), Y(0.55))],
        fill=0,
        width=line,
    )
    # a house: walls, roof, door
    d.rectangle((X(0.65), Y(0.35), X(0.85), Y(0.7)), outline=0, width=line)
    d.line([(X(0.63), Y(0.37)), (X(0.75), Y(0.22)), (X(0.87), Y(0.37))], fill=0, width=line)
    d.rectangle((X(0.72), Y(0.52), X(0.78), Y(0.7)), outline=0, width=line)
    # road in perspective and a sun
    d.line((X(0.3), Y(1.0), X(0.47), Y(0.55)), fill=0, width=line)
    d.line((X(0.6), Y(1.0), X(0.5), Y(0.55)), fill=0, width=line)
    d.ellipse((X(0.05), Y(0.05), X(0.12), Y(0.14)), outline=0, width=line)
    # notes outside the frame (cut number, PAN arrow)
    d.text((fx0, fy0 - 40), "C012  BG-12  PAN ->", fill=0)
    d.line((fx1 - 200, fy1 + 40, fx1 - 20, fy1 + 40), fill=0, width=line)
    truth = np.asarray(img) < 128
    return Sheet(
        truth,
        (fx0 + frame_width, fy0 + frame_width, fx1 - frame_width + 1, fy1 - frame_width + 1),
        frame_width,
    )


def simulate_scan(
    truth: np.ndarray,
    angle_deg: float = 1.2,
    seed: int = 0,
    noise: float = 5.0,
    pencil_grey: float = 70.0,
    pressure: float = 0.0,
) -> np.ndarray:
    """Pencil on grey paper: soft graphite, paper grain, uneven light, dust, the sheet rotated on the bed.

    ``pressure`` in 0..1: how much the pencil pressure fades along the strokes (0.6 = down to 40 %).
    """
    rng = np.random.default_rng(seed)
    h, w = truth.shape
    cover = ndimage.gaussian_filter(truth.astype(np.float32), 0.9)
    cover = np.clip(cover * 1.6, 0, 1) * rng.uniform(0.75, 1.0, size=truth.shape).astype(np.float32)
    if pressure:
        wave = ndimage.gaussian_filter(rng.normal(0, 1, size=(h, w)).astype(np.float32), 25.0)
        wave = (wave - wave.min()) / max(float(np.ptp(wave)), 1e-6)
        cover *= 1.0 - pressure * wave
    if angle_deg:
        cover = ndimage.rotate(cover, angle_deg, reshape=False, order=1, mode="constant", cval=0.0)
    grain = ndimage.gaussian_filter(rng.normal(0, 1, size=(h, w)).astype(np.float32), 2.0) * 6.0
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 0.72 + 0.28 * (xx / w) * (0.85 + 0.15 * yy / h)  # one side of the lid lifted
    paper = (228.0 + grain) * light
    pencil = pencil_grey * light
    img = paper * (1 - cover) + pencil * cover + rng.normal(0, noise, size=(h, w)).astype(np.float32)
    # dust: a few hundred tiny dark specks
    n = 300
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    img[ys, xs] = rng.uniform(40, 120, n)
    return np.clip(img, 0, 255).astype(np.uint8)


def f1_within(
    pred: np.ndarray, truth: np.ndarray, box: tuple[int, int, int, int] | None = None, tol: float = 2.0
) -> tuple[float, float, float]:
    """Precision, recall and F1 of ink pixels, each matched within ``tol`` px of the other set.

    Distances are measured on the whole arrays; only pixels inside ``box`` (x0, y0, x1, y1) count.
    """
    inside = np.zeros(truth.shape, bool)
    x0, y0, x1, y1 = box if box is not None else (0, 0, truth.shape[1], truth.shape[0])
    inside[y0:y1, x0:x1] = True
    if not (pred & inside).any() or not (truth & inside).any():
        return 0.0, 0.0, 0.0
    d_truth = ndimage.distance_transform_edt(~truth)
    d_pred = ndimage.distance_transform_edt(~pred)
    p = float((d_truth[pred & inside] <= tol).mean())
    r = float((d_pred[truth & inside] <= tol).mean())
    return p, r, 2 * p * r / max(p + r, 1e-9)

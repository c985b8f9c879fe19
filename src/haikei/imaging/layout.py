"""Clean-up of scanned paper layouts: paper/ink, threshold, despeckle, deskew, frame crop.

A scanned layout (レイアウト用紙) is grey paper with pencil lines, uneven lighting, dust and a few
degrees of skew, and a drawn camera frame (the rectangle the shot sees) with drawing and notes
around it. :func:`clean_scan` turns it into clean binary lines (0 = ink, 255 = paper) cropped to
the inside of the frame, and reports every decision it made so the intake can show them.

Method (all steps measured on the image, sizes scaled to it):

0. scanner bed: dark slabs wider than any stroke that touch the image edge are painted as paper
   and ink along their seam is dropped;
1. paper illumination: block-mean downsample, grey closing (removes strokes narrower than
   ~1/50 of the short side), smoothing, upsample; the scan is divided by it (flat-field);
2. threshold: Otsu on the flattened image, with hysteresis (pixels up to a third of the way to
   paper are kept when they touch a sure ink pixel), so faint pencil stays joined;
3. skew: the angle that makes ink project most sharply onto rows and columns (the frame's long
   edges dominate), searched over +-8 deg coarse-to-fine; above 0.2 deg the flattened scan is
   rotated back about its centre (same size) and thresholded again;
4. despeckle: ink specks smaller than ``speck_px`` are removed;
5. frame: long horizontal / vertical stroke bands (1-D openings), paired into rectangles whose
   four edges are >= 85 % inked; the largest wins; the crop starts just inside its line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from haikei.errors import ImageError

__all__ = ["MAX_SKEW_DEG", "CleanedLayout", "clean_scan", "is_scan"]

MAX_SKEW_DEG = 8.0
DESKEW_MIN_DEG = 0.2
_EDGE_COVERAGE = 0.85
_PAPER = 200.0  # flattened paper level


@dataclass(frozen=True)
class CleanedLayout:
    """The cleaned lines and what was done to get them.

    ``lines``: uint8 HxW, 0 = ink, 255 = paper, cropped to the inside of the frame when one was
    found. ``sheet``: the same cleaning over the whole (deskewed) sheet. ``crop_box`` is
    ``(x0, y0, x1, y1)``, end-exclusive, in the coordinates of the deskewed sheet (same size as
    the input, rotated about its centre). ``angle_deg`` is the measured skew, counter-clockwise
    positive as seen on screen; it was undone only when ``deskewed``.
    """

    lines: np.ndarray
    sheet: np.ndarray
    threshold: float
    paper_level: float
    ink_level: float
    angle_deg: float
    deskewed: bool
    crop_box: tuple[int, int, int, int] | None
    frame_thickness: int
    specks_removed: int
    bed_px: int = 0

    @property
    def frame_found(self) -> bool:
        return self.crop_box is not None

    def report(self) -> list[str]:
        """What was done, one line per step, for the intake's log."""
        out = [
            f"paper {self.paper_level:.0f}, ink {self.ink_level:.0f}, threshold {self.threshold:.0f} (flattened scale)",
            f"skew {self.angle_deg:+.2f} deg " + ("corrected" if self.deskewed else "left (below 0.2 deg)"),
            f"{self.specks_removed} specks removed"
            + (f", {self.bed_px} px of scanner bed around the sheet masked" if self.bed_px else ""),
        ]
        if self.crop_box is None:
            out.append("no frame found: whole sheet kept")
        else:
            x0, y0, x1, y1 = self.crop_box
            out.append(f"frame line {self.frame_thickness} px; cropped to x={x0}..{x1}, y={y0}..{y1}")
        return out


def _check_gray(gray: np.ndarray, name: str) -> None:
    if not isinstance(gray, np.ndarray) or gray.dtype != np.uint8 or gray.ndim != 2:
        got = f"{gray.dtype} {gray.shape}" if isinstance(gray, np.ndarray) else type(gray).__name__
        raise ImageError(name, f"a scan must be a 2-D uint8 grey image, got {got}", "load it with load_gray")
    if min(gray.shape) < 64:
        raise ImageError(
            name,
            f"{gray.shape[1]}x{gray.shape[0]} is too small for a scanned layout",
            "scan at 150 dpi or more",
        )


def _paper_background(gray: np.ndarray) -> np.ndarray:
    """Smooth paper illumination (float32, same shape): dark strokes closed away, then blurred."""
    h, w = gray.shape
    f = max(1, min(h, w) // 256)
    hs, ws = h // f, w // f
    small = gray[: hs * f, : ws * f].reshape(hs, f, ws, f).mean(axis=(1, 3), dtype=np.float32)
    k = max(5, round(min(hs, ws) / 50)) | 1  # strokes up to ~1/50 of the short side
    small = ndimage.grey_closing(small, size=(k, k), mode="nearest")
    small = ndimage.uniform_filter(small, size=k, mode="nearest")
    bg = np.asarray(Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BILINEAR), np.float32)
    return np.maximum(bg, 1.0)


def _scanner_bed(gray: np.ndarray) -> np.ndarray:
    """Dark slabs touching the image edge (the scanner bed or lid around a smaller sheet).

    Dark = under half the median grey (an open lid is near black; unevenly lit paper is not);
    slab = survives an opening wider than any pencil stroke (1/50 of the short side); only
    slabs that touch the image border count.
    """
    h, w = gray.shape
    dark = (gray < 0.5 * float(np.median(gray))).astype(np.uint8)
    k = max(9, min(h, w) // 50)
    opened = dark
    for axis in (0, 1):
        opened = ndimage.minimum_filter1d(opened, k, axis=axis)
    for axis in (0, 1):
        opened = ndimage.maximum_filter1d(opened, k, axis=axis)
    labels, n = ndimage.label(opened.astype(bool))
    if n == 0:
        return np.zeros_like(dark, dtype=bool)
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    keep = np.zeros(n + 1, bool)
    keep[edge] = True
    keep[0] = False
    return keep[labels]


def _otsu(values: np.ndarray) -> float:
    hist = np.bincount(values.ravel(), minlength=256).astype(np.float64)
    p = hist / hist.sum()
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    between = (mu[-1] * omega - mu) ** 2 / np.maximum(omega * (1.0 - omega), 1e-12)
    return float(np.argmax(between))


def _threshold(flat: np.ndarray, t: float, t_weak: float) -> np.ndarray:
    """Ink mask with hysteresis: weak ink survives only when connected to strong ink."""
    strong = flat <= t
    weak = flat <= t_weak
    labels, n = ndimage.label(weak, structure=np.ones((3, 3), bool))
    if n == 0:
        return strong
    keep = np.zeros(n + 1, bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    return keep[labels]


def _skew_angle(ink: np.ndarray) -> float:
    """Degrees (counter-clockwise on screen) by which the sheet's straight lines are rotated."""
    ys, xs = np.nonzero(ink)
    if len(ys) < 50:
        return 0.0
    step = max(1, len(ys) // 80_000)
    y = ys[::step].astype(np.float32)
    x = xs[::step].astype(np.float32)
    shift = np.float32(ink.shape[0] + ink.shape[1])  # keeps projections positive: floor == truncation

    def score(deg: float) -> float:
        t = math.radians(deg)
        c, s = math.cos(t), math.sin(t)
        u = (y * c + x * s + shift).astype(np.int32)  # row of each point once the sheet is rotated back
        v = (x * c - y * s + shift).astype(np.int32)
        hu = np.bincount(u).astype(np.float64)
        hv = np.bincount(v).astype(np.float64)
        return float(np.dot(hu, hu) + np.dot(hv, hv))

    coarse = np.arange(-MAX_SKEW_DEG, MAX_SKEW_DEG + 1e-9, 0.25)
    best = float(coarse[np.argmax([score(a) for a in coarse])])
    fine = np.arange(best - 0.3, best + 0.3 + 1e-9, 0.02)
    return float(fine[np.argmax([score(a) for a in fine])])


def _despeckle(ink: np.ndarray, speck_px: int) -> tuple[np.ndarray, int]:
    labels, n = ndimage.label(ink, structure=np.ones((3, 3), bool))
    if n == 0:
        return ink, 0
    sizes = np.bincount(labels.ravel())
    small = sizes < speck_px
    small[0] = False
    return ink & ~small[labels], int(small.sum())


@dataclass(frozen=True)
class _Band:
    centre: int
    lo: int  # first inked row/column of the line
    hi: int  # last inked row/column of the line
    hit: np.ndarray  # along the other axis: is there ink on this line here?


def _bands(ink: np.ndarray, axis: int, tol: int, max_thick: int) -> list[_Band]:
    """Horizontal (axis=0: rows) or vertical (axis=1: columns) long thin lines."""
    img = ink if axis == 0 else ink.T
    w = img.shape[1]
    run = max(15, w // 40)
    u8 = img.astype(np.uint8)
    opened = ndimage.maximum_filter1d(ndimage.minimum_filter1d(u8, run, axis=1), run, axis=1)
    profile = opened.sum(axis=1, dtype=np.int64)
    cand = profile >= 0.25 * w
    labels, _ = ndimage.label(cand)
    out: list[_Band] = []
    for sl in ndimage.find_objects(labels):
        r0, r1 = sl[0].start, sl[0].stop
        seg = profile[r0:r1]
        peak = int(seg.max())
        rows = np.nonzero(seg >= 0.3 * peak)[0] + r0
        lo, hi = int(rows.min()), int(rows.max())
        if hi - lo + 1 > max_thick:
            continue  # a dark slab (scanner bed, filled area), not a drawn line
        hit = np.asarray(img[max(0, lo - tol) : hi + tol + 1].any(axis=0), dtype=bool)
        out.append(_Band(int(r0 + np.argmax(seg)), lo, hi, hit))
    out.sort(key=lambda b: -int(b.hit.sum()))
    return out[:12]


def _find_frame(ink: np.ndarray) -> tuple[tuple[int, int, int, int], int] | None:
    """Inner box (x0, y0, x1, y1) of the largest inked axis-aligned rectangle, and its line width."""
    h, w = ink.shape
    short = min(h, w)
    tol = max(2, short // 300)
    max_thick = max(6, short // 60)
    rows = _bands(ink, 0, tol, max_thick)
    cols = _bands(ink, 1, tol, max_thick)
    best: tuple[int, tuple[int, int, int, int], int] | None = None
    for ti, top in enumerate(rows):
        for bot in rows[ti + 1 :]:
            t, b = (top, bot) if top.centre < bot.centre else (bot, top)
            if b.centre - t.centre < 0.25 * h:
                continue
            for li, left in enumerate(cols):
                for right in cols[li + 1 :]:
                    lft, rgt = (left, right) if left.centre < right.centre else (right, left)
                    if rgt.centre - lft.centre < 0.25 * w:
                        continue
                    area = (rgt.centre - lft.centre) * (b.centre - t.centre)
                    if best is not None and area <= best[0]:
                        continue
                    xs = slice(lft.centre, rgt.centre + 1)
                    ys = slice(t.centre, b.centre + 1)
                    if (
                        min(t.hit[xs].mean(), b.hit[xs].mean(), lft.hit[ys].mean(), rgt.hit[ys].mean())
                        < _EDGE_COVERAGE
                    ):
                        continue
                    box = (lft.hi + 1, t.hi + 1, rgt.lo, b.lo)
                    thick = round(np.median([t.hi - t.lo, b.hi - b.lo, lft.hi - lft.lo, rgt.hi - rgt.lo])) + 1
                    best = (area, box, int(thick))
    if best is None:
        return None
    return best[1], best[2]


def clean_scan(
    gray: np.ndarray,
    *,
    speck_px: int | None = None,
    require_frame: bool = False,
    name: str = "<scan>",
) -> CleanedLayout:
    """Clean a scanned layout sheet (uint8 grey) into binary lines cropped inside its frame.

    ``speck_px``: ink blobs smaller than this many pixels are dust (default scales with the
    scan: 4 px at 500 px short side, ~100 px at 2480). ``require_frame``: raise
    :class:`ImageError` instead of keeping the whole sheet when no frame is found.
    """
    # 1. check inputs
    _check_gray(gray, name)
    h, w = gray.shape
    if speck_px is None:
        speck_px = max(4, round((min(h, w) / 500) ** 2 * 4))

    # 2. paint the scanner bed around a smaller sheet as paper, flatten the paper illumination
    #    (paper -> ~200, headroom kept for its noise), smooth the pixel noise away, then
    #    threshold below the paper's own noise
    bed = _scanner_bed(gray)
    bed_px = int(bed.sum())
    if bed_px:
        gray = gray.copy()
        gray[bed] = np.uint8(np.median(gray[~bed]))
    bg = _paper_background(gray)
    flat = ndimage.gaussian_filter(gray.astype(np.float32) / bg * _PAPER, max(1.0, min(h, w) / 1200))
    paper_norm = float(np.median(flat))
    sigma = max(0.5, 1.4826 * float(np.median(np.abs(flat - paper_norm))))
    t = min(_otsu(np.clip(flat, 0, 255).astype(np.uint8)), paper_norm - 6.0 * sigma)
    if t <= 0 or not (flat <= t).any():
        raise ImageError(
            name,
            "no ink found: the sheet is blank or its lines are lost in the paper's noise",
            "check the scan exposure",
        )
    t_weak = min(paper_norm - 3.0 * sigma, t + (paper_norm - t) / 2.0)
    ink = _threshold(flat, t, t_weak)
    paper_level = float(np.median(gray[~ink]))
    ink_level = float(np.median(gray[ink]))

    # 3. measure the skew; rotate the flattened scan back when it matters
    angle = _skew_angle(ink)
    deskewed = abs(angle) > DESKEW_MIN_DEG
    if deskewed:
        flat_img = Image.fromarray(flat.astype(np.float32), mode="F")
        flat_r = np.asarray(
            flat_img.rotate(-angle, Image.Resampling.BILINEAR, expand=False, fillcolor=paper_norm), np.float32
        )
        ink = _threshold(flat_r, t, t_weak)

    # 4. remove dust, and the seam where the painted-over bed meets the paper
    if bed_px:
        seam = ndimage.distance_transform_edt(~bed) <= max(9, min(h, w) // 50)
        if deskewed:
            seam_img = Image.fromarray(seam.astype(np.uint8) * 255)
            seam = np.asarray(seam_img.rotate(-angle, Image.Resampling.NEAREST, fillcolor=255)) > 0
        ink &= ~seam
    ink, specks = _despeckle(ink, speck_px)
    if ink.sum() < 1e-4 * h * w:
        raise ImageError(
            name, f"no ink found: {int(ink.sum())} ink pixels after dust removal", "check the scan exposure"
        )

    # 5. find the frame and crop inside it
    sheet = np.where(ink, 0, 255).astype(np.uint8)
    found = _find_frame(ink)
    if found is None:
        if require_frame:
            raise ImageError(
                name,
                "no drawn frame (a closed rectangle around the shot) was found",
                "scan the whole layout sheet",
            )
        return CleanedLayout(
            sheet, sheet, t, paper_level, ink_level, angle, deskewed, None, 0, specks, bed_px
        )
    (x0, y0, x1, y1), thick = found
    lines = sheet[y0:y1, x0:x1].copy()
    return CleanedLayout(
        lines, sheet, t, paper_level, ink_level, angle, deskewed, (x0, y0, x1, y1), thick, specks, bed_px
    )


def is_scan(gray: np.ndarray, *, name: str = "<image>") -> bool:
    """True for a scanned sheet (textured or unevenly lit paper), False for clean digital line art.

    Digital line art has paper of one exact value (usually 255) almost everywhere; a scan's paper
    varies pixel to pixel (grain, sensor noise) and across the sheet (lighting).
    """
    _check_gray(gray, name)
    t = _otsu(gray)
    paper = gray[gray > t]
    if paper.size == 0:
        return False
    mode_share = float(np.bincount(paper).max()) / paper.size
    bg = _paper_background(gray)
    spread = float(np.percentile(bg, 90) - np.percentile(bg, 10))
    return mode_share < 0.5 or spread > 10.0

"""A tiny layout canvas: painter's-order shapes give a region map, a line drawing and a BOOK mask.

Coordinates are world units: ``y`` runs 0 (top) .. 1 (bottom) of the frame and ``x`` runs
0 .. ``aspect`` (width / height), so a scene drawn for 16:9 and for a 32:9 PAN keeps its
proportions, and 960x540 and 1920x1080 are the same drawing at two scales.

Each filled shape sets its class in the region map, wipes the lines of farther shapes under it
and strokes its own outline, so every visible region border carries a line. Lines are drawn
supersampled and box-filtered down, which gives clean anti-aliased strokes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from haikei.domain.vocabulary import UNLABELLED, Vocabulary

__all__ = ["Canvas", "Point", "smooth"]

Point = tuple[float, float]


def smooth(points: Sequence[Point], iterations: int = 3, closed: bool = False) -> list[Point]:
    """Chaikin corner cutting: a polyline of control points -> a smooth curve (ends kept when open)."""
    pts = [(float(x), float(y)) for x, y in points]
    for _ in range(iterations):
        if len(pts) < 3:
            return pts
        out: list[Point] = [] if closed else [pts[0]]
        n = len(pts)
        rng = range(n) if closed else range(n - 1)
        for i in rng:
            (x0, y0), (x1, y1) = pts[i], pts[(i + 1) % n]
            out.append((0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1))
            out.append((0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1))
        if not closed:
            out.append(pts[-1])
        pts = out
    return pts


class Canvas:
    """Painter's-order drawing of one layout at a given pixel size."""

    def __init__(self, width: int, height: int, vocabulary: Vocabulary) -> None:
        if width < 16 or height < 16:
            raise ValueError(f"layout size {width}x{height} is too small (16 px per side at least)")
        self.width, self.height = width, height
        self.aspect = width / height
        self.vocab = vocabulary
        self.ss = 4 if width * height <= 1_200_000 else 3
        self._regions = Image.new("L", (width, height), UNLABELLED)
        self._rdraw = ImageDraw.Draw(self._regions)
        self._lines = Image.new("L", (width * self.ss, height * self.ss), 255)
        self._ldraw = ImageDraw.Draw(self._lines)
        self._book = Image.new("L", (width, height), 0)
        self._bdraw = ImageDraw.Draw(self._book)
        # pencil width: ~2 px at 1080 lines, never under 1.1 px
        self.line_px = max(1.1, 2.0 * height / 1080.0)

    # -- coordinates ---------------------------------------------------------------------
    def _px(self, pts: Sequence[Point], scale: int) -> list[tuple[float, float]]:
        s = self.height * scale
        return [(x * s - 0.5, y * s - 0.5) for x, y in pts]

    # -- drawing -------------------------------------------------------------------------
    def fill(
        self,
        pts: Sequence[Point],
        cls: str,
        *,
        outline: bool = True,
        book: bool = False,
        weight: float = 1.0,
    ) -> None:
        """Fill a closed polygon with a class; hide what it covers; stroke its outline."""
        if len(pts) < 3:
            return
        cid = self.vocab.id_of(cls)
        self._rdraw.polygon(self._px(pts, 1), fill=cid)
        self._bdraw.polygon(self._px(pts, 1), fill=255 if book else 0)
        self._ldraw.polygon(self._px(pts, self.ss), fill=255)
        if outline:
            self.line([*pts, pts[0]], weight=weight)

    def line(self, pts: Sequence[Point], *, weight: float = 1.0) -> None:
        """A pencil stroke along a polyline (round joints and caps)."""
        if len(pts) < 2:
            return
        w = max(1.0, self.line_px * weight * self.ss)
        xy = self._px(pts, self.ss)
        self._ldraw.line(xy, fill=0, width=round(w), joint="curve")
        r = w / 2.0
        for x, y in (xy[0], xy[-1]):
            self._ldraw.ellipse((x - r + 0.5, y - r + 0.5, x + r - 0.5, y + r - 0.5), fill=0)

    # -- results -------------------------------------------------------------------------
    def lines(self) -> np.ndarray:
        small = self._lines.reduce(self.ss)
        return np.asarray(small, dtype=np.uint8).copy()

    def regions(self) -> np.ndarray:
        return np.asarray(self._regions, dtype=np.uint8).copy()

    def book(self) -> np.ndarray:
        return np.asarray(self._book, dtype=np.uint8) >= 128

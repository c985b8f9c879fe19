"""Stage 1 of the painter, the plan: what is painted (the window), from which board and how (the class
plans, the main board, the synthesis slots), at which scale, over which pyramid.

Everything here is decided from the request alone, before any pixel is painted; a render, a
retake of it and a variant of it plan the same way (a retake's window plans exactly like its
parent's frame), so :func:`make_plan` is the one place the class plan is made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from haikei.engines.base import BoardInput, RenderRequest
from haikei.engines.exemplar.boards import ClassPlan, plan_classes
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.errors import RenderRefused

__all__ = ["Plan", "Pyramid", "Window", "board_scale", "find_window", "make_plan", "pyramid", "wide_level"]


@dataclass(frozen=True)
class Window:
    """The part of the frame a render paints: the whole frame, or a retake mask's bounding box plus
    ``retake_margin`` (rows ``y0:y1``, columns ``x0:x1``)."""

    y0: int
    y1: int
    x0: int
    x1: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def shape(self) -> tuple[int, int]:
        return self.y1 - self.y0, self.x1 - self.x0

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), as the recipe records it."""
        return self.x0, self.y0, self.x1, self.y1

    def crop(self, a: np.ndarray) -> np.ndarray:
        return a[self.slices]


def find_window(request: RenderRequest, opts: ExemplarOptions) -> Window:
    """The frame, or for a retake the mask's bounding box plus the margin (and the patch) around it."""
    h, w = request.height, request.width
    if request.mask is None:
        return Window(0, h, 0, w)
    if not request.mask.any():
        raise RenderRefused("the retake mask is empty; mark the area to repaint")
    ys, xs = np.nonzero(request.mask)
    m = opts.retake_margin + opts.patch_size
    return Window(
        max(0, int(ys.min()) - m),
        min(h, int(ys.max()) + 1 + m),
        max(0, int(xs.min()) - m),
        min(w, int(xs.max()) + 1 + m),
    )


@dataclass(frozen=True)
class Pyramid:
    """The search sizes: the working level is the frame shrunk by ``f`` = 2**k; ``levels`` halvings of
    the painted window below and including it."""

    f: int
    levels: int

    @property
    def k(self) -> int:
        return self.f.bit_length() - 1


def pyramid(opts: ExemplarOptions, frame: tuple[int, int], window: tuple[int, int]) -> Pyramid:
    """The working level is the frame shrunk by f = 2**k, searched at half the output size, at least
    search_max_side/2 and at most search_max_side on its long side; ``levels`` halvings of the
    painted window (the frame, or a retake's window) down to 24 px make the pyramid. Variants read it
    to blend seams as the parent did."""
    full_h, full_w = frame
    h, w = window
    cap = min(opts.search_max_side, max(opts.search_max_side // 2, max(full_h, full_w) // 2))
    k = 0
    while max(math.ceil(full_h / 2**k), math.ceil(full_w / 2**k)) > cap:
        k += 1
    f = 2**k
    levels = 1
    while levels < 6 and min(math.ceil(h / f / 2**levels), math.ceil(w / f / 2**levels)) >= 24:
        levels += 1
    return Pyramid(f, levels)


def wide_level(opts: ExemplarOptions, pyr: Pyramid) -> tuple[int, int]:
    """The seam blend's wide vote: its size divisor from the frame and its radius there. A level below
    the working size when the pyramid has one (a quarter of the work), else the working level.
    Variants read it to blend as their parent did."""
    if pyr.levels > 1:
        return 2 * pyr.f, max(1, opts.seam_blend // 2)
    return pyr.f, opts.seam_blend


def board_scale(opts: ExemplarOptions, board: BoardInput, h: int, w: int, *, enlarge: bool = False) -> float:
    """The board's scale for an h x w frame: as a full frame, never enlarged unless ``enlarge``."""
    if opts.board_scale is not None:
        return float(opts.board_scale)
    bh, bw = board.image.shape[:2]
    full_frame = max(h / bh, w / bw)
    return full_frame if enlarge else min(1.0, full_frame)


@dataclass(frozen=True)
class Plan:
    """How every class of the painted window is painted.

    ``classes``: the class plan of every class present (its board, fallback, derived palette or
    cloud); ``natural``: the classes synthesised from board paint, in slot order (``slots``: class ->
    slot of the search); ``palette_classes``: the rest (man-made faces, derived surfaces, clouds);
    ``patch_boards``: the boards the synthesis copies from; ``scales``: each board's copy scale at
    this frame size; ``allowed``: slot x (board * 256 + board class), 1 where that slot may copy.
    """

    classes: Mapping[int, ClassPlan]
    warnings: tuple[str, ...]
    natural: tuple[int, ...]
    palette_classes: tuple[int, ...]
    slots: Mapping[int, int]
    patch_boards: tuple[int, ...]
    scales: Mapping[int, float]
    allowed: np.ndarray

    def slot_lut(self) -> np.ndarray:
        """Class id -> synthesis slot (-1: painted from a palette), for indexing a region map."""
        lut = np.full(256, -1, np.int32)
        for c, s in self.slots.items():
            lut[c] = s
        return lut

    def board_scales(self, n_boards: int) -> np.ndarray:
        """The copy scales as a float64 array over every board of the request."""
        out = np.ones(n_boards, np.float64)
        for b, sc in self.scales.items():
            out[b] = sc
        return out


def make_plan(
    request: RenderRequest,
    opts: ExemplarOptions,
    regions: np.ndarray,
    derive: frozenset[int] = frozenset(),
    released: frozenset[int] = frozenset(),
) -> Plan:
    """The plan for the classes present in ``regions`` (the painted window), or ``RenderRefused``;
    ``derive``: classes to derive from the boards' colours though a board shows a little of them;
    ``released``: classes left to location boards whose paint of them is too little to copy,
    painted from the production's boards after all (``BoardInput.withheld``).

    Boards are weighed as full frames at any render size (never the capped copy scale), over the
    whole layout (a retake window plans exactly like its parent): a 960x540 preview and the
    1920x1080 delivery of one cut pick the same board for every class, so what the director approved
    in the preview is what is delivered.
    """
    vocab = request.vocabulary
    full_h, full_w = request.height, request.width
    present = [int(c) for c in np.flatnonzero(np.bincount(regions.ravel(), minlength=256))]
    frame_scales = [board_scale(opts, b, full_h, full_w, enlarge=True) for b in request.boards]
    classes, warnings = plan_classes(
        present,
        np.bincount(request.regions.ravel(), minlength=256),
        request.boards,
        frame_scales,
        request.direction,
        vocab,
        opts.min_class_pixels,
        opts.max_reuse,
        opts.fallback_min_share,
        derive,
        released,
    )
    natural = tuple(c for c in present if classes[c].patch and not vocab.classes[c].man_made)
    slots = {c: i for i, c in enumerate(natural)}
    allowed = np.zeros((max(1, len(natural)), len(request.boards) * 256), np.uint8)
    for c, s in slots.items():
        for b in classes[c].boards:
            allowed[s, b * 256 + classes[c].source] = 1
    return Plan(
        classes=classes,
        warnings=tuple(warnings),
        natural=natural,
        palette_classes=tuple(c for c in present if c not in slots),
        slots=slots,
        patch_boards=tuple(sorted({b for c in natural for b in classes[c].boards})),
        scales={b: board_scale(opts, board, full_h, full_w) for b, board in enumerate(request.boards)},
        allowed=allowed,
    )

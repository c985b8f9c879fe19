"""Closed areas of a line drawing, and paint-bucket labelling of them with region classes.

:func:`derive_regions` finds the areas a painter would fill: small gaps where two lines nearly
meet are bridged (a layout's pencil rarely closes every corner), each closed area gets an id,
ink pixels go to the nearest area, and specks of area are merged into their neighbour.
Known limit: an area pinched narrower than the gap (two lines' sides almost touching) is cut
in two at the pinch, exactly as a gap would be closed; the painter then clicks both parts.
:func:`label_regions` turns clicks (class, x, y) into a class-id map; :func:`parse_label_spec`
reads the ``sky@120,40`` form the CLI and the web page use.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Iterable

import numpy as np
from scipy import ndimage

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import ImageError, InputError

__all__ = ["default_gap", "derive_regions", "label_regions", "parse_label_spec"]

_FOUR = ndimage.generate_binary_structure(2, 1)
_LABEL_RE = re.compile(r"^(?P<name>[^@]+?)\s*@\s*(?P<x>[+-]?\d+)\s*,\s*(?P<y>[+-]?\d+)$")


def default_gap(shape: tuple[int, ...]) -> int:
    """Widest gap bridged by default: 0.5 % of the diagonal (11 px at 1920x1080, 6 at 960x540), 3..32 px."""
    return int(min(32, max(3, round(0.005 * math.hypot(shape[0], shape[1])))))


def derive_regions(
    lines: np.ndarray,
    *,
    gap: int | None = None,
    min_area: int | None = None,
    name: str = "<layout lines>",
) -> tuple[np.ndarray, int]:
    """Closed areas of a line drawing (uint8, ink < 128) as int32 ids ``1..count``; every pixel has one.

    ``gap``: line ends up to this many pixels apart are joined (default :func:`default_gap`).
    ``min_area``: areas smaller than this merge into their neighbour (default 0.02 % of the image,
    at least 16 px). Ids follow raster order of each area's first pixel, so they are stable.
    """
    # 1. check inputs
    if not isinstance(lines, np.ndarray) or lines.ndim != 2 or lines.dtype != np.uint8:
        got = f"{lines.dtype} {lines.shape}" if isinstance(lines, np.ndarray) else type(lines).__name__
        raise ImageError(name, f"line art must be a 2-D uint8 image, got {got}", "load it with load_gray")
    h, w = lines.shape
    gap = default_gap(lines.shape) if gap is None else gap
    if gap < 0 or gap > 64:
        raise InputError(f"gap {gap} px is out of range; use 0..64")
    if min_area is None:
        min_area = max(16, round(0.0002 * h * w))
    ink = lines < 128
    if ink.all():
        raise ImageError(
            name,
            "the image is all ink: there is no area to fill",
            "check it is a line drawing (black lines on white)",
        )

    # 2. area cores: paper farther than gap/2 from any ink, so a gap of up to ``gap`` px between a
    #    line end and another line separates two cores; then the areas too thin to have a core
    #    (thin closed shapes: a pole, a window frame) come back whole from the raw line drawing
    core = ndimage.distance_transform_edt(~ink) > math.ceil(gap / 2) if ink.any() else ~ink
    areas, n = ndimage.label(core, structure=_FOUR)
    raw, n_raw = ndimage.label(~ink, structure=_FOUR)
    if n_raw:
        has_area = np.zeros(n_raw + 1, bool)
        has_area[np.unique(raw[areas > 0])] = True
        lost = ~has_area
        lost[0] = False
        if lost.any():
            new_ids = np.cumsum(lost) + n
            mask = lost[raw]
            areas[mask] = new_ids[raw[mask]]
            n = int(new_ids[-1])
    if n == 0:
        raise ImageError(name, f"no closed area survives bridging gaps of {gap} px", "use a smaller gap")

    # 3. drop specks of area, then give every unassigned pixel (ink, the band around it, specks)
    #    its nearest area: across a bridged gap the split falls midway
    sizes = np.bincount(areas.ravel(), minlength=n + 1)
    small = sizes < min_area
    small[0] = False
    if not (~small[1:]).any():
        raise ImageError(
            name, f"every area is smaller than {min_area} px", "draw larger areas or lower min_area"
        )
    specks = small[areas]
    areas[specks] = 0
    unassigned = areas == 0
    if unassigned.any():
        _, (iy, ix) = ndimage.distance_transform_edt(unassigned, return_indices=True)
        areas = areas[iy, ix]
    # a speck goes whole to the area that took most of it
    speck_labels, n_specks = ndimage.label(specks, structure=_FOUR)
    if n_specks:
        pairs = speck_labels.ravel().astype(np.int64) * (int(areas.max()) + 1) + areas.ravel()
        pairs = pairs[speck_labels.ravel() > 0]
        uniq, counts = np.unique(pairs, return_counts=True)
        speck_of, area_of = np.divmod(uniq, int(areas.max()) + 1)
        order = np.lexsort((-counts, speck_of))
        first = np.unique(speck_of[order], return_index=True)[1]
        winner = np.zeros(n_specks + 1, np.int64)
        winner[speck_of[order][first]] = area_of[order][first]
        areas = np.where(speck_labels > 0, winner[speck_labels], areas)

    # 4. renumber 1..count in raster order of first appearance
    flat = areas.ravel()
    uniq, first_idx = np.unique(flat, return_index=True)
    order = np.argsort(first_idx)
    remap = np.zeros(int(uniq.max()) + 1, np.int32)
    remap[uniq[order]] = np.arange(1, len(uniq) + 1, dtype=np.int32)
    return remap[areas], len(uniq)


def label_regions(
    components: np.ndarray,
    points: Iterable[tuple[int, int, int]],
    *,
    base: np.ndarray | None = None,
) -> np.ndarray:
    """Paint-bucket labelling: each ``(class_id, x, y)`` fills the component under (x, y).

    Returns a uint8 class-id map, ``UNLABELLED`` where no point landed. Points apply in order, so a
    later click on the same area wins (the web page's "click again to correct"). ``base`` (a class
    map of the same size) is the starting state for incremental labelling.
    """
    if components.ndim != 2:
        raise InputError(f"components must be a 2-D id map, got shape {components.shape}")
    h, w = components.shape
    if base is None:
        out = np.full((h, w), UNLABELLED, np.uint8)
    else:
        if base.shape != (h, w) or base.dtype != np.uint8:
            raise InputError(f"the existing class map is {base.dtype} {base.shape}; expected uint8 {(h, w)}")
        out = base.copy()
    paint: dict[int, int] = {}
    for class_id, x, y in points:
        if not 0 <= x < w or not 0 <= y < h:
            raise InputError(
                f"point ({x}, {y}) is outside the {w}x{h} layout; use 0 <= x < {w}, 0 <= y < {h}"
            )
        if not 0 <= class_id < UNLABELLED:
            raise InputError(f"class id {class_id} is out of range; use 0..{UNLABELLED - 1}")
        paint[int(components[y, x])] = int(class_id)
    if paint:
        lut_ids = np.fromiter(paint.keys(), np.int64)
        lut_cls = np.fromiter(paint.values(), np.int64)
        table = np.full(int(max(int(components.max()), lut_ids.max())) + 1, -1, np.int64)
        table[lut_ids] = lut_cls
        hit = table[components]
        out = np.where(hit >= 0, hit, out).astype(np.uint8)
    return out


def parse_label_spec(spec: str, vocabulary: Vocabulary) -> tuple[int, int, int]:
    """``"sky@120,40"`` (or ``"空@120,40"``, full-width characters allowed) -> (class_id, x, y)."""
    text = unicodedata.normalize("NFKC", spec).strip()
    m = _LABEL_RE.match(text)
    if m is None:
        raise InputError(f"{spec!r} is not CLASS@X,Y; write it like sky@120,40")
    x, y = int(m["x"]), int(m["y"])
    if x < 0 or y < 0:
        raise InputError(f"{spec!r}: coordinates must be 0 or more (pixels from the top-left corner)")
    name = m["name"].strip()
    by_ja = {c.ja: c.name for c in vocabulary.classes if c.ja}
    key = name.lower() if name.lower() in vocabulary else by_ja.get(name, name)
    if key not in vocabulary:
        close = difflib.get_close_matches(name.lower(), [c.name for c in vocabulary.classes], n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else "list them with 'haikei classes'"
        raise InputError(f"{spec!r}: unknown region class {name!r}; {hint}")
    return vocabulary.id_of(key), x, y

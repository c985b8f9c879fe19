"""Location match: a cut of a place painted in its location board's colours, class by class.

A location board is an approved BG of the same place (``BoardInput.location``), labelled pixel for
pixel by its layout's region map. Copying its patches gives the new cut the place's brushwork and
whatever an artist painted over it, but a copy of a painting loses a little of it: neighbouring
patches from different parts of the board are averaged, and the search weighs position and lines
as well as colour, so a class's tones drift from the approved BG's (measured with
``haikei.quality.location``: painting a cut from the location board alone came out less like the
approved BG than painting it independently, 1.49 vs 1.06 on the location bench's mountain road).

So after the synthesis, every class painted from a location board has its tones mapped onto that
board's tones of the class it was painted from: per Lab channel a monotone map from the painted
class's quantiles to the board's (``QUANTILES`` of them, linear between). Monotone, so the painting's
structure stays (what is lighter stays lighter: lit and shaded sides, strokes, the layout's edges);
per class, so the sky keeps the approved sky's blues and the house its walls. Classes painted from
the production's boards, derived palettes and clouds are left as they are. The board's quantiles
depend on the board alone and are kept between renders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from haikei.engines.base import BoardInput
from haikei.engines.exemplar.adjust import lab_to_rgb
from haikei.engines.exemplar.cache import BoundedCache
from haikei.engines.exemplar.plan import Plan
from haikei.quality.colour import rgb_to_lab

__all__ = ["MIN_PIXELS", "QUANTILES", "LocationMatch", "LocationQuantiles", "match_location"]

# 33 quantiles per channel: on the location bench 257 gave the same figures (within 0.02) and 9
# lost a quarter of the gain; fewer points also keep a few stray pixels from pulling the map
QUANTILES = 33
# classes with fewer pixels in the painted window, or on the boards, are left as painted
MIN_PIXELS = 64
# the quantiles of a class are estimated from at most this many pixels (evenly strided)
SAMPLE = 60_000

_Q = np.linspace(0.0, 1.0, QUANTILES)


def _quantiles(values: np.ndarray) -> np.ndarray:
    """(QUANTILES, 3) quantiles of (n, 3) Lab values, from an even stride of at most SAMPLE."""
    step = max(1, values.shape[0] // SAMPLE)
    return np.quantile(values[::step].astype(np.float64), _Q, axis=0)


class LocationQuantiles:
    """The Lab quantiles of each class a location board shows, kept per board (bounded)."""

    def __init__(self, size: int = 8) -> None:
        self._cache: BoundedCache[str, dict[int, np.ndarray]] = BoundedCache(size, "location quantiles")

    def of(self, board: BoardInput) -> dict[int, np.ndarray]:
        def compute() -> dict[int, np.ndarray]:
            lab = rgb_to_lab(board.image)
            counts = np.bincount(board.labels.ravel(), minlength=256)
            return {
                int(c): _quantiles(lab[board.labels == c])
                for c in np.flatnonzero(counts >= MIN_PIXELS)
                if c < 255
            }

        return self._cache.get_or_make(board.key, compute)


@dataclass(frozen=True)
class LocationMatch:
    """What the match did: class name -> the location board names its tones came from."""

    classes: Mapping[str, tuple[str, ...]]

    def as_recipe(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in sorted(self.classes.items())}


def _monotone(q: np.ndarray) -> np.ndarray:
    """Strictly increasing sample points for np.interp (equal quantiles of flat paint spread a hair)."""
    return np.maximum.accumulate(q + np.arange(q.shape[0])[:, None] * 1e-6, axis=0)


def match_location(
    painted: np.ndarray,
    regions: np.ndarray,
    boards: Sequence[BoardInput],
    plan: Plan,
    names: Mapping[int, str],
    quantiles: LocationQuantiles,
) -> tuple[np.ndarray, LocationMatch | None]:
    """``painted`` (uint8 HxWx3, the window) with every class painted from a location board mapped
    onto that board's tones (the pooled quantiles when several location boards paint it); ``regions``
    is the window's region map, ``names`` class id -> name for the recipe. (painted, None) when no
    class is painted from a location board: a render without locations is untouched, byte for byte."""
    todo: list[tuple[int, list[int]]] = []
    for c, cp in plan.classes.items():
        if cp.kind not in ("board", "fallback"):
            continue
        loc = [b for b in cp.boards if boards[b].location]
        if loc:
            todo.append((c, loc))
    if not todo:
        return painted, None
    lab = rgb_to_lab(painted).astype(np.float64)
    changed: dict[str, tuple[str, ...]] = {}
    touched = np.zeros(regions.shape, bool)
    for c, loc in sorted(todo):
        source = plan.classes[c].source
        refs = [q for b in loc if (q := quantiles.of(boards[b]).get(source)) is not None]
        mask = regions == c
        n = int(mask.sum())
        if not refs or n < MIN_PIXELS:
            continue
        ref = np.mean(refs, axis=0)  # pooled: the mean of the boards' quantile functions
        values = lab[mask]
        own = _monotone(_quantiles(values))
        for ch in range(3):
            values[:, ch] = np.interp(values[:, ch], own[:, ch], ref[:, ch])
        lab[mask] = values
        touched |= mask
        changed[names[c]] = tuple(boards[b].name or boards[b].key[:12] for b in loc)
    if not changed:
        return painted, None
    out = painted.copy()
    out[touched] = lab_to_rgb(lab[touched])
    return out, LocationMatch(changed)

"""Location consistency: do two paintings of one place look like the same place?

For two paintings with their label maps (region maps), every class both show is compared with
the style distance of :mod:`haikei.quality.metrics` (sliced Wasserstein-1 of Lab colours plus
Wasserstein-1 of gradient magnitudes, i.e. colour and brushwork), each painting judged against the
other used as its reference, in both directions; the figure is the mean over the shared classes
weighted by their area in both paintings. Lab units; lower is more alike, 0 is the same paint.

Classes only one painting shows cannot be compared and are listed (``only_a`` / ``only_b``); no
shared class at all gives ``distance=None``. Like the other metrics it is a black box: it knows
nothing of engines or boards, and the same inputs always give the same number.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import InputError
from haikei.quality import metrics as M
from haikei.quality.colour import rgb_to_lab

__all__ = ["LocationConsistency", "location_consistency"]


@dataclass(frozen=True)
class _Painting:
    """A painting with its region map, read as a board by :func:`metrics.prepare_reference`."""

    image: np.ndarray
    labels: np.ndarray


@dataclass
class LocationConsistency:
    distance: float | None  # area-weighted over shared classes, Lab units; None: nothing shared
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    shared: list[str] = field(default_factory=list)
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "distance": None if self.distance is None else round(self.distance, 4),
            "per_class": {
                k: {kk: round(vv, 4) if isinstance(vv, float) else vv for kk, vv in v.items()}
                for k, v in self.per_class.items()
            },
            "shared": self.shared,
            "only_a": self.only_a,
            "only_b": self.only_b,
            "seconds": round(self.seconds, 3),
        }


def _check(image: np.ndarray, labels: np.ndarray, what: str) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"{what}: need a uint8 HxWx3 painting, got {image.dtype} {image.shape}")
    if labels.shape != image.shape[:2]:
        raise InputError(
            f"{what}: the label map is {labels.shape[1]}x{labels.shape[0]}, the painting "
            f"{image.shape[1]}x{image.shape[0]}; give the painting's own region map"
        )


def _one_way(
    image: np.ndarray, labels: np.ndarray, reference: M.Reference, shared: list[int]
) -> dict[str, dict[str, Any]]:
    _total, per = M._style_distance(rgb_to_lab(image), labels, reference, {c: c for c in shared})
    return per


def location_consistency(
    image_a: np.ndarray,
    labels_a: np.ndarray,
    image_b: np.ndarray,
    labels_b: np.ndarray,
    vocabulary: Vocabulary | None = None,
) -> LocationConsistency:
    """The location-consistency figure of two paintings of one place (see the module doc)."""
    t0 = time.perf_counter()
    vocab = vocabulary or Vocabulary()
    _check(image_a, labels_a, "painting a")
    _check(image_b, labels_b, "painting b")
    ca = {int(c) for c in np.unique(labels_a) if c != UNLABELLED}
    cb = {int(c) for c in np.unique(labels_b) if c != UNLABELLED}
    shared = sorted(ca & cb)
    out = LocationConsistency(
        None,
        shared=[vocab.name_of(c) for c in shared],
        only_a=[vocab.name_of(c) for c in sorted(ca - cb)],
        only_b=[vocab.name_of(c) for c in sorted(cb - ca)],
    )
    if not shared:
        out.seconds = time.perf_counter() - t0
        return out
    ref_a = M.prepare_reference([_Painting(image_a, labels_a)], vocab)
    ref_b = M.prepare_reference([_Painting(image_b, labels_b)], vocab)
    a_vs_b = _one_way(image_a, labels_a, ref_b, shared)
    b_vs_a = _one_way(image_b, labels_b, ref_a, shared)
    total = weight = 0.0
    for c in shared:
        name = vocab.name_of(c)
        ab, ba = a_vs_b.get(name), b_vs_a.get(name)
        if ab is None or ba is None:  # a sliver in one of them: no interior to sample
            continue
        colour = (float(ab["colour"]) + float(ba["colour"])) / 2
        gradient = (float(ab["gradient"]) + float(ba["gradient"])) / 2
        # areas on each painting's sampling grid, as shares so two sizes weigh alike
        share_a = float(ab["area"]) / max(1.0, float(sum(float(v["area"]) for v in a_vs_b.values())))
        share_b = float(ba["area"]) / max(1.0, float(sum(float(v["area"]) for v in b_vs_a.values())))
        w = share_a + share_b
        out.per_class[name] = {"colour": colour, "gradient": gradient, "weight": w / 2}
        total += w * (colour + gradient)
        weight += w
    out.distance = total / weight if weight else None
    out.seconds = time.perf_counter() - t0
    return out

"""Black-box metrics of a painting against its layout and art boards (see QUALITY.md).

Nothing here knows which engine made the painting. A :class:`Reference` is built once from the
art boards (classifier training patches, per-class colour / gradient samples, the boards' own
repetition rate) and then scores any number of paintings of any size:

- ``region_miou``   nearest-neighbour patch classifier trained on the boards' labelled patches
                    (Lab mean + L contrast + gradient energy); the painting's patches are classified
                    and compared with the layout's region map. Only layout classes that a board
                    shows itself are judged; the others are listed as ``not_on_boards`` (there is
                    no reference for them). ``score_fallbacks`` judges them by their vocabulary
                    fallback's board class instead (older behaviour). No judged class: None.
- ``line_f1``       colour Canny (smoothing, non-maximum suppression, hysteresis) matched to the
                    layout's ink within ``tol_frac`` of the diagonal; F1 of precision and recall.
- ``style_distance`` per class, sliced Wasserstein-1 between painting and board Lab colours plus
                    Wasserstein-1 between their gradient magnitudes; area-weighted mean. Lab units.
                    The same classes are judged as for region_miou.
- ``repetition``    share of 16x16 patches with a near-duplicate farther than one patch away,
                    minus the same share measured on the boards; duplicates the layout's own
                    repeated line work or a region border explains are excused, on the boards by
                    their own label maps (see ``haikei.quality.repetition``).
- ``ink``           along the layout's strokes, how much darker (L*) the painting is than both sides
                    of each stroke, averaged: 0 when lines become colour / value edges or form,
                    large when they are drawn as dark ink (see ``haikei.quality.ink``).

Every sample is taken on a fixed grid, so the same inputs always give the same numbers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.errors import InputError
from haikei.quality.classes import class_targets
from haikei.quality.colour import rgb_to_lab, sobel_magnitude
from haikei.quality.ink import ink_darkness
from haikei.quality.repetition import repetition_counts, repetition_rate

__all__ = [
    "QualityScores",
    "Reference",
    "line_f1",
    "prepare_reference",
    "region_miou",
    "repetition_rate",
    "score_painting",
    "style_distance",
]

CLASSIFIER_PATCH = 9  # side of the window the region classifier describes (pixels)
CLASSIFIER_K = 5
CLASSIFIER_EPS = 0.5
PAINTING_SAMPLES = 15_000  # grid points classified per painting
BOARD_SAMPLES_PER_CLASS = 2_000
STYLE_SAMPLES = 4_000  # pixels per class and side for the Wasserstein distances
STYLE_DIRECTIONS = 32
STYLE_QUANTILES = 256


class BoardLike(Protocol):
    """An art board as the metrics read it (read-only, so frozen dataclasses such as BoardInput fit)."""

    @property
    def image(self) -> np.ndarray: ...

    @property
    def labels(self) -> np.ndarray: ...


@dataclass(frozen=True)
class Reference:
    """What the metrics need from the art boards, computed once."""

    vocabulary: Vocabulary
    classes: frozenset[int]  # class ids the boards show
    train_features: np.ndarray  # N x F float32
    train_labels: np.ndarray  # N uint8
    # class id -> {board index: M x 3 Lab samples / M gradient magnitudes} for each board showing it
    lab_samples: dict[int, dict[int, np.ndarray]]
    grad_samples: dict[int, dict[int, np.ndarray]]
    repetition_rate: float  # the boards' own, each excusing its own label borders
    repetition_excused_by_regions: float = 0.0  # share of the boards' queries their label borders excused


@dataclass
class QualityScores:
    region_miou: float | None
    line_f1: float | None
    style_distance: float | None
    repetition: float | None
    ink: float | None = None  # L* units; 0 = strokes painted as edges, larger = drawn as dark ink
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "region_miou": self.region_miou,
            "line_f1": self.line_f1,
            "style_distance": self.style_distance,
            "repetition": self.repetition,
            "ink": self.ink,
            "metric_seconds": round(self.seconds, 4),
            "details": self.details,
            "warnings": list(self.warnings),
        }


# -- features --------------------------------------------------------------------------------
def _patch_features(lab: np.ndarray) -> np.ndarray:
    """HxWxF float32: window means of L, a, b; std of L; mean |dL/dx|, |dL/dy| (texture energy)."""
    p = CLASSIFIER_PATCH
    L = lab[..., 0]
    gx = np.abs(ndimage.sobel(L, axis=1, mode="reflect")) / 8.0
    gy = np.abs(ndimage.sobel(L, axis=0, mode="reflect")) / 8.0
    feats = np.empty((*L.shape, 6), np.float32)
    for i in range(3):
        feats[..., i] = ndimage.uniform_filter(lab[..., i], p, mode="reflect")
    mean_sq = ndimage.uniform_filter(L * L, p, mode="reflect")
    feats[..., 3] = np.sqrt(np.maximum(mean_sq - feats[..., 0] ** 2, 0.0))
    feats[..., 4] = ndimage.uniform_filter(gx, p, mode="reflect")
    feats[..., 5] = ndimage.uniform_filter(gy, p, mode="reflect")
    return feats


def _grid(shape: tuple[int, ...], target: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of a regular grid over ``shape`` (H, W, ...) with about ``target`` points."""
    h, w = shape[0], shape[1]
    step = max(1, int(np.sqrt(h * w / max(target, 1))))
    ys = np.arange(step // 2, h, step)
    xs = np.arange(step // 2, w, step)
    return ys, xs


def _even_take(idx: np.ndarray, n: int) -> np.ndarray:
    """At most ``n`` entries of ``idx``, spread evenly (deterministic subsampling)."""
    if len(idx) <= n:
        return idx
    return idx[np.linspace(0, len(idx) - 1, n).astype(np.int64)]


def _interior(labels: np.ndarray, radius: int) -> np.ndarray:
    """True where every label within ``radius`` (square window) is the same class."""
    size = 2 * radius + 1
    return np.asarray(ndimage.maximum_filter(labels, size) == ndimage.minimum_filter(labels, size))


def _core(mask: np.ndarray, interior: np.ndarray) -> np.ndarray:
    """The mask's pixels away from class borders, or the whole mask when nothing is left."""
    core = mask & interior
    return core if core.any() else mask


def _check_painting(painting: np.ndarray, lines: np.ndarray | None, regions: np.ndarray | None) -> None:
    if painting.ndim != 3 or painting.shape[2] != 3 or painting.dtype != np.uint8:
        raise InputError(f"the painting must be uint8 HxWx3, got {painting.dtype} {painting.shape}")
    h, w = painting.shape[:2]
    for what, arr in (("layout lines", lines), ("region map", regions)):
        if arr is not None and arr.shape != (h, w):
            raise InputError(
                f"{what} is {arr.shape[1]}x{arr.shape[0]} but the painting is {w}x{h}; "
                "score the painting at its layout's size"
            )


# -- reference -------------------------------------------------------------------------------
def prepare_reference(boards: Sequence[BoardLike], vocabulary: Vocabulary | None = None) -> Reference:
    """Train the region classifier and collect per-class samples from the art boards."""
    vocab = vocabulary or Vocabulary()
    if not boards:
        raise InputError("no art board given; the metrics compare a painting with its art boards")
    feats_by_class: dict[int, list[np.ndarray]] = {}
    lab_by_class: dict[int, dict[int, np.ndarray]] = {}
    grad_by_class: dict[int, dict[int, np.ndarray]] = {}
    rep_hits = 0.0
    rep_total = 0
    rep_by_regions = 0
    for i, b in enumerate(boards):
        img, labels = b.image, b.labels
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or labels.shape != img.shape[:2]:
            raise InputError(f"art board {i}: need a uint8 HxWx3 image and a label map of the same size")
        bad = (labels >= len(vocab)) & (labels != UNLABELLED)
        if bad.any():
            raise InputError(f"art board {i}: label id {int(labels[bad][0])} is not in the vocabulary")
        lab = rgb_to_lab(img)
        feats = _patch_features(lab)
        grad = sobel_magnitude(lab[..., 0])
        # a window is 'pure' when every label under it is the same class
        pure = _interior(labels, CLASSIFIER_PATCH // 2)
        ys, xs = _grid(labels.shape, 4 * BOARD_SAMPLES_PER_CLASS * 8)
        gl = labels[np.ix_(ys, xs)]
        gp = pure[np.ix_(ys, xs)]
        gf = feats[np.ix_(ys, xs)]
        interior = _interior(labels, max(1, round(np.hypot(*labels.shape) / 600)))
        for c in np.unique(labels):
            if c == UNLABELLED:
                continue
            sel = (gl == c) & gp
            if not sel.any():
                sel = gl == c
            if sel.any():
                feats_by_class.setdefault(int(c), []).append(gf[sel])
            core = np.flatnonzero(_core(labels == c, interior))
            take = _even_take(core, STYLE_SAMPLES)
            if len(take):
                lab_by_class.setdefault(int(c), {})[i] = lab.reshape(-1, 3)[take]
                grad_by_class.setdefault(int(c), {})[i] = grad.ravel()[take]
        # a board has no layout ink, but its label map is its region map: its own borders are
        # excused as the painting's are (like with like)
        counts = repetition_counts(img, None, labels)
        rep_hits += counts.hits
        rep_total += counts.total
        rep_by_regions += counts.excused_by_regions
    if not feats_by_class:
        raise InputError("the art boards have no labelled pixels; label them first")
    tf, tl = [], []
    for c, parts in sorted(feats_by_class.items()):
        allf = np.concatenate(parts)
        take = _even_take(np.arange(len(allf)), BOARD_SAMPLES_PER_CLASS)
        tf.append(allf[take])
        tl.append(np.full(len(take), c, np.uint8))
    # kept per board (see _nearest_board_style)
    lab_s, grad_s = lab_by_class, grad_by_class
    return Reference(
        vocabulary=vocab,
        classes=frozenset(feats_by_class),
        train_features=np.concatenate(tf).astype(np.float32),
        train_labels=np.concatenate(tl),
        lab_samples=lab_s,
        grad_samples=grad_s,
        repetition_rate=rep_hits / rep_total if rep_total else 0.0,
        repetition_excused_by_regions=rep_by_regions / rep_total if rep_total else 0.0,
    )


def _even_rows(a: np.ndarray, n: int) -> np.ndarray:
    return a[_even_take(np.arange(len(a)), n)]


# -- region_miou -----------------------------------------------------------------------------
def _region_miou(
    lab: np.ndarray, regions: np.ndarray, ref: Reference, targets: dict[int, int]
) -> tuple[float | None, dict[str, float]]:
    if not targets:
        return None, {}
    judged = sorted(set(targets.values()))
    # the classifier chooses among the judged classes; a single judged class would be 'recognised'
    # everywhere whatever is painted, so then it must win against every class the boards show
    allowed = np.array(judged if len(judged) > 1 else sorted(ref.classes), np.int64)
    if len(allowed) < 2:
        return None, {}  # the boards show one class only: nothing to tell it apart from
    keep = np.isin(ref.train_labels, allowed)
    train_f = ref.train_features[keep]
    train_l = ref.train_labels[keep].astype(np.int64)
    feats = _patch_features(lab)
    ys, xs = _grid(regions.shape, PAINTING_SAMPLES)
    gr = regions[np.ix_(ys, xs)].ravel()
    lut = np.full(256, -1, np.int64)
    for c, t in targets.items():
        lut[c] = t
    truth = lut[gr]
    ok = truth >= 0
    q = feats[np.ix_(ys, xs)].reshape(-1, feats.shape[-1])[ok]
    truth = truth[ok]
    k = min(CLASSIFIER_K, len(train_f))
    # identical patches (flat paint) are looked up once; eps bounds the search to 1.5x the true
    # neighbour distance, which keeps queries far from every board patch from scanning them all
    q = np.ascontiguousarray(q)
    rows = q.view(np.dtype((np.void, q.dtype.itemsize * q.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    uq = q[first]
    _, nn_u = cKDTree(train_f).query(uq, k=k, eps=CLASSIFIER_EPS)
    nn = nn_u.reshape(len(uq), k)[inverse.ravel()]
    votes = train_l[nn]
    # majority vote; ties go to the class of the nearest neighbour
    n_cls = int(allowed.max()) + 1
    weights = np.ones(votes.shape)
    weights[:, 0] = 2.0  # the nearest neighbour breaks ties
    flat_idx = (np.arange(len(q))[:, None] * n_cls + votes).ravel()
    counts = np.bincount(flat_idx, weights=weights.ravel(), minlength=len(q) * n_cls).reshape(len(q), n_cls)
    pred = counts.argmax(axis=1)
    per_class: dict[str, float] = {}
    for t in judged:
        tp = int(np.sum((pred == t) & (truth == t)))
        fp = int(np.sum((pred == t) & (truth != t)))
        fn = int(np.sum((pred != t) & (truth == t)))
        if tp + fn == 0:
            continue
        per_class[ref.vocabulary.name_of(t)] = tp / (tp + fp + fn)
    if not per_class:
        return None, {}
    return float(np.mean(list(per_class.values()))), per_class


# -- line_f1 ---------------------------------------------------------------------------------
def _colour_canny(lab: np.ndarray, sigma: float, low_step: float, high_step: float) -> np.ndarray:
    """Edge pixels of a Lab image: per pixel the channel with the strongest gradient decides."""
    best_mag = np.zeros(lab.shape[:2], np.float32)
    best_gx = np.zeros_like(best_mag)
    best_gy = np.zeros_like(best_mag)
    for i in range(3):
        ch = ndimage.gaussian_filter(lab[..., i], sigma, mode="reflect")
        gx = ndimage.sobel(ch, axis=1, mode="reflect") / 8.0
        gy = ndimage.sobel(ch, axis=0, mode="reflect") / 8.0
        mag = np.hypot(gx, gy)
        better = mag > best_mag
        best_mag = np.where(better, mag, best_mag)
        best_gx = np.where(better, gx, best_gx)
        best_gy = np.where(better, gy, best_gy)
    # non-maximum suppression along the gradient, quantised to 4 directions
    angle = (np.rad2deg(np.arctan2(best_gy, best_gx)) + 180.0) % 180.0
    sector = ((angle + 22.5) // 45).astype(np.int8) % 4  # 0: horizontal gradient, 1: 45, 2: vertical, 3: 135
    pad = np.pad(best_mag, 1, mode="constant")
    h, w = lab.shape[0], lab.shape[1]
    offsets = {0: (0, 1), 1: (1, 1), 2: (1, 0), 3: (1, -1)}
    keep = np.zeros((h, w), bool)
    for s, (dy, dx) in offsets.items():
        a = pad[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
        b = pad[1 - dy : 1 - dy + h, 1 - dx : 1 - dx + w]
        keep |= (sector == s) & (best_mag >= a) & (best_mag >= b)
    # a step of height s blurred by sigma peaks at s / (sqrt(2 pi) sigma) per pixel
    norm = 1.0 / (np.sqrt(2 * np.pi) * sigma)
    weak = keep & (best_mag > low_step * norm)
    strong = keep & (best_mag > high_step * norm)
    lab_cc, n = ndimage.label(weak, structure=np.ones((3, 3), bool))
    if n == 0:
        return weak
    has_strong = np.zeros(n + 1, bool)
    has_strong[lab_cc[strong]] = True
    has_strong[0] = False
    return np.asarray(has_strong[lab_cc])


def line_f1(
    painting: np.ndarray,
    lines: np.ndarray,
    *,
    tol_frac: float = 0.003,
    low_step: float = 6.0,
    high_step: float = 12.0,
    _lab: np.ndarray | None = None,
) -> tuple[float | None, dict[str, float]]:
    """F1 of the painting's edges against the layout's ink (``lines`` < 128). None without ink.

    Steps are in Lab units: an edge must be a colour step of at least ``high_step`` somewhere
    along it and ``low_step`` everywhere. The tolerance is ``tol_frac`` of the diagonal.
    """
    _check_painting(painting, lines, None)
    ink = lines < 128
    if not ink.any():
        return None, {}
    h, w = lines.shape
    diag = float(np.hypot(h, w))
    lab = rgb_to_lab(painting) if _lab is None else _lab
    sigma = max(1.0, diag / 1100.0)
    edges = _colour_canny(lab, sigma, low_step, high_step)
    tol = max(1.5, tol_frac * diag)
    if not edges.any():
        return 0.0, {"precision": 0.0, "recall": 0.0, "tolerance_px": tol, "sigma": sigma}
    # within the tolerance = inside a (2 tol + 1) square around the other set (separable, fast)
    size = 2 * int(tol) + 1
    near_edge = ndimage.maximum_filter(edges.view(np.uint8), size) > 0
    near_ink = ndimage.maximum_filter(ink.view(np.uint8), size) > 0
    recall = float(np.mean(near_edge[ink]))
    precision = float(np.mean(near_ink[edges]))
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return f1, {"precision": precision, "recall": recall, "tolerance_px": tol, "sigma": sigma}


# -- style_distance --------------------------------------------------------------------------
def _quantiles(x: np.ndarray) -> np.ndarray:
    q = (np.arange(STYLE_QUANTILES) + 0.5) / STYLE_QUANTILES
    return np.quantile(x, q, axis=0)


def _directions() -> np.ndarray:
    rng = np.random.default_rng(20240601)  # fixed: the metric must not depend on anything else
    d = rng.normal(size=(STYLE_DIRECTIONS, 3))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def _sliced_w1(a: np.ndarray, b: np.ndarray) -> float:
    dirs = _directions()
    pa = _quantiles(a @ dirs.T)
    pb = _quantiles(b @ dirs.T)
    return float(np.mean(np.abs(pa - pb)))


def _nearest_board_style(
    lab: np.ndarray, grad: np.ndarray, ref: Reference, board_class: int
) -> tuple[float, float, int] | None:
    """(colour, gradient, board) against the board whose paint of the class the pixels match best.

    A painting is in style when it carries *a* board's hand: judged against the pooled colours of
    several different boards (a cream sky and a blue one) a patchwork of both would score best.
    """
    scores = [
        (
            _sliced_w1(lab, ref.lab_samples[board_class][b]),
            float(np.mean(np.abs(_quantiles(grad) - _quantiles(ref.grad_samples[board_class][b])))),
            b,
        )
        for b in ref.lab_samples.get(board_class, {})
    ]
    return min(scores, key=lambda s: s[0] + s[1]) if scores else None


def _style_distance(
    lab: np.ndarray, regions: np.ndarray, ref: Reference, targets: dict[int, int]
) -> tuple[float | None, dict[str, dict[str, float]]]:
    if not targets:
        return None, {}
    grad = sobel_magnitude(lab[..., 0])
    interior = _interior(regions, max(1, round(np.hypot(*regions.shape) / 600)))
    ys, xs = _grid(regions.shape, 500_000)  # a fixed pixel grid keeps big paintings fast
    g_reg = regions[np.ix_(ys, xs)]
    g_int = interior[np.ix_(ys, xs)]
    g_lab = lab[np.ix_(ys, xs)].reshape(-1, 3)
    g_grad = grad[np.ix_(ys, xs)].ravel()
    per: dict[str, dict[str, float | int]] = {}
    total = 0.0
    weight = 0
    for c, t in sorted(targets.items()):
        area = g_reg == c
        n = int(area.sum())
        if n == 0:  # a sliver thinner than the grid step
            continue
        take = _even_take(np.flatnonzero(_core(area, g_int)), STYLE_SAMPLES)
        best = _nearest_board_style(g_lab[take], g_grad[take], ref, t)
        if best is None:  # the boards show the class only as slivers
            continue
        colour, texture, board = best
        per[ref.vocabulary.name_of(c)] = {"colour": colour, "gradient": texture, "area": n, "board": board}
        total += n * (colour + texture)
        weight += n
    return (total / weight if weight else None), per


def region_miou(
    painting: np.ndarray, regions: np.ndarray, reference: Reference, *, score_fallbacks: bool = False
) -> float | None:
    """The region classifier's mIoU alone (see module doc); None when no class can be judged."""
    _check_painting(painting, None, regions)
    targets = class_targets(regions, reference.vocabulary, reference.classes, score_fallbacks)
    return _region_miou(rgb_to_lab(painting), regions, reference, targets.by)[0]


def style_distance(
    painting: np.ndarray, regions: np.ndarray, reference: Reference, *, score_fallbacks: bool = False
) -> float | None:
    """The area-weighted style distance alone (Lab units, lower is better); None when no class is judged."""
    _check_painting(painting, None, regions)
    targets = class_targets(regions, reference.vocabulary, reference.classes, score_fallbacks)
    return _style_distance(rgb_to_lab(painting), regions, reference, targets.by)[0]


# -- all together ----------------------------------------------------------------------------
def score_painting(
    painting: np.ndarray,
    lines: np.ndarray,
    regions: np.ndarray,
    reference: Reference,
    *,
    score_fallbacks: bool = False,
) -> QualityScores:
    """All metrics of one painting. Higher region_miou / line_f1, lower style_distance / repetition is better;
    ``ink`` near 0 means the layout's lines became paint (edges, form), not dark ink.

    ``score_fallbacks``: judge layout classes the boards lack by their vocabulary fallback's board
    class instead of leaving them out (see :func:`haikei.quality.classes.class_targets`).
    """
    t0 = time.perf_counter()
    _check_painting(painting, lines, regions)
    targets = class_targets(regions, reference.vocabulary, reference.classes, score_fallbacks)
    vocab = reference.vocabulary
    warnings = [
        f"class {name!r} is not on the art boards and has no fallback there; not scored"
        for name in targets.unscored
    ]
    if not targets.by:
        warnings.append(
            "no class of the layout is on the art boards, so region_miou and style_distance cannot be "
            "judged (None); choose art boards that show the layout's classes"
            + ("" if score_fallbacks else " or score with fallbacks")
        )
    fallbacks = {
        vocab.name_of(c): vocab.name_of(t) for c, t in targets.by.items() if c != t
    }  # layout class -> board class used to judge it
    lab = rgb_to_lab(painting)
    miou, per_iou = _region_miou(lab, regions, reference, targets.by)
    if miou is None and targets.by and len(reference.classes) < 2:
        warnings.append("the art boards show a single class; region_miou cannot tell it from anything (None)")
    lf1, line_info = line_f1(painting, lines, _lab=lab)
    style, per_style = _style_distance(lab, regions, reference, targets.by)
    rep = repetition_counts(painting, lines, regions)
    ink = ink_darkness(painting, lines, regions, _lab=lab)
    return QualityScores(
        region_miou=miou,
        line_f1=lf1,
        style_distance=style,
        repetition=rep.rate - reference.repetition_rate,
        ink=ink.ink,
        seconds=time.perf_counter() - t0,
        details={
            "iou_per_class": per_iou,
            "line": line_info,
            "ink": ink.details,
            "style_per_class": per_style,
            "class_scoring": "fallbacks" if score_fallbacks else "exact",
            "not_on_boards": targets.not_on_boards,
            "fallbacks": fallbacks,
            "unscored_classes": targets.unscored,
            "repetition_painting": rep.rate,
            "repetition_boards": reference.repetition_rate,
            # excused by the layout's ink / by its region map (shares of all queries)
            "repetition_excused_by_layout": (rep.excused - rep.excused_by_regions) / rep.total
            if rep.total
            else 0.0,
            "repetition_excused_by_regions": rep.excused_by_regions / rep.total if rep.total else 0.0,
            "repetition_boards_excused_by_regions": reference.repetition_excused_by_regions,
            "repetition_textured_share": rep.textured / rep.total if rep.total else 0.0,
        },
        warnings=warnings,
    )

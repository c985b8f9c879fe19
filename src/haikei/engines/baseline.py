"""The baseline engine: per-region colour fill from the art boards + a Kuwahara painterly filter.

It is the yardstick every other engine is measured against (QUALITY.md): each region of the
layout is filled with its class's colour as the art boards paint it (median colour, the board's
top-to-bottom trend within that class, and a little seeded variation), brushed with a Kuwahara
filter, and the layout's ink is laid back on softly. No learning, no copying of board pixels.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field
from scipy import ndimage

from haikei.domain.vocabulary import UNLABELLED
from haikei.engines.base import (
    ALGORITHMIC_MEDIA,
    BoardInput,
    EngineContext,
    RenderRequest,
    RenderResult,
    check_common_inputs,
    composite_retake,
    parse_config,
    parse_options,
)
from haikei.errors import RenderRefused

__all__ = ["BaselineEngine", "BaselineOptions", "create"]

_MAX_STAT_PIXELS = 20_000  # board pixels per class used for its colour statistics


class BaselineOptions(BaseModel):
    """Options of the baseline painter (every field bounded and described)."""

    model_config = ConfigDict(extra="forbid")

    variation: float = Field(
        0.6,
        ge=0.0,
        le=2.0,
        description="large-scale colour variation, in the board class's standard deviations",
    )
    grain: float = Field(
        0.6,
        ge=0.0,
        le=3.0,
        description="fine brush grain before the painterly filter, in standard deviations",
    )
    radius: int | None = Field(
        None, ge=1, le=16, description="Kuwahara radius in pixels; default scales with size (3 at 960x540)"
    )
    line_strength: float = Field(
        0.6, ge=0.0, le=1.0, description="how dark the layout's ink stays (0 = none)"
    )


class _ClassStats:
    """Colour of one board class: median RGB, its two main axes of variation, top-to-bottom trend."""

    def __init__(self, median: np.ndarray, axes: np.ndarray, trend: np.ndarray) -> None:
        self.median = median
        self.axes = axes  # 2 x 3: principal colour directions scaled by their standard deviation
        self.trend = trend  # colour change from the top to the bottom of a region


def _class_stats(boards: tuple[BoardInput, ...], class_id: int) -> _ClassStats:
    colours: list[np.ndarray] = []
    rel_y: list[np.ndarray] = []
    # a production board that leaves the class to a location board (BoardInput.withheld) does not
    # paint it while another board shows it
    own = [b for b in boards if class_id not in b.withheld and (b.labels == class_id).any()]
    for b in own or boards:
        ys, xs = np.nonzero(b.labels == class_id)
        if len(ys) == 0:
            continue
        step = max(1, len(ys) // _MAX_STAT_PIXELS)
        ys, xs = ys[::step], xs[::step]
        colours.append(b.image[ys, xs].astype(np.float64))
        span = max(1, int(ys.max()) - int(ys.min()))
        rel_y.append((ys - ys.min()) / span - 0.5)
    c = np.concatenate(colours)
    t = np.concatenate(rel_y)
    median = np.median(c, axis=0)
    var_t = float(np.mean(t * t))
    centred = c - c.mean(axis=0)
    trend = np.zeros(3) if var_t < 1e-6 else (t @ centred) / (len(t) * var_t)
    # variation along the class's own main colour directions keeps hues plausible
    # (a meadow varies between its yellows and greens, not into purple)
    residual = centred - np.outer(t, trend)
    evals, evecs = np.linalg.eigh(np.cov(residual.T) if len(c) > 1 else np.zeros((3, 3)))
    order = np.argsort(evals)[::-1][:2]
    axes = (evecs[:, order] * np.sqrt(np.maximum(evals[order], 0.0))).T
    return _ClassStats(median, axes, trend)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Smooth noise with about unit standard deviation (3 channels), features ~``scale`` pixels wide.

    Large scales are drawn on a coarse grid and interpolated up (bilinear), which costs little.
    """
    h, w = shape
    if scale <= 1.5:
        n = rng.standard_normal((h, w, 3), dtype=np.float32)
        n = ndimage.gaussian_filter(n, (scale, scale, 0), mode="reflect")
    else:
        ch, cw = max(2, round(h / scale) + 2), max(2, round(w / scale) + 2)
        coarse = rng.standard_normal((ch, cw, 3), dtype=np.float32)
        coarse = ndimage.gaussian_filter(coarse, (0.7, 0.7, 0), mode="reflect")
        n = np.stack(
            [
                np.asarray(Image.fromarray(coarse[..., i], "F").resize((w, h), Image.Resampling.BILINEAR))
                for i in range(3)
            ],
            axis=2,
        )
    std = n[::4, ::4].std(axis=(0, 1), keepdims=True)  # a sub-grid is plenty to normalise
    return np.asarray(n / np.maximum(std, 1e-6), dtype=np.float32)


def _kuwahara(img: np.ndarray, radius: int) -> np.ndarray:
    """Classic 4-quadrant Kuwahara filter: each pixel takes the mean of its calmest quadrant."""
    r = radius
    size = r + 1  # each quadrant is (r+1) x (r+1) and shares the centre pixel
    y = img @ np.array([0.299, 0.587, 0.114], np.float32)
    stack = np.concatenate([img, y[..., None], (y * y)[..., None]], axis=2)
    means = ndimage.uniform_filter(stack, size=(size, size, 1), mode="reflect")
    # uniform_filter's window at j covers j - size//2 .. j - size//2 + r, so the quadrant
    # p-r..p is read at j = p - r + size//2 and the quadrant p..p+r at j = p + size//2
    neg, pos = size // 2 - r, size // 2
    pad = np.pad(means, ((r, r), (r, r), (0, 0)), mode="edge")
    h, w = img.shape[:2]
    best_var = np.full((h, w), np.inf, np.float32)
    out = np.empty_like(img)
    for dy in (neg, pos):
        for dx in (neg, pos):
            q = pad[r + dy : r + dy + h, r + dx : r + dx + w]
            var = q[..., 4] - q[..., 3] ** 2
            better = var < best_var
            np.copyto(best_var, var, where=better)
            np.copyto(out, q[..., :3], where=better[..., None])
    return out


class BaselineEngine:
    """Per-region colour fill + painterly filter. Deterministic by seed; honours mask/init."""

    name: ClassVar[str] = "baseline"
    version: ClassVar[str] = "1.0.0"
    digital_source_type: ClassVar[str] = ALGORITHMIC_MEDIA
    options_model: ClassVar[type[BaseModel]] = BaselineOptions

    def __init__(self, defaults: Mapping[str, Any] | None = None) -> None:
        self._defaults = dict(defaults or {})
        parse_config(BaselineOptions, self.name, self._defaults)  # a bad [engines.baseline] fails at start-up

    def render(self, request: RenderRequest, context: EngineContext) -> RenderResult:
        t_start = time.perf_counter()
        timings: dict[str, float] = {}
        warnings: list[str] = []

        # 1. check inputs
        context.check_cancel()
        check_common_inputs(request)
        opts = parse_options(BaselineOptions, self.name, request.options, self._defaults)
        vocab = request.vocabulary
        h, w = request.height, request.width
        context.progress(0.0, "checking inputs")

        # 2. choose art boards: those matching the direction's tags, else all of them
        wanted = request.direction.tags()
        chosen = tuple(b for b in request.boards if wanted & b.tags) or request.boards
        if wanted and len(chosen) == len(request.boards) and not any(wanted & b.tags for b in chosen):
            warnings.append(f"no art board is tagged {sorted(wanted)}; used all {len(chosen)} boards")

        # 3. resolve every class to paint to a class the boards show (fallback chain, else refuse)
        paint_area = request.mask if request.mask is not None else np.ones((h, w), bool)
        needed = [int(c) for c in np.unique(request.regions[paint_area]) if c != UNLABELLED]
        on_boards: set[int] = set()
        for b in chosen:
            on_boards.update(int(c) for c in np.unique(b.labels) if c != UNLABELLED and c < len(vocab))
        avail_names = [vocab.name_of(c) for c in on_boards]
        painted_from: dict[int, int] = {}
        for c in needed:
            name = vocab.name_of(c)
            got = vocab.resolve(name, avail_names)
            if got is None:
                chain = ", ".join(vocab.fallback_chain(name)) or "none"
                raise RenderRefused(
                    f"class {name!r} is not on the chosen art boards and neither is any of its fallbacks "
                    f"({chain}); add an art board that shows {name!r}"
                )
            if got != name:
                warnings.append(f"{name!r} painted from the art boards' {got!r}")
            painted_from[c] = vocab.id_of(got)
        context.check_cancel()
        context.progress(0.1, "reading the art boards' colours")

        # 4. colour statistics per board class
        t0 = time.perf_counter()
        stats = {t: _class_stats(chosen, t) for t in sorted(set(painted_from.values()))}
        timings["board_stats"] = time.perf_counter() - t0
        context.check_cancel()
        context.progress(0.25, "filling regions")

        # 5. fill: median + top-to-bottom trend + seeded large-scale variation + fine grain
        t0 = time.perf_counter()
        rng = np.random.default_rng(request.seed)
        diag = float(np.hypot(h, w))
        low = _smooth_noise(rng, (h, w), diag / 25.0)
        context.check_cancel()
        fine = _smooth_noise(rng, (h, w), 0.8)
        lut_med = np.zeros((256, 3), np.float32)
        lut_ax1 = np.zeros((256, 3), np.float32)
        lut_ax2 = np.zeros((256, 3), np.float32)
        lut_trend = np.zeros((256, 3), np.float32)
        for c, t in painted_from.items():
            st = stats[t]
            lut_med[c], lut_ax1[c], lut_ax2[c], lut_trend[c] = st.median, st.axes[0], st.axes[1], st.trend
        regions = request.regions
        rel_y = np.zeros((h, w), np.float32)
        for idx, sl in enumerate(ndimage.find_objects(regions.astype(np.int32) + 1)):
            if sl is None or idx not in painted_from:
                continue
            y0, y1 = sl[0].start, sl[0].stop
            inside = regions[sl] == idx
            col = (np.arange(y0, y1, dtype=np.float32) - y0) / max(1, y1 - y0 - 1) - 0.5
            rel_y[sl][inside] = np.broadcast_to(col[:, None], inside.shape)[inside]
        a1 = opts.variation * low[..., 0] + opts.grain * fine[..., 0]
        a2 = opts.variation * low[..., 1] + opts.grain * fine[..., 1]
        img = lut_med[regions] + lut_trend[regions] * rel_y[..., None]
        img += lut_ax1[regions] * a1[..., None]
        img += lut_ax2[regions] * (0.5 * a2[..., None])
        np.clip(img, 0, 255, out=img)
        timings["fill"] = time.perf_counter() - t0
        context.check_cancel()
        context.progress(0.5, "painterly filter")

        # 6. painterly filter
        t0 = time.perf_counter()
        radius = opts.radius or max(2, round(min(h, w) / 180))
        img = _kuwahara(img, radius)
        timings["kuwahara"] = time.perf_counter() - t0
        context.check_cancel()
        context.progress(0.85, "laying the lines back on")

        # 7. lines, softly: darken the local colour where the layout has ink
        alpha = (255.0 - request.lines.astype(np.float32)) / 255.0
        alpha = ndimage.gaussian_filter(alpha, 0.6, mode="reflect") * opts.line_strength
        img = img * (1.0 - 0.65 * alpha[..., None])
        out = np.clip(img + 0.5, 0, 255).astype(np.uint8)

        # 8. retake: outside the mask the result is the parent image, exactly (a hard edge: the
        # painterly filter already softens the painting at the mask's border)
        if request.mask is not None and request.init is not None:
            out = composite_retake(request.init, out, request.mask, 0)
        timings["total"] = time.perf_counter() - t_start
        context.progress(1.0, "done")
        return RenderResult(
            image=out,
            source_map=None,
            recipe={
                "engine": self.name,
                "engine_version": self.version,
                "seed": request.seed,
                "options": {**opts.model_dump(), "radius": radius},
                "boards": [b.key for b in chosen],
                "boards_used": [b.key for b in chosen],
                "painted_from": {vocab.name_of(c): vocab.name_of(t) for c, t in sorted(painted_from.items())},
            },
            warnings=warnings,
            timings=timings,
        )


def create(config: Mapping[str, Any]) -> BaselineEngine:
    """Entry-point factory; ``config`` ([engines.baseline] in haikei.toml) sets default options."""
    return BaselineEngine(config)

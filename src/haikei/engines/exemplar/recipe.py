"""The recipe of a render: every resolved parameter, board and class plan (it is the cache key)."""

from __future__ import annotations

from typing import Any

from haikei.engines.base import RenderRequest
from haikei.engines.exemplar.boards import board_scores
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.exemplar.plan import Plan, Pyramid, Window

__all__ = [
    "ENGINE_NAME",
    "ENGINE_VERSION",
    "LINE_TREATMENT",
    "PAINT_TREATMENT",
    "build_recipe",
    "flags",
    "variant_recipe",
]

ENGINE_NAME = "exemplar"
# 1.1: line styles, derived palettes, foliage form, paddies, location match (issues 17, 18)
ENGINE_VERSION = "1.1.0"

LINE_TREATMENT = (
    "natural areas: layout lines steer light/shade through the side-aware guide and darken the paint "
    "multiplicatively (line_darkening, weight varying along the line); man-made areas: crisp lines in "
    "the palette's darkest colour"
)
PAINT_TREATMENT = (
    "line_style paint: layout lines steer light/shade through the side-aware guide; in natural areas each "
    "stroke becomes form (lighter on the side facing the light, darker on the other, line_form); region "
    "borders and man-made faces meet as colour / value edges, with no drawn line"
)


def build_recipe(
    request: RenderRequest,
    opts: ExemplarOptions,
    plan: Plan,
    mode: str,
    structured: dict[str, list[str]],
    search_size: tuple[int, int],
    pyr: Pyramid,
    window: Window,
) -> dict[str, Any]:
    """The recipe of a render, retake or refine (``mode``)."""
    vocab = request.vocabulary
    scores = board_scores(request.boards, request.direction)
    plans = plan.classes
    return {
        "engine": ENGINE_NAME,
        "engine_version": ENGINE_VERSION,
        "mode": mode,
        "seed": request.seed,
        "options": opts.model_dump(),
        "direction_tags": sorted(request.direction.tags()),
        "boards": [
            {
                "index": i,
                "key": b.key,
                "name": b.name,
                "artist": b.artist,
                "tags": sorted(b.tags),
                "tag_score": scores[i],
                "scale": round(plan.scales[i], 6),
            }
            for i, b in enumerate(request.boards)
        ],
        "classes": {
            vocab.name_of(c): {
                "painted_from": p.describe(vocab),
                "plan": p.kind,
                "fallback": p.is_fallback,
                "boards": [request.boards[b].key for b in p.boards],
                "painter": "structured" if vocab.classes[c].man_made else ("patch" if p.patch else "palette"),
            }
            for c, p in sorted(plans.items())
        },
        "fallbacks": {vocab.name_of(c): p.describe(vocab) for c, p in sorted(plans.items()) if p.is_fallback},
        "flags": flags(request, plan),
        "boards_used": sorted({request.boards[b].key for p in plans.values() for b in p.boards}),
        "patch_boards": [request.boards[b].key for b in plan.patch_boards],
        "structured_classes": sorted(structured),
        "search_size": list(search_size),
        "levels": pyr.levels,
        "window": list(window.box),
        "line_treatment": PAINT_TREATMENT if opts.line_style == "paint" else LINE_TREATMENT,
    }


def variant_recipe(
    request: RenderRequest, opts: ExemplarOptions, plan: Plan, boards: list[int]
) -> dict[str, Any]:
    """The recipe of a variant: the parent's plan re-voted over the ``boards``' repaints."""
    vocab = request.vocabulary
    return {
        "engine": ENGINE_NAME,
        "engine_version": ENGINE_VERSION,
        "mode": "variant",
        "variant": request.variant,
        "seed": request.seed,
        "options": opts.model_dump(),
        "boards": [
            {"index": b, "key": request.boards[b].key, "name": request.boards[b].name} for b in boards
        ],
        # credits and C2PA ingredients name the boards a variant painted from: those whose repaints it used
        "boards_used": sorted({request.boards[b].key for b in boards}),
        "classes": {
            vocab.name_of(c): {"painted_from": p.describe(vocab), "fallback": p.is_fallback}
            for c, p in sorted(plan.classes.items())
        },
        "flags": flags(request, plan),
    }


def flags(request: RenderRequest, plan: Plan) -> dict[str, str]:
    """Class name -> what a reviewer must know about it: "no board shows it; painted from a derived
    palette" for a class no board shows, not even along its fallbacks."""
    vocab = request.vocabulary
    return {vocab.name_of(c): p.flag for c, p in sorted(plan.classes.items()) if p.flag is not None}

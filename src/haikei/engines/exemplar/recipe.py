"""The recipe of a render: every resolved parameter, board and class plan (it is the cache key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from haikei.engines.base import RenderRequest
from haikei.engines.exemplar.boards import ClassPlan, board_scores
from haikei.engines.exemplar.options import ExemplarOptions

if TYPE_CHECKING:
    from haikei.engines.exemplar.engine import ExemplarEngine

__all__ = ["LINE_TREATMENT", "build_recipe"]

LINE_TREATMENT = (
    "natural areas: layout lines steer light/shade through the side-aware guide and darken the paint "
    "multiplicatively (line_darkening, weight varying along the line); man-made areas: crisp lines in "
    "the palette's darkest colour"
)


def build_recipe(
    engine: ExemplarEngine,
    request: RenderRequest,
    opts: ExemplarOptions,
    plans: dict[int, ClassPlan],
    mode: str,
    scales: dict[int, float],
    used_boards: list[int],
    structured: dict[str, list[str]],
    search_size: tuple[int, int],
    levels: int,
    window: tuple[int, int, int, int],
) -> dict[str, Any]:
    vocab = request.vocabulary
    scores = board_scores(request.boards, request.direction)
    return {
        "engine": engine.name,
        "version": engine.version,
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
                "scale": round(scales[i], 6),
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
        "boards_used": sorted({request.boards[b].key for p in plans.values() for b in p.boards}),
        "patch_boards": [request.boards[b].key for b in used_boards],
        "structured_classes": sorted(structured),
        "search_size": list(search_size),
        "levels": levels,
        "window": list(window),
        "line_treatment": LINE_TREATMENT,
    }

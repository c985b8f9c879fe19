"""The built-in painter: guided, label-constrained PatchMatch over the studio's own art boards.

Read :meth:`ExemplarEngine.render` top to bottom: its numbered steps are the three stages, each a
named function returning a small frozen dataclass.

1. plan (:mod:`.plan`): the window to paint, how each class is painted and from which board
   (:class:`.plan.Plan`), the pyramid;
2. synthesise (:mod:`.synthesis`): natural classes (sky, mountain, water, trees ...) copied
   coarse-to-fine from the boards' pixels of the same class (or its fallback), then voted at full
   size from the boards' real paint;
3. compose (:mod:`.compose`): palette classes (man-made faces, derived surfaces, clouds), the
   layout's lines laid in softly, a retake put into its parent.

A variant (:mod:`.variant`) re-votes the parent's correspondences from the same plan.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel

from haikei.engines.base import (
    ALGORITHMIC_MEDIA,
    EngineContext,
    RenderRequest,
    RenderResult,
    check_common_inputs,
    parse_config,
    parse_options,
)
from haikei.engines.exemplar.adjust import adjust_retake, keep_paint_over
from haikei.engines.exemplar.cache import BoundedCache
from haikei.engines.exemplar.compose import into_frame, lay_in, paint_palettes, to_8bit
from haikei.engines.exemplar.lines import choose_line_style
from haikei.engines.exemplar.location import match_location
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.exemplar.plan import Plan, Pyramid, Window, find_window, make_plan, pyramid
from haikei.engines.exemplar.recipe import ENGINE_NAME, ENGINE_VERSION, build_recipe
from haikei.engines.exemplar.synthesis import (
    SynthesisCache,
    classes_without_paint,
    layout_guides,
    prepare_boards,
    search,
    vote_full,
)
from haikei.engines.exemplar.variant import VariantCache, render_variant, variant_plan

__all__ = ["ExemplarEngine"]


class ExemplarEngine:
    """Paints layouts from labelled art boards; learns nothing, copies only the studio's boards."""

    name: ClassVar[str] = ENGINE_NAME
    version: ClassVar[str] = ENGINE_VERSION
    digital_source_type: ClassVar[str] = ALGORITHMIC_MEDIA
    options_model: ClassVar[type[BaseModel]] = ExemplarOptions

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self._defaults = dict(config or {})
        parse_config(ExemplarOptions, self.name, self._defaults)  # a bad [engines.exemplar] fails at start-up
        # what depends on the boards alone, kept between renders (bounded; see .cache)
        self.synthesis_cache = SynthesisCache()
        self.variant_cache = VariantCache()
        # per request (boards, layout, window, options): the classes the plan had to derive or
        # release after the coarse-level check, so a render of the same request plans once
        self.plan_memo: BoundedCache[tuple[object, ...], tuple[frozenset[int], frozenset[int]]] = (
            BoundedCache(32, "plan decisions")
        )

    def options(self, given: Mapping[str, Any]) -> ExemplarOptions:
        """A render's options over the engine's ``[engines.exemplar]`` defaults (RenderRefused if bad)."""
        return parse_options(ExemplarOptions, self.name, given, self._defaults)

    def render(self, request: RenderRequest, context: EngineContext) -> RenderResult:
        t_start = time.perf_counter()
        timings: dict[str, float] = {}

        # 1. check inputs and options; a variant re-votes its parent's plan (no search)
        check_common_inputs(request)
        context.check_cancel()
        opts = self.options(request.options)
        if request.variant is not None:
            vplan = variant_plan(request, opts)
            vstyle = choose_line_style(request, opts.line_style, vplan)
            vopts = opts.model_copy(update={"line_style": vstyle.used})
            # ... a painted-over parent (mask: the artist's paint): the paint re-coloured, kept (.adjust)
            variant = render_variant(request, context, vopts, vplan, self.variant_cache)
            return keep_paint_over(request, variant)
        context.progress(0.0, "preparing")
        mode = "retake" if request.mask is not None else ("refine" if request.init is not None else "render")

        # 2. plan: the window to paint (the frame, or a retake mask's box plus margin) ...
        window = find_window(request, opts)
        # ... each class's plan (own board paint, fallback, derived palette, cloud) or a refusal ...
        plan = make_plan(request, opts, window.crop(request.regions))
        context.check_cancel()
        # ... and the pyramid: working level (long side <= search_max_side) and the levels below it
        pyr = pyramid(opts, (request.height, request.width), window.shape)
        # ... and how the layout's lines go in: auto reads the boards' own borders (outlines or not)
        line_style = choose_line_style(request, opts.line_style, plan)
        opts = opts.model_copy(update={"line_style": line_style.used})

        # ... a class whose paint on the boards vanishes at the coarse levels (a small object on a
        # board) is derived from the boards' colours instead, and flagged, rather than refused (a
        # class planned from a location board that shows too little of it is planned again without
        # the location boards: from the production's boards, even one that left it to them; derived
        # only if their paint vanishes too). What that check found for this request is remembered:
        # a render of the same request plans once, and builds no atlases for a plan it drops
        memo_key = _plan_key(request, opts, window, pyr)
        known = self.plan_memo.get(memo_key)

        def replan(derive: frozenset[int], released: frozenset[int]) -> Plan:
            return make_plan(request, opts, window.crop(request.regions), derive=derive, released=released)

        if known is not None and (known[0] or known[1]):
            plan = replan(*known)

        # 3. the boards at the render's scale, with their guides per level (kept on the engine)
        preps = prepare_boards(request, opts, plan, pyr, self.synthesis_cache)
        timings["prepare_boards"] = time.perf_counter() - t_start
        context.check_cancel()
        context.progress(0.05, "guides")

        # 4. the layout's guides at the working size (position + noise, side-aware lines, orientation)
        t = time.perf_counter()
        guides = layout_guides(request, opts, plan, window, pyr)
        if known is None:
            derive: frozenset[int] = frozenset()
            released: frozenset[int] = frozenset()
            short = classes_without_paint(request, plan, pyr, guides, preps, self.synthesis_cache)
            if short:
                released = frozenset(
                    c for c in short if any(request.boards[b].location for b in plan.classes[c].boards)
                )
                derive = short - released
                plan = replan(derive, released)
                preps = prepare_boards(request, opts, plan, pyr, self.synthesis_cache)
                guides = layout_guides(request, opts, plan, window, pyr)
                again = (
                    classes_without_paint(request, plan, pyr, guides, preps, self.synthesis_cache)
                    if released
                    else frozenset()
                )
                if again:
                    derive = derive | again
                    plan = replan(derive, released)
                    preps = prepare_boards(request, opts, plan, pyr, self.synthesis_cache)
                    guides = layout_guides(request, opts, plan, window, pyr)
            self.plan_memo.put(memo_key, (derive, released))
        timings["guides"] = time.perf_counter() - t
        context.check_cancel()

        # 5. synthesise: coarse-to-fine guided PatchMatch with the hard label constraint
        t = time.perf_counter()
        matches = search(request, opts, plan, pyr, guides, preps, self.synthesis_cache, context, timings)
        timings["search"] = time.perf_counter() - t
        context.check_cancel()
        context.progress(0.82, "painting")

        # 6. ... carry the matches to full size and vote the boards' real paint, seams blended
        t = time.perf_counter()
        paint = vote_full(request, opts, plan, pyr, guides, matches, preps, self.synthesis_cache, context)
        timings["vote"] = time.perf_counter() - t
        context.check_cancel()
        context.progress(0.9, "man-made areas")

        # 7. compose: palette classes (man-made faces, derived surfaces, clouds: board grain, brushwork)
        t = time.perf_counter()
        canvas = paint.canvas
        structured, soft_mask = paint_palettes(
            request, opts, plan, window.crop(request.regions), guides.ink, guides.light, canvas
        )
        timings["structured"] = time.perf_counter() - t

        # 8. ... lines in natural areas: soft multiplicative darkening (shade, not black ink)
        lay_in(
            canvas,
            (guides.slots_full >= 0) | soft_mask,
            guides.ink,
            opts,
            (request.height, request.width),
            request.seed,
            faces=guides.slots_full < 0,
            line=line_style.line,
            glazed=soft_mask,  # the glaze evens palette paint only; copied paint carries the board's own
        )
        painted = to_8bit(canvas)
        # ... classes painted from a location board (an approved BG of the place) in that board's tones
        names = {c: request.vocabulary.name_of(c) for c in plan.classes}
        painted, located = match_location(
            painted, window.crop(request.regions), request.boards, plan, names, self.synthesis_cache.location
        )
        # ... a retake note's colour words: the masked area toward the boards' paint that answers them
        sources = {c: (p.source, p.boards) for c, p in plan.classes.items()}
        painted, adjusted = adjust_retake(request, opts.palette_adjust, sources, window.slices, painted)

        # 9. ... a retake only inside its mask, feathered inside its edge; elsewhere the parent byte for byte
        image, source_map = into_frame(request, opts, window, painted, paint.source_map)

        # 10. the result and its recipe
        timings["total"] = time.perf_counter() - t_start
        recipe = build_recipe(request, opts, plan, mode, structured, guides.search_size, pyr, window)
        recipe["line_style"] = line_style.as_dict()
        if adjusted is not None:
            recipe["palette_adjust"] = adjusted
        if located is not None:
            recipe["location_match"] = located.as_recipe()
        context.progress(1.0, "done")
        return RenderResult(
            image=image, source_map=source_map, recipe=recipe, warnings=list(plan.warnings), timings=timings
        )


def _plan_key(
    request: RenderRequest, opts: ExemplarOptions, window: Window, pyr: Pyramid
) -> tuple[object, ...]:
    """What the plan and the coarse-level check depend on: the boards (image key, a digest of their
    labels, what they leave to or take from a location), the layout's region map, the direction,
    the window, the pyramid and the options."""

    def digest(a: np.ndarray) -> str:
        return hashlib.blake2b(np.ascontiguousarray(a).data, digest_size=16).hexdigest()

    boards = tuple(
        (
            b.key,
            digest(b.labels),
            b.labels.shape,
            tuple(sorted(b.tags)),
            b.location,
            tuple(sorted(b.withheld)),
            None if b.paints is None else tuple(sorted(b.paints)),
        )
        for b in request.boards
    )
    return (
        boards,
        digest(request.regions),
        request.regions.shape,
        tuple(sorted(request.direction.tags())),
        (window.y0, window.y1, window.x0, window.x1),
        (pyr.f, pyr.levels),
        opts.model_dump_json(),
    )

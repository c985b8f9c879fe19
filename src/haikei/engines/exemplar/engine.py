"""The built-in painter: guided, label-constrained PatchMatch over the studio's own art boards.

Read ``render`` top to bottom. Natural classes (sky, mountain, water, trees ...) are synthesised
coarse-to-fine from the boards' pixels of the same class (or its fallback); man-made classes are
painted by :mod:`.structured`; then the layout's lines are laid in softly (see the package doc).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import ValidationError
from scipy import ndimage

from haikei.engines.base import (
    ALGORITHMIC_MEDIA,
    BoardInput,
    EngineContext,
    RenderRequest,
    RenderResult,
    check_common_inputs,
)
from haikei.engines.exemplar import guides as G
from haikei.engines.exemplar import kernels as K
from haikei.engines.exemplar import variant_kernels as VK
from haikei.engines.exemplar.atlas import Atlas, build_atlas, candidates, resize, up2
from haikei.engines.exemplar.blur import normalised_blur
from haikei.engines.exemplar.boards import ClassPlan, plan_classes
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.exemplar.painters import lay_in_lines, paint_palette_classes
from haikei.engines.exemplar.recipe import build_recipe
from haikei.errors import InputError, RenderRefused

__all__ = ["ExemplarEngine"]


@dataclass
class _BoardPrep:
    """One board at the render's scale: full-resolution paint plus search-level features."""

    rgb: np.ndarray  # scaled full-resolution uint8
    labels: np.ndarray  # scaled full-resolution labels
    col: list[np.ndarray]  # per level (0 = working size) colour features
    gd: list[np.ndarray]  # per level guides (pos y, pos x, side, cos, sin), unweighted
    lab: list[np.ndarray]  # per level labels


def pyramid(opts: ExemplarOptions, frame: tuple[int, int], window: tuple[int, int]) -> tuple[int, int]:
    """(f, levels): the working level is the frame shrunk by f = 2**k, searched at half the output size,
    at least search_max_side/2 and at most search_max_side on its long side; ``levels`` halvings of the
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
    return f, levels


def wide_level(opts: ExemplarOptions, f: int, levels: int) -> tuple[int, int]:
    """The seam blend's wide vote (step 8): its size divisor from the frame and its radius there. A
    level below the working size when the pyramid has one (a quarter of the work), else the working
    level. Variants read it to blend as their parent did."""
    if levels > 1:
        return 2 * f, max(1, opts.seam_blend // 2)
    return f, opts.seam_blend


class ExemplarEngine:
    """Paints layouts from labelled art boards; learns nothing, copies only the studio's boards."""

    name: ClassVar[str] = "exemplar"
    version: ClassVar[str] = "1.0.0"
    digital_source_type: ClassVar[str] = ALGORITHMIC_MEDIA
    options_model: ClassVar[type[ExemplarOptions]] = ExemplarOptions

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self._defaults = dict(config or {})
        self._board_cache: dict[tuple[Any, ...], _BoardPrep] = {}
        # atlases and candidate lists depend only on the cached boards (and the class plan):
        # a second render of the same production reuses them
        self._atlas_cache: dict[
            tuple[Any, ...], tuple[Atlas, tuple[_BoardPrep, ...], tuple[dict[Any, Any], dict[Any, Any]]]
        ] = {}
        # variants: what the re-vote reads from the boards and their repaint (see variant.py)
        self._variant_cache: dict[tuple[Any, ...], Any] = {}
        self._variant_palettes: dict[tuple[Any, ...], dict[int, np.ndarray]] = {}
        self._options(self._defaults)  # refuse a bad [engines.exemplar] table at start-up

    # -- helpers ------------------------------------------------------------------------------
    def _options(self, given: Any) -> ExemplarOptions:
        try:
            return ExemplarOptions(**{**self._defaults, **dict(given)})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InputError(f"exemplar option {where}: {first['msg']}") from None

    @staticmethod
    def _scale(opts: ExemplarOptions, board: BoardInput, h: int, w: int, *, enlarge: bool = False) -> float:
        """The board's scale for an h x w frame: as a full frame, never enlarged unless ``enlarge``."""
        if opts.board_scale is not None:
            return float(opts.board_scale)
        bh, bw = board.image.shape[:2]
        full_frame = max(h / bh, w / bw)
        return full_frame if enlarge else min(1.0, full_frame)

    def _prep_board(
        self, board: BoardInput, scale: float, k: int, levels: int, opts: ExemplarOptions
    ) -> _BoardPrep:
        # a prep with more levels serves a request for fewer (its lists are indexed by level): a retake's
        # window is smaller than the frame its parent painted, so it reuses the parent's prep
        key = (board.key, board.image.shape, scale, k, opts.line_falloff, opts.board_edge_quantile)
        hit = self._board_cache.get(key)
        if hit is not None and len(hit.col) >= levels:
            return hit
        bh, bw = board.image.shape[:2]
        sw, sh = max(1, round(bw * scale)), max(1, round(bh * scale))
        rgb = resize(board.image, sw, sh, nearest=False)
        raw_full = resize(board.labels, sw, sh, nearest=True)
        f = 2**k
        lab_full = G.clean_labels(rgb, raw_full, erode=max(1, f))
        col = G.colour_features(rgb)
        for _ in range(k):
            col = G.downsample_mean(col)
        lab = np.ascontiguousarray(lab_full[::f, ::f])
        edges = G.board_edges(col[..., 0], np.ascontiguousarray(raw_full[::f, ::f]), opts.board_edge_quantile)
        gd = np.concatenate(
            [
                G.position_guides(lab, per_component=False),
                G.line_guides(edges, tau=opts.line_falloff, luminance=col[..., 0]),
            ],
            axis=-1,
        )
        cols, gds, labs = [col], [gd], [lab]
        for _ in range(1, levels):
            cols.append(G.downsample_mean(cols[-1]))
            gds.append(G.downsample_mean(gds[-1]))
            labs.append(np.ascontiguousarray(labs[-1][::2, ::2]))
        prep = _BoardPrep(rgb, lab_full, cols, gds, labs)
        self._board_cache.pop(key, None)  # a shallower prep of the same board is replaced
        if len(self._board_cache) >= 8:
            self._board_cache.pop(next(iter(self._board_cache)))
        self._board_cache[key] = prep
        return prep

    def _atlas(self, preps: dict[int, _BoardPrep], n_boards: int, level: int | None, gw: np.ndarray) -> Atlas:
        """The boards stacked at one search level (``None``: their full-resolution paint), cached."""
        used = tuple(sorted(preps))
        # the cache entry holds the preps themselves, so their ids cannot be reused while it lives
        key = (tuple(id(preps[b]) for b in used), used, n_boards, level, gw.tobytes())
        hit = self._atlas_cache.get(key)
        if hit is not None:
            return hit[0]
        if level is None:
            parts = {
                b: (
                    preps[b].rgb.astype(np.float32),
                    preps[b].rgb[..., :0].astype(np.float32),
                    preps[b].labels,
                )
                for b in used
            }
        else:
            parts = {b: (preps[b].col[level], preps[b].gd[level], preps[b].lab[level]) for b in used}
        atlas = build_atlas(parts, n_boards, gw)
        if len(self._atlas_cache) >= 10:  # a render at one size uses up to 7 (levels + full size)
            self._atlas_cache.pop(next(iter(self._atlas_cache)))
        self._atlas_cache[key] = (atlas, tuple(preps[b] for b in used), ({}, {}))
        return atlas

    def _extras(self, atlas: Atlas) -> tuple[dict[Any, Any], dict[Any, Any]] | None:
        """What is cached with a cached atlas: (candidate lists per plan, low-passes per blur)."""
        for entry in self._atlas_cache.values():
            if entry[0] is atlas:
                return entry[2]
        return None

    def _candidates(self, atlas: Atlas, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per class slot, the atlas positions it may copy from; cached with the atlas, per plan."""
        extras = self._extras(atlas)
        if extras is None:
            return candidates(atlas.skey, allowed)
        per_plan = extras[0]
        key = (allowed.shape, allowed.tobytes())
        hit = per_plan.get(key)
        if hit is None:
            hit = candidates(atlas.skey, allowed)
            if len(per_plan) >= 4:
                per_plan.pop(next(iter(per_plan)))
            per_plan[key] = hit
        return hit

    # -- the render ---------------------------------------------------------------------------
    def render(self, request: RenderRequest, context: EngineContext) -> RenderResult:
        t_start = time.perf_counter()
        timings: dict[str, float] = {}

        # 1. check inputs and options
        check_common_inputs(request)
        context.check_cancel()
        opts = self._options(request.options)
        if request.variant is not None:
            from haikei.engines.exemplar.variant import render_variant

            return render_variant(self, request, context, opts)
        context.progress(0.0, "preparing")
        full_h, full_w = request.height, request.width
        mode = "retake" if request.mask is not None else ("refine" if request.init is not None else "render")
        if mode == "retake" and not request.mask.any():  # type: ignore[union-attr]
            raise RenderRefused("the retake mask is empty; mark the area to repaint")

        # 2. the window to paint: the whole frame, or the mask's bounding box plus margin
        if request.mask is not None:
            ys, xs = np.nonzero(request.mask)
            m = opts.retake_margin + opts.patch_size
            wy0, wy1 = max(0, int(ys.min()) - m), min(full_h, int(ys.max()) + 1 + m)
            wx0, wx1 = max(0, int(xs.min()) - m), min(full_w, int(xs.max()) + 1 + m)
        else:
            wy0, wy1, wx0, wx1 = 0, full_h, 0, full_w
        win = (slice(wy0, wy1), slice(wx0, wx1))
        lines, regions = request.lines[win], request.regions[win]
        init = request.init[win] if request.init is not None else None
        mask = request.mask[win] if request.mask is not None else None
        h, w = regions.shape

        # 3. choose a plan per class (own board paint, fallback, derived palette, cloud) or refuse
        vocab = request.vocabulary
        present = [int(c) for c in np.flatnonzero(np.bincount(regions.ravel(), minlength=256))]
        scales = {b: self._scale(opts, request.boards[b], full_h, full_w) for b in range(len(request.boards))}
        plans, warnings = self._plan(request, opts, present)
        natural = [c for c in present if plans[c].patch and not vocab.classes[c].man_made]
        palette_classes = [c for c in present if c not in natural]
        slots = {c: i for i, c in enumerate(natural)}
        used_boards = sorted({b for c in natural for b in plans[c].boards})
        allowed = np.zeros((max(1, len(natural)), len(request.boards) * 256), np.uint8)
        for c, s in slots.items():
            for b in plans[c].boards:
                allowed[s, b * 256 + plans[c].source] = 1
        context.check_cancel()

        # 4. sizes: working level (long side <= search_max_side) and pyramid below it
        f, levels = pyramid(opts, (full_h, full_w), (h, w))
        k = f.bit_length() - 1
        r = opts.patch_size // 2
        rng = np.random.default_rng([request.seed, 0x6861696B])
        light = (-math.sin(math.radians(opts.light_angle)), math.cos(math.radians(opts.light_angle)))
        gw = np.sqrt(
            np.array(
                [
                    opts.position_weight,
                    opts.position_weight,
                    opts.line_weight,
                    opts.orientation_weight,
                    opts.orientation_weight,
                ],
                np.float32,
            )
        )

        # 5. boards at the render's scale, with their guides per level (cached per engine)
        preps = {b: self._prep_board(request.boards[b], scales[b], k, levels, opts) for b in used_boards}
        timings["prepare_boards"] = time.perf_counter() - t_start
        context.check_cancel()
        context.progress(0.05, "guides")

        # 6. layout guides at the working size (position + noise, side-aware lines, orientation)
        t = time.perf_counter()
        ink_full = 1.0 - lines.astype(np.float32) / 255.0
        ink = ink_full
        for _ in range(k):
            ink = G.downsample_mean(ink)
        reg0 = np.ascontiguousarray(regions[::f, ::f])
        h0, w0 = reg0.shape
        cell = max(8.0, min(h0, w0) / 5.0)
        noise = (G.smooth_noise(h0, w0, rng, cell), G.smooth_noise(h0, w0, rng, cell))
        line_mask = (ink > 0.35) | G.label_borders(reg0)
        tgd0 = (
            np.concatenate(
                [
                    G.position_guides(
                        reg0, per_component=True, noise=noise, noise_amount=opts.position_noise
                    ),
                    G.line_guides(line_mask, tau=opts.line_falloff, light=light),
                ],
                axis=-1,
            )
            * gw
        )
        slot_lut = np.full(256, -1, np.int32)
        for c, s in slots.items():
            slot_lut[c] = s
        tcls_full = slot_lut[regions]
        tgds, tclss = [np.ascontiguousarray(tgd0, dtype=np.float32)], [np.ascontiguousarray(slot_lut[reg0])]
        for _ in range(1, levels):
            tgds.append(G.downsample_mean(tgds[-1]))
            tclss.append(np.ascontiguousarray(tclss[-1][::2, ::2]))
        init_feats: list[np.ndarray] = []
        if init is not None:
            fi = G.colour_features(init)
            for _ in range(k):
                fi = G.downsample_mean(fi)
            init_feats = [fi]
            for _ in range(1, levels):
                init_feats.append(G.downsample_mean(init_feats[-1]))
        pin: list[np.ndarray] = []
        if mask is not None:
            mk = mask[::f, ::f]
            pin = [np.ascontiguousarray(~mk)]
            for _ in range(1, levels):
                pin.append(np.ascontiguousarray(pin[-1][::2, ::2]))
        timings["guides"] = time.perf_counter() - t
        context.check_cancel()

        # 7. coarse-to-fine guided PatchMatch with the hard label constraint
        t = time.perf_counter()
        nnf = cost = est = None
        atlas = prev_atlas = None
        coarse: tuple[Atlas, np.ndarray, np.ndarray] | None = None
        seed = np.uint64(request.seed & 0xFFFFFFFFFFFF)
        total_work = sum(4.0**-i for i in range(levels))
        done_work = 0.0
        has_natural = bool(natural)
        for lvl in range(levels - 1, -1, -1) if has_natural else []:
            t_lvl = time.perf_counter()
            tcls = tclss[lvl]
            hl, wl = tcls.shape
            atlas = self._atlas(preps, len(request.boards), lvl, gw)
            cand_ptr, cand, counts = self._candidates(atlas, allowed)
            for c, s in slots.items():
                if counts[s] == 0 and (tcls == s).any():
                    raise RenderRefused(f"the art boards are too small to paint class '{vocab.name_of(c)}'")
            n_t = np.bincount(tcls[tcls >= 0], minlength=len(slots)).astype(np.float64)
            expect = np.maximum(1.0, n_t / np.maximum(counts, 1))
            lam_e = (opts.occurrence_weight / expect).astype(np.float32)
            # colour estimate for this level
            if lvl == levels - 1:
                est = init_feats[lvl].copy() if init_feats else np.zeros((hl, wl, 3), np.float32)
                wcol = opts.colour_weight if mode == "refine" else 0.0
            else:
                est = up2(est, (hl, wl))  # type: ignore[arg-type]
                if mode == "refine":
                    a = opts.refine_strength
                    est = np.ascontiguousarray((1 - a) * est + a * init_feats[lvl], dtype=np.float32)
                wcol = opts.colour_weight
            if pin:
                est[pin[lvl]] = init_feats[lvl][pin[lvl]]
            # matches: random at the coarsest level, carried up from the level below otherwise
            new_nnf = np.zeros((hl, wl, 2), np.int32)
            new_cost = np.zeros((hl, wl), np.float32)
            if nnf is None:
                K.init_random(tcls, cand_ptr, cand, seed, new_nnf, new_cost)
            else:
                assert prev_atlas is not None
                K.upsample_nnf(
                    nnf,
                    cost,
                    tcls,
                    prev_atlas.skey,
                    prev_atlas.y0,
                    prev_atlas.x0,
                    atlas.y0,
                    atlas.x0,
                    atlas.hb,
                    atlas.wb,
                    2,
                    new_nnf,
                    new_cost,
                )
                K.fix_invalid(tcls, atlas.skey, allowed, cand_ptr, cand, seed, 6, new_nnf)
            nnf, cost = new_nnf, new_cost
            sw = np.float32(math.sqrt(wcol))
            tf = np.ascontiguousarray(np.concatenate([est * sw, tgds[lvl]], axis=-1))
            sf = np.ascontiguousarray(np.concatenate([atlas.col * sw, atlas.gd], axis=-1))
            K.recompute_cost(tf, sf, tcls, nnf, r, cost)
            # the coarsest level searches hardest; finer levels mostly refine what was carried up
            iters = opts.iterations if lvl == levels - 1 else max(1, opts.iterations // (2 if lvl else 4))
            # the random search's first window: wide on coarse levels; on the working level the
            # matches were carried up from a level searched with a window twice as wide in its own
            # pixels, so only local refinement is left (a 16-px start there cost ~40 % of that level
            # at 1080p and changed no bench metric by more than .02; crops looked the same)
            radius0 = 4 if lvl == 0 and levels > 1 else max(4, min(16, max(hl, wl) // 8))
            for it in range(iters):
                context.check_cancel()
                occ = K.count_occurrences(tcls, nnf, atlas.skey.shape[0], atlas.skey.shape[1])
                K.patchmatch_iteration(
                    tf,
                    sf,
                    tcls,
                    atlas.skey,
                    allowed,
                    cand_ptr,
                    cand,
                    occ,
                    lam_e,
                    nnf,
                    cost,
                    r,
                    seed,
                    it + 16 * lvl,
                    16,
                    1,
                    radius0,
                )
                done_work += 4**-lvl / iters
                context.progress(0.05 + 0.75 * done_work / total_work, f"searching level {lvl}")
            context.check_cancel()
            # match-weighted vote -> this level's painting estimate
            valid = cost[tcls >= 0]
            sigma = float(np.median(valid)) if valid.size else 1.0
            weight = self._weights(cost, sigma, opts.vote_sharpness)
            new_est = est.copy()
            K.vote(atlas.col, atlas.skey, allowed, tcls, nnf, weight, 0, r, new_est)
            est = new_est
            if lvl == 1:  # the seam blend's wide vote works a level below the working size
                coarse = (atlas, nnf, weight)
            prev_atlas = atlas
            timings[f"level{lvl}"] = time.perf_counter() - t_lvl
        timings["search"] = time.perf_counter() - t
        context.check_cancel()
        context.progress(0.82, "painting")

        # 8. full resolution: carry matches up, vote the boards' real paint
        t = time.perf_counter()
        canvas = np.zeros((h, w, 3), np.float32)
        src_map = np.full((h, w, 3), -1, np.int32)
        if has_natural:
            assert nnf is not None and cost is not None and atlas is not None
            full = self._atlas(preps, len(request.boards), None, np.zeros(0, np.float32))
            if k > 0:
                nnf_full = np.zeros((h, w, 2), np.int32)
                cost_full = np.zeros((h, w), np.float32)
                K.upsample_nnf(
                    nnf,
                    cost,
                    tcls_full,
                    atlas.skey,
                    atlas.y0,
                    atlas.x0,
                    full.y0,
                    full.x0,
                    full.hb,
                    full.wb,
                    f,
                    nnf_full,
                    cost_full,
                )
                cand_ptr, cand, _ = self._candidates(full, allowed)
                K.fix_invalid(tcls_full, full.skey, allowed, cand_ptr, cand, seed, 2 * f + 2, nnf_full)
            else:
                nnf_full = nnf
            context.check_cancel()
            valid = cost[tclss[0] >= 0]
            weight = self._weights(cost, float(np.median(valid)) if valid.size else 1.0, opts.vote_sharpness)
            # carried-up matches are coherent in chunks of many f x f blocks, and chunks that copy
            # differently toned places of a board meet in a hard step (rectangular blocks in a forest, a
            # stair-stepped cliff). With the seam blend their low frequencies are re-voted over a wide
            # neighbourhood a level below the working size and swapped in (K.vote_blended); the fine
            # vote then needs only half the patch radius (9 taps, not 25: the blend pays for itself).
            # Without it, voting with the full radius softens the seams a little (f // 2 left them
            # hard: line F1 precision lake .53 -> .56, forest .44 -> .48; the blend: forest .49 -> .65)
            r_full = max(1, r // 2) if opts.seam_blend > 0 else r
            if opts.seam_blend > 0:
                c_f, c_radius = wide_level(opts, f, levels)
                if coarse is not None:  # levels > 1: the level below the working size
                    c_atlas, c_nnf, c_weight = coarse
                    c_tcls = tclss[1]
                else:
                    c_atlas, c_nnf, c_weight, c_tcls = atlas, nnf, weight, tclss[0]
                wide = np.zeros((*c_tcls.shape, 3), np.float32)
                lp = self._lowpass(c_atlas, c_radius / 2.0, rgb=False)
                K.vote(lp, c_atlas.skey, allowed, c_tcls, c_nnf, c_weight, 0, c_radius, wide)
                paint_lp = self._lowpass(full, c_f * c_radius / 2.0, rgb=True)
                K.vote_blended(
                    full.col,
                    paint_lp,
                    full.skey,
                    allowed,
                    tcls_full,
                    nnf_full,
                    weight,
                    k,
                    r_full,
                    wide,
                    c_tcls,
                    c_f,
                    canvas,
                )
            else:
                K.vote(full.col, full.skey, allowed, tcls_full, nnf_full, weight, k, r_full, canvas)
            canvas *= 1.0 / 255.0
            n_b = len(request.boards)
            used = np.zeros(n_b, np.bool_)
            used[used_boards] = True
            K.source_map(
                tcls_full,
                nnf_full,
                full.skey,
                full.y0,
                full.x0,
                used,
                np.array([scales[b] for b in range(n_b)], np.float64),
                np.array([bd.image.shape[0] for bd in request.boards], np.int64),
                np.array([bd.image.shape[1] for bd in request.boards], np.int64),
                src_map,
            )
        timings["vote"] = time.perf_counter() - t
        context.check_cancel()
        context.progress(0.9, "man-made areas")

        # 9. palette classes: man-made faces, derived surfaces, clouds (board grain, crisp lines)
        t = time.perf_counter()
        struct_rng = np.random.default_rng([request.seed, 0x5354])
        struct_scales, soft_mask = paint_palette_classes(
            request, opts, plans, palette_classes, scales, regions, ink_full, light, struct_rng, canvas
        )
        timings["structured"] = time.perf_counter() - t

        # 10. lines in natural areas: soft multiplicative darkening (shade, not black ink)
        glaze_rng = np.random.default_rng([request.seed, 0x474C])
        lay_in_lines(
            canvas,
            (tcls_full >= 0) | soft_mask,
            ink_full,
            opts.line_darkening,
            opts.glaze,
            (full_h, full_w),
            glaze_rng,
        )
        painted = np.empty(canvas.shape, np.uint8)
        VK.to_uint8(canvas, painted)  # clip(canvas * 255 + 0.5, 0, 255), in one parallel pass

        # 11. retake: only inside the mask, feathered inside its edge; elsewhere init byte for byte
        if mask is not None and request.mask is not None and request.init is not None:
            image = request.init.copy()
            alpha = np.clip(ndimage.distance_transform_edt(mask) / opts.seam_feather, 0.0, 1.0)[..., None]
            blend = np.clip(alpha * painted + (1 - alpha) * init + 0.5, 0, 255).astype(np.uint8)  # type: ignore[operator]
            image[win][mask] = blend[mask]
            source_map = (
                request.init_source_map.astype(np.int32).copy()
                if request.init_source_map is not None
                and request.init_source_map.shape == (full_h, full_w, 3)
                else np.full((full_h, full_w, 3), -1, np.int32)
            )
            source_map[win][mask] = src_map[mask]
        else:
            image, source_map = painted, src_map

        # 12. the result and its recipe
        timings["total"] = time.perf_counter() - t_start
        recipe = build_recipe(
            self,
            request,
            opts,
            plans,
            mode,
            scales,
            used_boards,
            struct_scales,
            (w0, h0),
            levels,
            (wx0, wy0, wx1, wy1),
        )
        context.progress(1.0, "done")
        return RenderResult(
            image=image, source_map=source_map, recipe=recipe, warnings=warnings, timings=timings
        )

    # -- pieces of render ---------------------------------------------------------------------
    def _lowpass(self, atlas: Atlas, sigma: float, rgb: bool) -> np.ndarray:
        """The atlas's paint blurred inside the boards (normalised, so the pads between boards do not
        darken their edges), as RGB 0..255, cached with the atlas. ``rgb``: the atlas holds paint (the
        full-size atlas), otherwise a search level's colour features."""
        extras = self._extras(atlas)
        key = (sigma, rgb)
        if extras is not None and key in extras[1]:
            return extras[1][key]  # type: ignore[no-any-return]
        inside = (atlas.skey >= 0).astype(np.float32)
        col = atlas.col if rgb else G.features_to_rgb(atlas.col) * np.float32(255.0)
        out = normalised_blur(col[..., :3] * inside[..., None], inside, sigma)
        if extras is not None:
            extras[1][key] = out
        return out

    def _plan(
        self, request: RenderRequest, opts: ExemplarOptions, present: list[int]
    ) -> tuple[dict[int, ClassPlan], list[str]]:
        """The class plan from the whole layout (a retake window plans exactly like its parent).

        Boards are weighed as full frames at any render size (never the capped copy scale): a
        960x540 preview and the 1920x1080 delivery of one cut pick the same board for every class,
        so what the director approved in the preview is what is delivered.
        """
        full_h, full_w = request.regions.shape
        frame_scales = [self._scale(opts, b, full_h, full_w, enlarge=True) for b in request.boards]
        return plan_classes(
            present,
            np.bincount(request.regions.ravel(), minlength=256),
            request.boards,
            frame_scales,
            request.direction,
            request.vocabulary,
            opts.min_class_pixels,
            opts.max_reuse,
            opts.fallback_min_share,
        )

    @staticmethod
    def _weights(cost: np.ndarray, sigma: float, sharpness: float) -> np.ndarray:
        if sharpness <= 0:
            return np.ones_like(cost)
        c = np.where(np.isfinite(cost), cost, 0.0)
        return np.ascontiguousarray(np.exp(-sharpness * c / max(sigma, 1e-6)) + 1e-4, dtype=np.float32)

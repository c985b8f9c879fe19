"""Stage 2 of the painter, synthesis: the natural classes painted from the boards' own paint.

:func:`prepare_boards` puts the plan's boards at the render's scale with their guides per level;
:func:`layout_guides` reads the layout the same way (position in region, side-aware lines,
orientation); :func:`search` runs the coarse-to-fine guided PatchMatch under the hard label
constraint; :func:`vote_full` carries the matches to full size and votes the boards' real paint,
blending seams. What depends on the boards alone is kept in a :class:`SynthesisCache`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from haikei.engines.base import BoardInput, EngineContext, RenderRequest
from haikei.engines.exemplar import guides as G
from haikei.engines.exemplar import kernels as K
from haikei.engines.exemplar.atlas import Atlas, build_atlas, candidates, resize, up2
from haikei.engines.exemplar.blur import normalised_blur
from haikei.engines.exemplar.cache import BoundedCache
from haikei.engines.exemplar.location import LocationQuantiles
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.exemplar.plan import Plan, Pyramid, Window, wide_level
from haikei.errors import RenderRefused

__all__ = [
    "AtlasEntry",
    "BoardPrep",
    "Guides",
    "Matches",
    "Paint",
    "SynthesisCache",
    "classes_without_paint",
    "layout_guides",
    "prepare_boards",
    "search",
    "vote_full",
]

Candidates = tuple[np.ndarray, np.ndarray, np.ndarray]  # (pointers, positions, counts) per class slot


@dataclass(frozen=True)
class BoardPrep:
    """One board at the render's scale: full-resolution paint plus search-level features."""

    rgb: np.ndarray  # scaled full-resolution uint8
    labels: np.ndarray  # scaled full-resolution labels
    col: list[np.ndarray]  # per level (0 = working size) colour features
    gd: list[np.ndarray]  # per level guides (pos y, pos x, side, cos, sin), unweighted
    lab: list[np.ndarray]  # per level labels


@dataclass(frozen=True)
class AtlasEntry:
    """The boards stacked at one search level (or their full-size paint), with what is derived from
    them alone: candidate lists per plan and low-passes per blur. ``preps`` keeps the boards it was
    built from alive, so their ids, part of the atlas key, cannot be reused while it lives."""

    atlas: Atlas
    preps: tuple[BoardPrep, ...]
    per_plan: BoundedCache[tuple[object, ...], Candidates] = field(
        default_factory=lambda: BoundedCache(4, "candidates")
    )
    lowpasses: BoundedCache[tuple[float, bool], np.ndarray] = field(
        default_factory=lambda: BoundedCache(4, "low-passes")
    )

    def candidates(self, allowed: np.ndarray) -> Candidates:
        """Per class slot, the atlas positions it may copy from."""
        key = (allowed.shape, allowed.tobytes())
        return self.per_plan.get_or_make(key, lambda: candidates(self.atlas.skey, allowed))

    def lowpass(self, sigma: float, rgb: bool) -> np.ndarray:
        """The atlas's paint blurred inside the boards (normalised, so the pads between boards do not
        darken their edges), as RGB 0..255. ``rgb``: the atlas holds paint (the full-size atlas),
        otherwise a search level's colour features."""

        def make() -> np.ndarray:
            atlas = self.atlas
            inside = (atlas.skey >= 0).astype(np.float32)
            col = atlas.col if rgb else G.features_to_rgb(atlas.col) * np.float32(255.0)
            return normalised_blur(col[..., :3] * inside[..., None], inside, sigma)

        return self.lowpasses.get_or_make((sigma, rgb), make)


class SynthesisCache:
    """What synthesis keeps between renders of one engine: boards at a render's scale (8) and atlases
    (10: a render at one size uses up to 7, its levels and full size; 16 pushed the bench's peak RSS
    to 968 MB)."""

    def __init__(self) -> None:
        self.boards: BoundedCache[tuple[object, ...], BoardPrep] = BoundedCache(8, "boards")
        self.atlases: BoundedCache[tuple[object, ...], AtlasEntry] = BoundedCache(10, "atlases")
        # a location board's tones per class (engines/exemplar/location.py)
        self.location = LocationQuantiles()

    def board(self, board: BoardInput, scale: float, pyr: Pyramid, opts: ExemplarOptions) -> BoardPrep:
        """``board`` prepared at ``scale`` for ``pyr``. A prep with more levels serves a request for
        fewer (its lists are indexed by level): a retake's window is smaller than the frame its parent
        painted, so it reuses the parent's prep; a shallower prep of the same board is replaced."""
        key = (board.key, board.image.shape, scale, pyr.k, opts.line_falloff, opts.board_edge_quantile)
        hit = self.boards.get(key)
        if hit is not None and len(hit.col) >= pyr.levels:
            return hit
        return self.boards.put(key, _prep_board(board, scale, pyr, opts))

    def atlas(
        self, preps: dict[int, BoardPrep], n_boards: int, level: int | None, gw: np.ndarray
    ) -> AtlasEntry:
        """The boards stacked at one search level (``None``: their full-resolution paint)."""
        used = tuple(sorted(preps))
        key = (tuple(id(preps[b]) for b in used), used, n_boards, level, gw.tobytes())
        hit = self.atlases.get(key)
        if hit is not None:
            return hit
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
        entry = AtlasEntry(build_atlas(parts, n_boards, gw), tuple(preps[b] for b in used))
        return self.atlases.put(key, entry)


def _prep_board(board: BoardInput, scale: float, pyr: Pyramid, opts: ExemplarOptions) -> BoardPrep:
    bh, bw = board.image.shape[:2]
    sw, sh = max(1, round(bw * scale)), max(1, round(bh * scale))
    rgb = resize(board.image, sw, sh, nearest=False)
    raw_full = resize(board.labels, sw, sh, nearest=True)
    f = pyr.f
    lab_full = G.clean_labels(rgb, raw_full, erode=max(1, f))
    col = G.colour_features(rgb)
    for _ in range(pyr.k):
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
    for _ in range(1, pyr.levels):
        cols.append(G.downsample_mean(cols[-1]))
        gds.append(G.downsample_mean(gds[-1]))
        labs.append(np.ascontiguousarray(labs[-1][::2, ::2]))
    return BoardPrep(rgb, lab_full, cols, gds, labs)


def prepare_boards(
    request: RenderRequest, opts: ExemplarOptions, plan: Plan, pyr: Pyramid, cache: SynthesisCache
) -> dict[int, BoardPrep]:
    """The boards the synthesis copies from, at the render's scale with their guides per level."""
    return {b: cache.board(request.boards[b], plan.scales[b], pyr, opts) for b in plan.patch_boards}


def guide_weights(opts: ExemplarOptions) -> np.ndarray:
    """Square roots of the guide weights (position y, x; line; orientation cos, sin)."""
    w = [opts.position_weight, opts.position_weight, opts.line_weight, opts.orientation_weight]
    return np.sqrt(np.array([*w, opts.orientation_weight], np.float32))


def light_direction(opts: ExemplarOptions) -> tuple[float, float]:
    """(y, x) of the direction the light comes from (y down)."""
    return -math.sin(math.radians(opts.light_angle)), math.cos(math.radians(opts.light_angle))


@dataclass(frozen=True)
class Guides:
    """The layout read as the search reads the boards, for the painted window.

    ``ink``: the window's ink (1 = full) at full size; ``features``: per level (0 = working size) the
    weighted guides; ``slots``: per level the synthesis slot of each pixel (-1: palette class);
    ``slots_full`` at full size; ``init``: per level the init image's colour features (refine,
    retake), ``pinned``: per level the pixels a retake keeps (outside its mask)."""

    ink: np.ndarray
    light: tuple[float, float]
    weights: np.ndarray
    features: tuple[np.ndarray, ...]
    slots: tuple[np.ndarray, ...]
    slots_full: np.ndarray
    init: tuple[np.ndarray, ...]
    pinned: tuple[np.ndarray, ...]

    @property
    def search_size(self) -> tuple[int, int]:
        """(width, height) of the working level."""
        h0, w0 = self.slots[0].shape
        return w0, h0


def layout_guides(
    request: RenderRequest, opts: ExemplarOptions, plan: Plan, window: Window, pyr: Pyramid
) -> Guides:
    """Layout guides at the working size (position + noise, side-aware lines, orientation) and below."""
    f, k, levels = pyr.f, pyr.k, pyr.levels
    lines, regions = window.crop(request.lines), window.crop(request.regions)
    rng = np.random.default_rng([request.seed, 0x6861696B])
    light = light_direction(opts)
    gw = guide_weights(opts)
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
                G.position_guides(reg0, per_component=True, noise=noise, noise_amount=opts.position_noise),
                G.line_guides(line_mask, tau=opts.line_falloff, light=light),
            ],
            axis=-1,
        )
        * gw
    )
    slot_lut = plan.slot_lut()
    tgds, tclss = [np.ascontiguousarray(tgd0, dtype=np.float32)], [np.ascontiguousarray(slot_lut[reg0])]
    for _ in range(1, levels):
        tgds.append(G.downsample_mean(tgds[-1]))
        tclss.append(np.ascontiguousarray(tclss[-1][::2, ::2]))
    init_feats: list[np.ndarray] = []
    if request.init is not None:
        fi = G.colour_features(window.crop(request.init))
        for _ in range(k):
            fi = G.downsample_mean(fi)
        init_feats = [fi]
        for _ in range(1, levels):
            init_feats.append(G.downsample_mean(init_feats[-1]))
    pin: list[np.ndarray] = []
    if request.mask is not None:
        mk = window.crop(request.mask)[::f, ::f]
        pin = [np.ascontiguousarray(~mk)]
        for _ in range(1, levels):
            pin.append(np.ascontiguousarray(pin[-1][::2, ::2]))
    return Guides(
        ink=ink_full,
        light=light,
        weights=gw,
        features=tuple(tgds),
        slots=tuple(tclss),
        slots_full=slot_lut[regions],
        init=tuple(init_feats),
        pinned=tuple(pin),
    )


def classes_without_paint(
    request: RenderRequest,
    plan: Plan,
    pyr: Pyramid,
    guides: Guides,
    preps: dict[int, BoardPrep],
    cache: SynthesisCache,
) -> frozenset[int]:
    """Patch classes the layout has at some search level where the boards' paint of them has
    vanished (a small object labelled on a board, shrunk and eroded at the coarse levels): they
    cannot be copied, so the plan derives them instead of refusing the render. The atlases and
    candidate lists made here are the search's own (cached)."""
    short: set[int] = set()
    if not plan.natural:
        return frozenset()
    for lvl in range(pyr.levels):
        counts = cache.atlas(preps, len(request.boards), lvl, guides.weights).candidates(plan.allowed)[2]
        for c, s in plan.slots.items():
            if counts[s] == 0 and (guides.slots[lvl] == s).any():
                short.add(c)
    return frozenset(short)


@dataclass(frozen=True)
class Matches:
    """The working level's correspondences (``nnf``: atlas y, x per pixel; ``cost``; vote ``weight``)
    in ``atlas``, and the level below it (atlas, nnf, weight) when the pyramid has one: the seam
    blend's wide vote works there."""

    atlas: AtlasEntry
    nnf: np.ndarray
    cost: np.ndarray
    weight: np.ndarray
    coarse: tuple[AtlasEntry, np.ndarray, np.ndarray] | None


def _weights(cost: np.ndarray, slots: np.ndarray, sharpness: float) -> np.ndarray:
    """Vote weights from match costs: good matches outweigh poor ones, relative to the median cost of
    the class pixels (``sharpness`` 0: a plain average)."""
    valid = cost[slots >= 0]
    sigma = float(np.median(valid)) if valid.size else 1.0
    if sharpness <= 0:
        return np.ones_like(cost)
    c = np.where(np.isfinite(cost), cost, 0.0)
    return np.ascontiguousarray(np.exp(-sharpness * c / max(sigma, 1e-6)) + 1e-4, dtype=np.float32)


def search(
    request: RenderRequest,
    opts: ExemplarOptions,
    plan: Plan,
    pyr: Pyramid,
    guides: Guides,
    preps: dict[int, BoardPrep],
    cache: SynthesisCache,
    context: EngineContext,
    timings: dict[str, float],
) -> Matches | None:
    """Coarse-to-fine guided PatchMatch with the hard label constraint (None: nothing to synthesise).

    Every level starts from the matches of the level below (random at the coarsest), searches
    (hardest at the coarsest level) and votes a painting estimate that steers the next level's
    colour term; a refine steers it towards the init image, a retake pins it outside its mask.
    """
    if not plan.natural:
        return None
    vocab = request.vocabulary
    levels, r = pyr.levels, opts.patch_size // 2
    allowed, mode_refine = plan.allowed, request.init is not None and request.mask is None
    seed = np.uint64(request.seed & 0xFFFFFFFFFFFF)
    total_work = sum(4.0**-i for i in range(levels))
    done_work = 0.0
    nnf = cost = est = weight = None
    entry = prev = None
    coarse: tuple[AtlasEntry, np.ndarray, np.ndarray] | None = None
    for lvl in range(levels - 1, -1, -1):
        t_lvl = time.perf_counter()
        tcls = guides.slots[lvl]
        hl, wl = tcls.shape
        entry = cache.atlas(preps, len(request.boards), lvl, guides.weights)
        atlas = entry.atlas
        cand_ptr, cand, counts = entry.candidates(allowed)
        for c, s in plan.slots.items():
            if counts[s] == 0 and (tcls == s).any():
                raise RenderRefused(f"the art boards are too small to paint class '{vocab.name_of(c)}'")
        n_t = np.bincount(tcls[tcls >= 0], minlength=len(plan.slots)).astype(np.float64)
        expect = np.maximum(1.0, n_t / np.maximum(counts, 1))
        lam_e = (opts.occurrence_weight / expect).astype(np.float32)
        # colour estimate for this level
        if lvl == levels - 1:
            est = guides.init[lvl].copy() if guides.init else np.zeros((hl, wl, 3), np.float32)
            wcol = opts.colour_weight if mode_refine else 0.0
        else:
            est = up2(est, (hl, wl))  # type: ignore[arg-type]
            if mode_refine:
                a = opts.refine_strength
                est = np.ascontiguousarray((1 - a) * est + a * guides.init[lvl], dtype=np.float32)
            wcol = opts.colour_weight
        if guides.pinned:
            est[guides.pinned[lvl]] = guides.init[lvl][guides.pinned[lvl]]
        # matches: random at the coarsest level, carried up from the level below otherwise
        new_nnf = np.zeros((hl, wl, 2), np.int32)
        new_cost = np.zeros((hl, wl), np.float32)
        if nnf is None:
            K.init_random(tcls, cand_ptr, cand, seed, new_nnf, new_cost)
        else:
            assert prev is not None
            pa = prev.atlas
            K.upsample_nnf(
                nnf, cost, tcls, pa.skey, pa.y0, pa.x0, atlas.y0, atlas.x0, atlas.hb, atlas.wb, 2, new_nnf, new_cost
            )  # fmt: skip
            K.fix_invalid(tcls, atlas.skey, allowed, cand_ptr, cand, seed, 6, new_nnf)
        nnf, cost = new_nnf, new_cost
        sw = np.float32(math.sqrt(wcol))
        tf = np.ascontiguousarray(np.concatenate([est * sw, guides.features[lvl]], axis=-1))
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
                tf, sf, tcls, atlas.skey, allowed, cand_ptr, cand, occ, lam_e, nnf, cost, r, seed,
                it + 16 * lvl, 16, 1, radius0,
            )  # fmt: skip
            done_work += 4**-lvl / iters
            context.progress(0.05 + 0.75 * done_work / total_work, f"searching level {lvl}")
        context.check_cancel()
        # match-weighted vote -> this level's painting estimate
        weight = _weights(cost, tcls, opts.vote_sharpness)
        new_est = est.copy()
        K.vote(atlas.col, atlas.skey, allowed, tcls, nnf, weight, 0, r, new_est)
        est = new_est
        if lvl == 1:  # the seam blend's wide vote works a level below the working size
            coarse = (entry, nnf, weight)
        prev = entry
        timings[f"level{lvl}"] = time.perf_counter() - t_lvl
    assert entry is not None and nnf is not None and cost is not None and weight is not None
    return Matches(entry, nnf, cost, weight, coarse)


@dataclass(frozen=True)
class Paint:
    """The synthesised window: ``canvas`` float32 RGB 0..1 (zero where palette classes go) and
    ``source_map`` (board, y, x) per pixel at the board's own size (-1 where not copied)."""

    canvas: np.ndarray
    source_map: np.ndarray


def vote_full(
    request: RenderRequest,
    opts: ExemplarOptions,
    plan: Plan,
    pyr: Pyramid,
    guides: Guides,
    matches: Matches | None,
    preps: dict[int, BoardPrep],
    cache: SynthesisCache,
    context: EngineContext,
) -> Paint:
    """Carry the matches up to full size and vote the boards' real paint, blending seams."""
    h, w = guides.slots_full.shape
    canvas = np.zeros((h, w, 3), np.float32)
    src_map = np.full((h, w, 3), -1, np.int32)
    if matches is None:
        return Paint(canvas, src_map)
    f, k, r = pyr.f, pyr.k, opts.patch_size // 2
    allowed, tcls_full = plan.allowed, guides.slots_full
    seed = np.uint64(request.seed & 0xFFFFFFFFFFFF)
    atlas, nnf, weight = matches.atlas.atlas, matches.nnf, matches.weight
    full_entry = cache.atlas(preps, len(request.boards), None, np.zeros(0, np.float32))
    full = full_entry.atlas
    if k > 0:
        nnf_full = np.zeros((h, w, 2), np.int32)
        cost_full = np.zeros((h, w), np.float32)
        K.upsample_nnf(
            nnf, matches.cost, tcls_full, atlas.skey, atlas.y0, atlas.x0, full.y0, full.x0, full.hb, full.wb, f,
            nnf_full, cost_full,
        )  # fmt: skip
        cand_ptr, cand, _ = full_entry.candidates(allowed)
        K.fix_invalid(tcls_full, full.skey, allowed, cand_ptr, cand, seed, 2 * f + 2, nnf_full)
    else:
        nnf_full = nnf
    context.check_cancel()
    # carried-up matches are coherent in chunks of many f x f blocks, and chunks that copy
    # differently toned places of a board meet in a hard step (rectangular blocks in a forest, a
    # stair-stepped cliff). With the seam blend their low frequencies are re-voted over a wide
    # neighbourhood a level below the working size and swapped in (K.vote_blended); the fine
    # vote then needs only half the patch radius (9 taps, not 25: the blend pays for itself).
    # Without it, voting with the full radius softens the seams a little (f // 2 left them
    # hard: line F1 precision lake .53 -> .56, forest .44 -> .48; the blend: forest .49 -> .65)
    r_full = max(1, r // 2) if opts.seam_blend > 0 else r
    if opts.seam_blend > 0:
        c_f, c_radius = wide_level(opts, pyr)
        if matches.coarse is not None:  # levels > 1: the level below the working size
            c_entry, c_nnf, c_weight = matches.coarse
            c_tcls = guides.slots[1]
        else:
            c_entry, c_nnf, c_weight, c_tcls = matches.atlas, nnf, weight, guides.slots[0]
        wide = np.zeros((*c_tcls.shape, 3), np.float32)
        lp = c_entry.lowpass(c_radius / 2.0, rgb=False)
        K.vote(lp, c_entry.atlas.skey, allowed, c_tcls, c_nnf, c_weight, 0, c_radius, wide)
        paint_lp = full_entry.lowpass(c_f * c_radius / 2.0, rgb=True)
        K.vote_blended(
            full.col, paint_lp, full.skey, allowed, tcls_full, nnf_full, weight, k, r_full, wide, c_tcls, c_f, canvas
        )  # fmt: skip
    else:
        K.vote(full.col, full.skey, allowed, tcls_full, nnf_full, weight, k, r_full, canvas)
    canvas *= 1.0 / 255.0
    n_b = len(request.boards)
    used = np.zeros(n_b, np.bool_)
    used[list(plan.patch_boards)] = True
    K.source_map(
        tcls_full,
        nnf_full,
        full.skey,
        full.y0,
        full.x0,
        used,
        plan.board_scales(n_b),
        np.array([bd.image.shape[0] for bd in request.boards], np.int64),
        np.array([bd.image.shape[1] for bd in request.boards], np.int64),
        src_map,
    )
    return Paint(canvas, src_map)

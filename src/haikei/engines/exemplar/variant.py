"""Variants: the parent's correspondences re-voted over an aligned repaint of the same boards.

No search runs: every output pixel takes paint from the same board positions as in the approved
parent, but from the board's variant (the same painting at dusk, in winter ...). Structure is
therefore locked and only the light changes. Areas painted from a palette (man-made,
derived surfaces, clouds) keep the parent's pixels, mapped from the boards' palettes to the
variants' (re-painted from scratch when no parent image is given); lines are laid in as in a
normal render. The parent's seam blend (:func:`.synthesis.vote_full`) is carried over: with the parent image the
variant is the parent plus the blended re-vote of (repaint - board), see :func:`_blend_parts` and :func:`_wide`.

No search also means the cost is bookkeeping over every output pixel: the re-vote reads the boards
directly and the line pass is fused, both in :mod:`.variant_kernels`; the atlas (and its repair
of matches that break the label constraint) is used only when a parent match needs that repair.
"""

from __future__ import annotations

import time

import numpy as np

from haikei.engines.base import EngineContext, RenderRequest, RenderResult
from haikei.engines.exemplar import kernels as K
from haikei.engines.exemplar import variant_kernels as VK
from haikei.engines.exemplar.atlas import build_atlas, candidates, resize
from haikei.engines.exemplar.blur import normalised_blur
from haikei.engines.exemplar.cache import BoundedCache
from haikei.engines.exemplar.compose import lay_in, paint_palettes, to_8bit
from haikei.engines.exemplar.lines import plan_ink_line
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.exemplar.painters import recolour_maps, recolour_palette_classes
from haikei.engines.exemplar.plan import Plan, make_plan, pyramid, wide_level
from haikei.engines.exemplar.recipe import variant_recipe
from haikei.engines.exemplar.synthesis import light_direction
from haikei.errors import RenderRefused

__all__ = ["VariantCache", "render_variant", "variant_plan"]


class VariantCache:
    """What variants keep between renders of one engine, keyed by the boards' labels and repaints
    themselves: the re-vote's packed repaint (one repaint at a time, ~25 MB at 1080p: a sequence's
    cuts share it) and the palette classes' colour maps (8)."""

    def __init__(self) -> None:
        self.repaints: BoundedCache[tuple[object, ...], Revote] = BoundedCache(1, "variant repaint")
        self.palettes: BoundedCache[tuple[object, ...], dict[int, np.ndarray]] = BoundedCache(
            8, "variant palettes"
        )


def variant_plan(request: RenderRequest, opts: ExemplarOptions) -> Plan:
    """The parent's plan: made over the whole frame as the parent's was, with the classes the parent
    derived because their board paint was too little to copy (no correspondence in its source map)
    derived again."""
    plan = make_plan(request, opts, request.regions)
    sm = request.init_source_map
    if not plan.natural or sm is None or sm.shape != (request.height, request.width, 3):
        return plan
    unmatched = np.bincount(request.regions[sm[..., 0] < 0], minlength=256)
    derive = frozenset(c for c in plan.natural if unmatched[c])
    # ... and the classes planned from a location board that the parent copied from the
    # production's boards (the location board showed too little of them) released again
    located = np.array([bool(b.location) for b in request.boards] + [False])
    src = sm[..., 0]
    elsewhere = (src >= 0) & ~located[np.where(src >= 0, src, len(request.boards))]
    off = np.bincount(request.regions[elsewhere], minlength=256)
    released = frozenset(
        c
        for c in plan.natural
        if off[c] and c not in derive and any(request.boards[b].location for b in plan.classes[c].boards)
    )
    if not derive and not released:
        return plan
    return make_plan(request, opts, request.regions, derive=derive, released=released)


def render_variant(
    request: RenderRequest, context: EngineContext, opts: ExemplarOptions, plan: Plan, cache: VariantCache
) -> RenderResult:
    """The parent's structure in the boards' ``request.variant`` repaint; ``plan``: the parent's
    (:func:`variant_plan`)."""
    t_start = time.perf_counter()
    timings: dict[str, float] = {}  # seconds per step
    variant = str(request.variant)
    h, w = request.height, request.width
    context.progress(0.0, f"variant {variant}")

    # 1. the parent's correspondences
    sm = request.init_source_map
    if sm is None:
        raise RenderRefused(
            "an exemplar variant re-votes the parent's correspondences: pass the parent's source map "
            "(init_source_map) from its render"
        )
    if sm.shape != (h, w, 3) or not np.issubdtype(sm.dtype, np.integer):
        raise RenderRefused(f"init_source_map must be an integer {w}x{h}x3 array, got {sm.dtype} {sm.shape}")
    sm = np.ascontiguousarray(sm, dtype=np.int32)  # no copy when it already is
    n_boards = len(request.boards)
    counts, top = VK.board_counts(sm, n_boards)
    if top >= n_boards:
        raise RenderRefused(
            "init_source_map names an art board the request does not carry; pass the parent's boards"
        )
    timings["source_map"] = time.perf_counter() - t_start
    t = time.perf_counter()

    # 2. the parent's plan; every board involved needs the variant
    scales = plan.scales
    man_made = list(plan.palette_classes)
    in_map = np.flatnonzero(counts[1:])
    needed = {int(b) for b in in_map} | {b for c in man_made for b in plan.classes[c].boards}
    images: dict[int, np.ndarray] = {}
    for b in sorted(needed):
        board = request.boards[b]
        img = board.variants.get(variant)
        if img is None:
            have = ", ".join(sorted(board.variants)) or "none"
            raise RenderRefused(
                f"art board {board.name or board.key[:12]} has no '{variant}' variant (it has: {have}); "
                "register the aligned repaint of that board first"
            )
        if img.shape != board.image.shape or img.dtype != np.uint8:
            raise RenderRefused(
                f"the '{variant}' variant of art board {board.name or board.key[:12]} is not aligned"
            )
        images[b] = img
    tcls = np.empty((h, w), np.int32)
    per_board, missing = VK.slots_and_patch_boards(sm, request.regions, plan.slot_lut(), n_boards, tcls)
    if missing:
        raise RenderRefused(
            f"the parent's source map has no correspondence for {missing} pixels of patch-painted "
            "classes; render the parent with the exemplar engine first"
        )
    allowed = plan.allowed
    context.check_cancel()
    timings["plan"] = time.perf_counter() - t
    t = time.perf_counter()

    # what is kept between variants is keyed by the boards' labels and repaints themselves
    digests = {b: (_digest(request.boards[b].labels), _digest(images[b])) for b in sorted(needed)}

    # 3. re-vote the same correspondences over the variant paint (uniform weights, no search)
    canvas = np.zeros((h, w, 3), np.float32)
    parent = request.init
    with_parent = parent is not None and parent.shape == (h, w, 3) and parent.dtype == np.uint8
    adds_parent = with_parent and opts.seam_blend > 0  # canvas then holds the change from the parent
    patch_boards = [int(b) for b in np.flatnonzero(per_board)]
    if patch_boards:
        wide: tuple[np.ndarray, np.ndarray] | None = None
        blend = _blend_level(opts, h, w)
        # what depends only on the boards, their variant and the scale is kept (the last one): a
        # production's cuts re-vote over the same repaint (the first variant pays ~0.1 s at 1080p)
        key = (
            variant,
            tuple((b, request.boards[b].key, *digests[b], scales[b]) for b in patch_boards),
            blend if opts.seam_blend > 0 else None,
            adds_parent,
            n_boards,
        )
        revote = cache.repaints.get_or_make(
            key, lambda: _pack_repaint(request, images, patch_boards, dict(scales), opts, blend, adds_parent)
        )
        parts, lpc, packed, col = revote
        scale = plan.board_scales(n_boards)
        if lpc is not None:
            wide = _wide(sm, tcls, allowed, scale, packed, lpc, blend)
            timings["seam_blend"] = time.perf_counter() - t
            t = time.perf_counter()
        if not _revote(sm, tcls, allowed, scale, canvas, (packed, col)):
            # some parent match breaks the label constraint here: repair them in the atlas first
            _revote_in_atlas(sm, tcls, allowed, dict(scales), parts, n_boards, request.seed, canvas)
        if wide is not None:
            _, _, hb, wb, _ = packed
            VK.add_wide(canvas, tcls, wide[0], wide[1], blend[0], sm, scale, hb, wb, lpc)
        context.check_cancel()
    timings["revote"] = time.perf_counter() - t
    t = time.perf_counter()
    context.progress(0.7, "man-made areas")

    # 4. man-made areas in the variant's palette, then lines as in a normal render
    ink = 1.0 - request.lines.astype(np.float32) / 255.0
    if with_parent:
        assert parent is not None
        # the parent already carries faces, grain and lines: map its palette areas to the variant's light
        # the maps depend on the boards and their repaint only: kept like the re-vote's
        pal_key = (
            variant,
            tuple((c, plan.classes[c]) for c in man_made),
            tuple((b, request.boards[b].key, *digests[b]) for b in sorted(needed)),
        )
        maps = cache.palettes.get_or_make(
            pal_key, lambda: recolour_maps(request, dict(plan.classes), man_made, images)
        )
        recolour_palette_classes(request, maps, parent, canvas)
        soft_mask = np.zeros((h, w), bool)
    else:
        _, soft_mask = paint_palettes(
            request, opts, plan, request.regions, ink, light_direction(opts), canvas, images=images
        )
    line = plan_ink_line(request, plan) if opts.line_style == "ink" else None
    lay_in(
        canvas,
        (tcls >= 0) | soft_mask,
        ink,
        opts,
        (h, w),
        request.seed,
        line=line,
        delta=adds_parent,
        glazed=soft_mask,
    )
    if adds_parent:
        # lines multiply the paint, so the change was shaded like the parent's paint: add the parent
        VK.add_parent(canvas, tcls, parent)
    timings["palette_and_lines"] = time.perf_counter() - t
    image = to_8bit(canvas)
    timings["total"] = time.perf_counter() - t_start
    recipe = variant_recipe(request, opts, plan, sorted(needed))
    context.progress(1.0, "done")
    return RenderResult(
        image=image, source_map=sm.copy(), recipe=recipe, warnings=list(plan.warnings), timings=timings
    )


def _pack_repaint(
    request: RenderRequest,
    images: dict[int, np.ndarray],
    patch_boards: list[int],
    scales: dict[int, float],
    opts: ExemplarOptions,
    blend: tuple[int, int],
    adds_parent: bool,
) -> Revote:
    """What the re-vote reads from the boards' repaints (and, with the seam blend, their low-pass)."""
    n_boards = len(request.boards)
    parts: Parts = {}
    for b in patch_boards:
        bh, bw = images[b].shape[:2]
        sw, sh = max(1, round(bw * scales[b])), max(1, round(bh * scales[b]))
        parts[b] = (
            resize(images[b], sw, sh, nearest=False),
            resize(request.boards[b].labels, sw, sh, nearest=True),
        )
    lpc = None
    if opts.seam_blend > 0:
        # the parent's seams were blended (:func:`.synthesis.vote_full`); so are the variant's. With the parent
        # image, the re-vote being linear in the paint, the variant is the parent plus the blended
        # re-vote of (repaint - board): the parent's own blend and match weights are kept exactly
        base = None
        if adds_parent:
            base = {}
            for b in patch_boards:
                bh, bw = parts[b][0].shape[:2]
                base[b] = resize(request.boards[b].image, bw, bh, nearest=False)
        parts, lpc = _blend_parts(parts, base, n_boards, blend)
    packed = _pack_keys({b: lab for b, (_, lab) in parts.items()}, n_boards)
    col = _pack_colours({b: rgb for b, (rgb, _) in parts.items()}, packed)
    # the parts become views into the packed colours: one copy of the paint is kept, not two
    grid = col.reshape(-1, int(packed[4]), 3)
    for b, (rgb, lab) in list(parts.items()):
        y = int(packed[1][b] // packed[4])
        parts[b] = (grid[y : y + rgb.shape[0], 1 : 1 + rgb.shape[1]], lab)
    return parts, lpc, packed, col


Parts = dict[int, tuple[np.ndarray, np.ndarray]]  # board -> (variant colours, labels) at board scale


Packed = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.int64]  # key, off, hb, wb, stride

# the packed repaint a variant re-votes: (parts, the seam blend's low-pass or None, packed keys, colours)
Revote = tuple[Parts, np.ndarray | None, Packed, np.ndarray]


def _pack_keys(labels: dict[int, np.ndarray], n_boards: int) -> Packed:
    """The boards' labels one under another as :mod:`.variant_kernels` reads them: (key, off, hb, wb, stride)."""
    stride = max(a.shape[1] for a in labels.values()) + 2
    rows = sum(a.shape[0] + 1 for a in labels.values()) + 1
    key = np.full((rows, stride), -1, np.int32)
    off = np.zeros(n_boards, np.int64)
    hb = np.ones(n_boards, np.int64)
    wb = np.ones(n_boards, np.int64)
    y = 1
    for b, lab in labels.items():
        bh, bw = lab.shape[:2]
        off[b], hb[b], wb[b] = y * stride + 1, bh, bw
        key[y : y + bh, 1 : 1 + bw] = np.where(lab == 255, -1, b * 256 + lab.astype(np.int32))
        y += bh + 1
    return key.ravel(), off, hb, wb, np.int64(stride)


def _pack_colours(parts: dict[int, np.ndarray], packed: Packed) -> np.ndarray:
    """The boards' colours laid out as :func:`_pack_keys` laid out their labels (flat, 3 channels)."""
    key, off, _, _, stride = packed
    col = np.zeros((key.shape[0], 3), next(iter(parts.values())).dtype)
    for b, a in parts.items():
        bh, bw = a.shape[:2]
        col.reshape(-1, int(stride), 3)[off[b] // stride : off[b] // stride + bh, 1 : 1 + bw] = a
    return col


def _revote(
    sm: np.ndarray,
    tcls: np.ndarray,
    allowed: np.ndarray,
    scale: np.ndarray,
    canvas: np.ndarray,
    packed: tuple[Packed, np.ndarray],
) -> bool:
    """The re-vote straight from the boards (uint8 paint, or float32 residuals of the seam blend);
    False, with nothing voted, if a match needs repair. ``scale``: per board (:meth:`.plan.Plan.board_scales`);
    ``packed``: the boards packed (:func:`_pack_keys`, :func:`_pack_colours`)."""
    (key, off, hb, wb, stride), col = packed
    h, w = tcls.shape
    idx = np.full((h + 2, w + 2), -1, np.int32 if col.shape[0] < 2**31 else np.int64)
    args = (sm, tcls, allowed, scale, off, hb, wb, stride, col, key, idx, canvas)
    kernel = VK.revote if col.dtype == np.uint8 else VK.revote_float  # float: the seam blend's residual
    return int(kernel(*args)) == 0


def _blend_parts(
    parts: Parts, boards: dict[int, np.ndarray] | None, n_boards: int, blend: tuple[int, int]
) -> tuple[Parts, np.ndarray]:
    """The board side of the parent's seam blend (:func:`.synthesis.vote_full`) for a variant: (residuals, low-pass).

    The re-voted paint ``S`` is the repaint, or with ``boards`` (each board's own paint at board
    scale) the repaint minus the board, whose blended vote is then added to the parent image. Its
    low-pass (``S`` box-averaged to 1/f and blurred there with sigma r/2, inside labelled pixels;
    returned per board) is taken out of the paint to re-vote (the parts returned hold the residual
    ``S - low``); :func:`_wide` votes it back over a wide neighbourhood, as the parent's
    ``vote(paint) - vote(low) + wide(low)``; ``(f, r) = blend``.
    """
    f, r = blend
    hc_max = max(-(-rgb.shape[0] // f) for rgb, _ in parts.values())
    wc_max = max(-(-rgb.shape[1] // f) for rgb, _ in parts.values())
    lpc = np.zeros((n_boards, hc_max, wc_max, 3), np.float32)
    out: Parts = {}
    for b, (rgb, lab) in parts.items():
        base = boards[b] if boards is not None else rgb[:, :, :0]
        hc, wc = -(-rgb.shape[0] // f), -(-rgb.shape[1] // f)
        sums = np.empty((hc, wc, 3), np.float32)
        count = np.empty((hc, wc), np.float32)
        VK.box_down(rgb, base, lab != 255, f, sums, count)
        lpc[b, :hc, :wc] = normalised_blur(sums, count, r / 2.0)
        res = np.empty(rgb.shape, np.float32)
        VK.residual(rgb, base, np.ascontiguousarray(lpc[b, :hc, :wc]), f, res)
        out[b] = (res, lab)
    return out, lpc


def _wide(
    sm: np.ndarray,
    tcls: np.ndarray,
    allowed: np.ndarray,
    scale: np.ndarray,
    packed: Packed,
    lpc: np.ndarray,
    blend: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """The boards' low-pass voted at 1/f of the frame over (2r+1)^2 taps from the parent's matches,
    and the class of each of its pixels."""
    f, r = blend
    h, w = tcls.shape
    key, off, hb, wb, stride = packed
    wide = np.zeros((-(-h // f), -(-w // f), 3), np.float32)
    cs = np.empty(wide.shape[:2], np.int64)  # the coarse pixels' classes
    VK.wide_vote(sm, tcls, allowed, scale, off, hb, wb, stride, key, lpc, f, r, wide, cs)
    return wide, cs


def _digest(img: np.ndarray) -> bytes:
    import hashlib

    # sha256 runs in hardware here: ~3 ms for a 1280x720 board, blake2b twice that
    return hashlib.sha256(np.ascontiguousarray(img).data).digest()[:16]


def _blend_level(opts: ExemplarOptions, h: int, w: int) -> tuple[int, int]:
    """The parent's wide vote (synthesis.vote_full): its size divisor from the frame and its radius there."""
    return wide_level(opts, pyramid(opts, (h, w), (h, w)))


def _revote_in_atlas(
    sm: np.ndarray,
    tcls: np.ndarray,
    allowed: np.ndarray,
    scales: dict[int, float],
    parts: Parts,
    n_boards: int,
    seed: int,
    canvas: np.ndarray,
) -> None:
    """The re-vote in the search's atlas, after moving the matches that break the label constraint."""
    atlas_parts = {
        b: (rgb.astype(np.float32, copy=False), np.zeros((*rgb.shape[:2], 0), np.float32), lab)
        for b, (rgb, lab) in parts.items()
    }
    full = build_atlas(atlas_parts, n_boards, np.zeros(0, np.float32))
    nnf = np.zeros((*tcls.shape, 2), np.int32)
    bidx = sm[..., 0]
    for b in parts:
        sel = bidx == b
        sc = scales[b]
        ys = np.clip(np.round((sm[..., 1][sel] + 0.5) * sc - 0.5), 0, full.hb[b] - 1).astype(np.int32)
        xs = np.clip(np.round((sm[..., 2][sel] + 0.5) * sc - 0.5), 0, full.wb[b] - 1).astype(np.int32)
        nnf[..., 0][sel] = full.y0[b] + ys
        nnf[..., 1][sel] = full.x0[b] + xs
    cand_ptr, cand, _ = candidates(full.skey, allowed)
    K.fix_invalid(tcls, full.skey, allowed, cand_ptr, cand, np.uint64(seed & 0xFFFFFFFFFFFF), 4, nnf)
    ones = np.ones((1, 1), np.float32)
    K.vote(full.col, full.skey, allowed, tcls, nnf, ones, 30, 1, canvas)  # as the parent's full-size vote
    canvas *= 1.0 / 255.0

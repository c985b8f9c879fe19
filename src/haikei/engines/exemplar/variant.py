"""Variants: the parent's correspondences re-voted over an aligned repaint of the same boards.

No search runs: every output pixel takes paint from the same board positions as in the approved
parent, but from the board's variant (the same painting at dusk, in winter ...). Structure is
therefore locked and only the light changes. Areas painted from a palette (man-made,
derived surfaces, clouds) keep the parent's pixels, mapped from the boards' palettes to the
variants' (re-painted from scratch when no parent image is given); lines are laid in as in a
normal render.

No search also means the cost is bookkeeping over every output pixel: the re-vote reads the boards
directly and the line pass is fused, both in :mod:`.variant_kernels`; the atlas (and its repair
of matches that break the label constraint) is used only when a parent match needs that repair.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np

from haikei.engines.base import EngineContext, RenderRequest, RenderResult
from haikei.engines.exemplar import kernels as K
from haikei.engines.exemplar import variant_kernels as VK
from haikei.engines.exemplar.atlas import build_atlas, candidates, resize
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.exemplar.painters import lay_in_lines, paint_palette_classes, recolour_palette_classes
from haikei.errors import RenderRefused

if TYPE_CHECKING:
    from haikei.engines.exemplar.engine import ExemplarEngine

__all__ = ["render_variant"]


def render_variant(
    engine: ExemplarEngine, request: RenderRequest, context: EngineContext, opts: ExemplarOptions
) -> RenderResult:

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

    # 2. the same class plan as the parent; every board involved needs the variant
    vocab = request.vocabulary
    present = [int(c) for c in np.flatnonzero(np.bincount(request.regions.ravel(), minlength=256))]
    scales = {b: engine._scale(opts, request.boards[b], h, w) for b in range(len(request.boards))}
    plans, warnings = engine._plan(request, opts, present)
    natural = [c for c in present if plans[c].patch and not vocab.classes[c].man_made]
    man_made = [c for c in present if c not in natural]
    in_map = np.flatnonzero(counts[1:])
    needed = {int(b) for b in in_map} | {b for c in man_made for b in plans[c].boards}
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
    slots = {c: i for i, c in enumerate(natural)}
    slot_lut = np.full(256, -1, np.int32)
    for c, s in slots.items():
        slot_lut[c] = s
    tcls = np.empty((h, w), np.int32)
    per_board, missing = VK.slots_and_patch_boards(sm, request.regions, slot_lut, n_boards, tcls)
    if missing:
        raise RenderRefused(
            f"the parent's source map has no correspondence for {missing} pixels of patch-painted "
            "classes; render the parent with the exemplar engine first"
        )
    allowed = np.zeros((max(1, len(natural)), len(request.boards) * 256), np.uint8)
    for c, s in slots.items():
        for b in plans[c].boards:
            allowed[s, b * 256 + plans[c].source] = 1
    context.check_cancel()
    timings["plan"] = time.perf_counter() - t
    t = time.perf_counter()

    # 3. re-vote the same correspondences over the variant paint (uniform weights, no search)
    canvas = np.zeros((h, w, 3), np.float32)
    patch_boards = [int(b) for b in np.flatnonzero(per_board)]
    if patch_boards:
        parts = {}
        for b in patch_boards:
            bh, bw = images[b].shape[:2]
            sw, sh = max(1, round(bw * scales[b])), max(1, round(bh * scales[b]))
            parts[b] = (
                resize(images[b], sw, sh, nearest=False),
                resize(request.boards[b].labels, sw, sh, nearest=True),
            )
        if not _revote(sm, tcls, allowed, scales, parts, n_boards, canvas):
            # some parent match breaks the label constraint here: repair them in the atlas first
            _revote_in_atlas(sm, tcls, allowed, scales, parts, n_boards, request.seed, canvas)
        context.check_cancel()
    timings["revote"] = time.perf_counter() - t
    t = time.perf_counter()
    context.progress(0.7, "man-made areas")

    # 4. man-made areas in the variant's palette, then lines as in a normal render
    ink = 1.0 - request.lines.astype(np.float32) / 255.0
    light = (-math.sin(math.radians(opts.light_angle)), math.cos(math.radians(opts.light_angle)))
    parent = request.init
    if parent is not None and parent.shape == (h, w, 3):
        # the parent already carries faces, grain and lines: map its palette areas to the variant's light
        recolour_palette_classes(request, plans, man_made, parent, images, canvas)
        soft_mask = np.zeros((h, w), bool)
    else:
        struct_rng = np.random.default_rng([request.seed, 0x5354])
        _, soft_mask = paint_palette_classes(
            request,
            opts,
            plans,
            man_made,
            scales,
            request.regions,
            ink,
            light,
            struct_rng,
            canvas,
            images=images,
        )
    glaze_rng = np.random.default_rng([request.seed, 0x474C])
    lay_in_lines(canvas, (tcls >= 0) | soft_mask, ink, opts.line_darkening, opts.glaze, (h, w), glaze_rng)
    timings["palette_and_lines"] = time.perf_counter() - t
    image = np.empty((h, w, 3), np.uint8)
    VK.to_uint8(canvas, image)
    timings["total"] = time.perf_counter() - t_start
    recipe = {
        "engine": engine.name,
        "version": engine.version,
        "mode": "variant",
        "variant": variant,
        "seed": request.seed,
        "options": opts.model_dump(),
        "boards": [
            {"index": b, "key": request.boards[b].key, "name": request.boards[b].name} for b in sorted(needed)
        ],
        "classes": {
            vocab.name_of(c): {"painted_from": p.describe(vocab), "fallback": p.is_fallback}
            for c, p in sorted(plans.items())
        },
    }
    context.progress(1.0, "done")
    return RenderResult(image=image, source_map=sm.copy(), recipe=recipe, warnings=warnings, timings=timings)


Parts = dict[int, tuple[np.ndarray, np.ndarray]]  # board -> (variant colours, labels) at board scale


def _revote(
    sm: np.ndarray,
    tcls: np.ndarray,
    allowed: np.ndarray,
    scales: dict[int, float],
    parts: Parts,
    n_boards: int,
    canvas: np.ndarray,
) -> bool:
    """The re-vote straight from the boards; False, with nothing voted, if a match needs repair."""
    stride = max(rgb.shape[1] for rgb, _ in parts.values()) + 2
    rows = sum(rgb.shape[0] + 1 for rgb, _ in parts.values()) + 1
    col = np.zeros((rows, stride, 3), np.uint8)
    key = np.full((rows, stride), -1, np.int32)
    off = np.zeros(n_boards, np.int64)
    hb = np.ones(n_boards, np.int64)
    wb = np.ones(n_boards, np.int64)
    scale = np.ones(n_boards, np.float64)
    y = 1
    for b, (rgb, lab) in parts.items():
        bh, bw = rgb.shape[:2]
        off[b], hb[b], wb[b], scale[b] = y * stride + 1, bh, bw, scales[b]
        col[y : y + bh, 1 : 1 + bw] = rgb
        key[y : y + bh, 1 : 1 + bw] = np.where(lab == 255, -1, b * 256 + lab.astype(np.int32))
        y += bh + 1
    h, w = tcls.shape
    idx = np.full((h + 2, w + 2), -1, np.int32 if rows * stride < 2**31 else np.int64)
    args = (sm, tcls, allowed, scale, off, hb, wb, stride, col.reshape(-1, 3), key.ravel(), idx, canvas)
    return int(VK.revote(*args)) == 0


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
        b: (rgb.astype(np.float32), np.zeros((*rgb.shape[:2], 0), np.float32), lab)
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

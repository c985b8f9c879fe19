"""Palette painters: man-made classes (structured faces) and the natural classes no board shows
usably (derived ground / sand / path surfaces, clouds from the sky's lightest tones).

Both take their colours from :mod:`.palettes` (or the board's own class when it shows it) and
the board's fine grain from :func:`.structured.paper_texture`. Work is limited to each class's
bounding box, so the cost follows the area painted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from scipy import ndimage

from haikei.engines.exemplar import guides as G
from haikei.engines.exemplar import variant_kernels as VK
from haikei.engines.exemplar.boards import ClassPlan
from haikei.engines.exemplar.brushwork import (
    board_brush_contrast,
    brush_field,
    stroke_length,
    stroke_orientation,
)
from haikei.engines.exemplar.paddies import paddy_classes, paddy_colours, paddy_season, paint_paddies
from haikei.engines.exemplar.palettes import (
    KINDS,
    BoardTones,
    board_samples,
    board_tones,
    cloud_palette,
    derived_palette,
    kind_of,
    role_named,
)
from haikei.engines.exemplar.roofs import straw_palette, structure_roofs
from haikei.engines.exemplar.structured import (
    Palette,
    board_palette,
    class_boxes,
    distance_to,
    paint_structured,
    paper_texture,
)

if TYPE_CHECKING:
    from haikei.engines.base import RenderRequest
    from haikei.engines.exemplar.options import ExemplarOptions

__all__ = ["paint_palette_classes", "paint_soft", "recolour_maps", "recolour_palette_classes"]

# man-made faces are painted smoother than ground: their strokes are this share of the board's contrast
FACE_BRUSH = 0.9


# the boards' samples and tones, per set of boards, shared by the derived classes painted from them
_Samples = tuple[np.ndarray, np.ndarray, BoardTones | None]


def _ramp(pal: Palette, t: np.ndarray) -> np.ndarray:
    """0 = shadow, 0.5 = mid, 1 = light (piecewise linear), float32 (..., 3)."""
    t = np.clip(t, 0.0, 1.0)[..., None]
    lo = pal.shadow + (pal.mid - pal.shadow) * np.minimum(2 * t, 1.0)
    return np.asarray(lo + (pal.light - pal.mid) * np.maximum(2 * t - 1.0, 0.0), np.float32)


def paint_soft(
    regions: np.ndarray,
    ink: np.ndarray,
    palettes: dict[int, tuple[Palette, str]],
    texture: np.ndarray,
    light: tuple[float, float],
    rng: np.random.Generator,
    texture_strength: float,
    canvas: np.ndarray,
    boxes: dict[int, tuple[slice, slice]] | None = None,
    brush_contrast: float = 0.0,
    shade_lines: bool = True,
) -> np.ndarray:
    """Natural areas from a palette: (palette, style) per class, painted into ``canvas`` (float32
    RGB); returns the mask of the pixels painted. ``boxes``: the classes' boxes, if already known.

    Clouds (style ``cloud``): light on the lit side and deep inside, shading softly to the palette's
    shadow towards their outline and inner lines. Masses (``mass``: foliage no board shows): each
    mass lit on the light's side and shaded on the other, broken into clumps at the board's stroke
    scale, each clump lit on its own light side. Surfaces (ground, sand, path ...): the mid tone broken by
    low-frequency variation, lighter towards the horizon (top of the area), laid in with brush
    strokes (:mod:`.brushwork`, relative strength ``brush_contrast``) that lie along the area's
    outlines and shorten towards its top; ``grain`` (sand) adds a fine stipple (:func:`_fine_grain`).
    ``shade_lines``: clouds and masses also shade towards the layout's strokes inside them (``line_style`` ink; with paint the strokes become form later and
    only steer the brush).
    """
    h, w = regions.shape
    painted = np.zeros((h, w), bool)
    ly, lx = light
    if boxes is None:
        boxes = class_boxes(regions, sorted(palettes))
    for cid in sorted(palettes):
        pal, style = palettes[cid]
        is_cloud = style == "cloud"
        box = boxes.get(cid)
        if box is None:
            continue
        region = regions[box] == cid
        bh, bw = region.shape
        # the noise fields cover the box (their look depends on its size), the arithmetic only the
        # class's pixels
        ry, rx = np.nonzero(region)
        yy = ry.astype(np.float32)
        xx = rx.astype(np.float32)
        cell = max(8.0, min(bh, bw) / 3.0)
        noise = G.smooth_noise(bh, bw, rng, cell)[ry, rx]
        inner = ink[box] if shade_lines else np.zeros(region.shape, np.float32)
        if style == "mass":
            t, yn = _mass_tones(region, inner, ry, rx, noise, light, rng, stroke_length(h, w))
        elif is_cloud:
            comp, n = ndimage.label(region)
            stats = _label_stats(comp, n)
            area = stats[0].astype(np.float32)
            size = np.sqrt(np.maximum(area, 1.0))
            cy = np.zeros(n + 1, np.float32)
            cx = np.zeros(n + 1, np.float32)
            if n:
                cy[1:] = stats[1][1:] / stats[0][1:].astype(np.float64)
                cx[1:] = stats[2][1:] / stats[0][1:].astype(np.float64)
            edge = np.pad(~region | (inner > 0.5), 1, constant_values=True)
            d = distance_to(edge)[1:-1, 1:-1][ry, rx].astype(np.float32)
            lab = comp[ry, rx]
            s = size[lab]
            depth = 1.0 - np.exp(-d / np.maximum(0.08 * s, 1.0))
            side = ((yy - cy[lab]) * ly + (xx - cx[lab]) * lx) / np.maximum(0.5 * s, 1.0)
            t = 0.1 + 0.55 * depth + 0.45 * np.clip(side, -1, 1) + 0.08 * noise
        else:
            y0, y1 = float(ry[0]), float(max(ry[-1], ry[0] + 1))
            yn = (yy - y0) / (y1 - y0)
            # lighter towards the horizon, as much as the area's depth in the frame allows
            depth = 0.3 * (y1 - y0) / h
            t = 0.5 + 0.3 * noise + depth * (0.5 - np.clip(yn, 0, 1))
        col = _ramp(pal, t)
        grain = 1.0 + texture_strength * texture[box][ry, rx]
        if not is_cloud and brush_contrast > 0:
            # strokes follow the area's outline and the layout's lines inside it
            edges = ~region | (ink[box] > 0.5)
            length = stroke_length(h, w)
            near = np.zeros(region.shape, np.float32)
            near[ry, rx] = np.clip(yn, 0.0, 1.0)
            strokes = brush_field(
                region.astype(np.int32),
                stroke_orientation(edges, 2.0 * length),
                rng,
                length,
                brush_contrast,
                perspective=near,
            )
            grain = grain * (1.0 + strokes[ry, rx])
        if style == "grain":
            grain = grain * (1.0 + _fine_grain(region.shape, cid)[ry, rx])
        col *= grain[..., None]
        canvas[box][region] = np.clip(col, 0.0, 1.0)
        painted[box] |= region
    return painted


def _fine_grain(shape: tuple[int, int], cid: int) -> np.ndarray:
    """Sand's grain: a fine stipple (a pixel or two across, +-3 % of the tone) with a few lighter
    specks, from its own seeded stream so the other classes' noise is unchanged."""
    rng = np.random.default_rng([cid, 0x5A4E])
    n = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), 0.7)
    n /= max(float(n.std()), 1e-6)
    specks = (rng.random(shape) > 0.985).astype(np.float32)
    return np.asarray(0.03 * np.clip(n, -2.5, 2.5) + 0.04 * specks, np.float32)


def _mass_tones(
    region: np.ndarray,
    ink: np.ndarray,
    ry: np.ndarray,
    rx: np.ndarray,
    noise: np.ndarray,
    light: tuple[float, float],
    rng: np.random.Generator,
    stroke: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Ramp positions (0 shadow .. 1 light) for masses of foliage, and each pixel's height in its box
    (0 top .. 1 bottom, for the strokes' perspective). A mass is lit on the light's side, darker deep
    at its bottom, and broken into clumps (a smooth height field about two strokes across, shaded by
    the light: each clump has a lit and a shadow side); the layout's strokes inside it cut clumps."""
    ly, lx = light
    comp, n = ndimage.label(region)
    stats = _label_stats(comp, n)
    size = np.sqrt(np.maximum(stats[0].astype(np.float32), 1.0))
    cy = np.zeros(n + 1, np.float32)
    cx = np.zeros(n + 1, np.float32)
    if n:
        cy[1:] = stats[1][1:] / stats[0][1:].astype(np.float64)
        cx[1:] = stats[2][1:] / stats[0][1:].astype(np.float64)
    lab = comp[ry, rx]
    s = size[lab]
    yy, xx = ry.astype(np.float32), rx.astype(np.float32)
    side = np.clip(((yy - cy[lab]) * ly + (xx - cx[lab]) * lx) / np.maximum(0.5 * s, 1.0), -1.0, 1.0)
    edge = np.pad(~region | (ink > 0.5), 1, constant_values=True)
    d = distance_to(edge)[1:-1, 1:-1][ry, rx].astype(np.float32)
    rim = np.exp(-d / max(0.6 * stroke, 1.0))  # a soft dark rim along outlines and the layout's strokes
    bh, bw = region.shape
    clumps = G.smooth_noise(bh, bw, rng, max(3.0, 2.0 * stroke))
    gy, gx = np.gradient(clumps)
    lit = -(gy * ly + gx * lx)
    lit = (lit / max(float(lit[region].std()) if region.any() else 1.0, 1e-6))[ry, rx]
    t = 0.5 + 0.28 * side + 0.14 * np.clip(lit, -2.0, 2.0) + 0.1 * clumps[ry, rx] - 0.18 * rim + 0.05 * noise
    y0, y1 = float(ry.min()), float(max(ry.max(), ry.min() + 1))
    return t.astype(np.float32), np.clip((yy - y0) / (y1 - y0), 0.0, 1.0)


def _label_stats(labels: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pixel count, row sum, column sum) per label 0..n; integer sums, so exact in any order."""
    h, w = labels.shape
    flat = labels.ravel()
    count = np.bincount(flat, minlength=n + 1)
    rows = np.bincount(flat, weights=np.repeat(np.arange(h, dtype=np.float64), w), minlength=n + 1)
    cols = np.bincount(flat, weights=np.tile(np.arange(w, dtype=np.float64), h), minlength=n + 1)
    return count, rows, cols


def _class_palette(
    request: RenderRequest,
    plan: ClassPlan,
    images: dict[int, np.ndarray],
    samples: dict[tuple[int, ...], _Samples],
) -> tuple[Palette, str]:
    """The class's palette and how a natural class is laid in with it (cloud | mass | surface)."""
    vocab = request.vocabulary
    imgs = [images.get(b, request.boards[b].image) for b in plan.boards]
    labs = [request.boards[b].labels for b in plan.boards]
    sky = vocab.id_of("sky") if "sky" in vocab else None
    if plan.kind == "cloud":
        return cloud_palette(imgs, labs, plan.source), "cloud"
    if plan.kind == "derived":
        role = role_named(plan.role)
        if plan.boards not in samples:
            f, sky_px = board_samples(imgs, labs, sky)
            samples[plan.boards] = (f, sky_px, board_tones(f, sky_px) if len(f) else None)
        return derived_palette(role, *samples[plan.boards]), role.style
    pix = np.concatenate([im[lb == plan.source] for im, lb in zip(imgs, labs, strict=True)])
    return board_palette(pix), "surface"


def paint_palette_classes(
    request: RenderRequest,
    opts: ExemplarOptions,
    plans: dict[int, ClassPlan],
    classes: list[int],
    scales: dict[int, float],
    regions: np.ndarray,
    ink: np.ndarray,
    light: tuple[float, float],
    rng: np.random.Generator,
    canvas: np.ndarray,
    images: dict[int, np.ndarray] | None = None,
) -> tuple[dict[str, list[str]], np.ndarray]:
    """Paint ``classes`` (man-made, derived, clouds) into ``canvas``; ``images`` swaps in board variants.

    Returns (class name -> board keys used, mask of the natural pixels painted here).
    """
    soft_mask = np.zeros(regions.shape, bool)
    imgs = images or {}
    # paddies painted from a fallback's paint are turned into paddies in the direction's season; one
    # painted from a derived palette is laid in below and turned after it
    paddies = paddy_classes(plans, {c: request.vocabulary.name_of(c) for c in plans}, request)
    synthesised = [c for c in paddies if plans[c].patch]
    if synthesised:
        _paint_paddies(request, plans, synthesised, regions, ink, canvas, imgs)
    if not classes:
        return {}, soft_mask
    vocab = request.vocabulary
    used: dict[str, list[str]] = {}
    structured: dict[int, Palette] = {}
    soft: dict[int, tuple[Palette, str]] = {}
    samples: dict[tuple[int, ...], _Samples] = {}
    for c in classes:
        pal, how = _class_palette(request, plans[c], imgs, samples)
        used[vocab.name_of(c)] = [request.boards[b].key for b in plans[c].boards]
        if vocab.classes[c].man_made:
            structured[c] = pal
        else:
            soft[c] = (pal, how)
    first = plans[classes[0]].boards[0]
    src_img = imgs.get(first, request.boards[first].image)
    bh, bw = src_img.shape[:2]
    s = scales[first]
    small = np.asarray(
        Image.fromarray(src_img).resize((max(1, round(bw * s)), max(1, round(bh * s))), Image.Resampling.BOX)
    )
    luma = G.colour_features(small)[..., 0]
    tex = paper_texture(luma, regions.shape[0], regions.shape[1], rng)
    contrast = board_brush_contrast(luma)
    boxes = class_boxes(regions, sorted(classes))
    if structured:
        paint_structured(
            regions,
            ink,
            structured,
            tex,
            light,
            rng,
            opts.texture_strength,
            opts.structure_line_strength if opts.line_style != "paint" else 0.0,
            canvas,
            boxes,
            brush_contrast=FACE_BRUSH * contrast * opts.brush_strength,
            occlusion=1.0 if opts.line_style != "paint" else 0.0,
        )
        # roofs no board shows: thatch or tiles, as the strokes inside each say (:mod:`.roofs`)
        roofs = [c for c in structured if plans[c].kind == "derived" and plans[c].role == "roof"]
        if roofs:
            f, sky_px, tones = samples[plans[roofs[0]].boards]
            structure_roofs(
                canvas,
                regions,
                ink,
                roofs,
                {c: structured[c] for c in roofs},
                straw_palette(f, sky_px, tones),
                stroke_length(request.height, request.width),
                request.seed,
            )
    if soft:
        soft_mask = paint_soft(
            regions,
            ink,
            soft,
            tex,
            light,
            rng,
            opts.texture_strength,
            canvas,
            boxes,
            brush_contrast=contrast * opts.brush_strength,
            shade_lines=opts.line_style != "paint",
        )
    derived = [c for c in paddies if c in soft]
    if derived:
        _paint_paddies(request, plans, derived, regions, ink, canvas, imgs)
    return used, soft_mask


def _paint_paddies(
    request: RenderRequest,
    plans: dict[int, ClassPlan],
    paddies: list[int],
    regions: np.ndarray,
    ink: np.ndarray,
    canvas: np.ndarray,
    images: dict[int, np.ndarray],
) -> None:
    """The ``paddies`` laid in already turned into paddies of the direction's season (:mod:`.paddies`),
    in the colours of the boards that paint them and of the boards that paint the sky."""
    vocab = request.vocabulary
    sky = vocab.id_of("sky") if "sky" in vocab else None
    own_boards = sorted({b for c in paddies for b in plans[c].boards})
    look = paddy_season(request.direction, [request.boards[b].tags for b in own_boards])
    water = [c for c in range(len(vocab.classes)) if kind_of(vocab.name_of(c), vocab) is KINDS["water"]]
    cover = (KINDS["grass"], KINDS["field"], KINDS["paddy"])
    ground = [
        c for c in range(len(vocab.classes)) if any(kind_of(vocab.name_of(c), vocab) is k for k in cover)
    ]
    colours = {}
    for c in paddies:
        own = plans[c].boards
        sky_boards = plans[sky].boards if sky is not None and sky in plans and plans[sky].patch else own
        colours[c] = paddy_colours(
            [images.get(b, request.boards[b].image) for b in own],
            [request.boards[b].labels for b in own],
            [images.get(b, request.boards[b].image) for b in sky_boards],
            [request.boards[b].labels for b in sky_boards],
            sky,
            water,
            ground,
            look,
        )
    paint_paddies(
        canvas, regions, ink, colours, look, (request.height, request.width), request.seed, cover=ground
    )


def recolour_maps(
    request: RenderRequest, plans: dict[int, ClassPlan], classes: list[int], images: dict[int, np.ndarray]
) -> dict[int, np.ndarray]:
    """Variants: per palette class, the affine colour map (4 x 3: RGB rows, then the offset) that
    takes the parent palette (shadow, mid, light, line) to the same palette read from the variant
    boards, ridge-regularised towards identity."""
    lam = 0.05
    m0 = np.vstack([np.eye(3), np.zeros((1, 3))])
    maps: dict[int, np.ndarray] = {}
    before: dict[tuple[int, ...], _Samples] = {}
    after: dict[tuple[int, ...], _Samples] = {}
    for c in classes:
        p0, _ = _class_palette(request, plans[c], {}, before)
        p1, _ = _class_palette(request, plans[c], images, after)
        x = np.hstack([np.stack([p0.shadow, p0.mid, p0.light, p0.line]), np.ones((4, 1))]).astype(np.float64)
        v = np.stack([p1.shadow, p1.mid, p1.light, p1.line]).astype(np.float64)
        maps[c] = np.linalg.solve(x.T @ x + lam * np.eye(4), x.T @ v + lam * m0).astype(np.float32)
    return maps


def recolour_palette_classes(
    request: RenderRequest, maps: dict[int, np.ndarray], parent: np.ndarray, canvas: np.ndarray
) -> None:
    """Variants: the parent's palette-painted pixels through their class's map (:func:`recolour_maps`):
    faces, grain and lines stay exactly where they were, only the light changes."""
    if not maps:
        return
    # one pass over the frame, each pixel through its class's map (a per-class masked matrix product
    # cost ~0.1 s of a 1080p variant in boolean indexing)
    lut = np.zeros((256, 4, 3), np.float32)
    has = np.zeros(256, np.bool_)
    for c, m in maps.items():
        lut[c], has[c] = m, True
    regions = np.ascontiguousarray(request.regions, dtype=np.uint8)
    VK.recolour(regions, np.ascontiguousarray(parent), lut, has, canvas)

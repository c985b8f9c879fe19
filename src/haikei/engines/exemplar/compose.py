"""Stage 3 of the painter, compose: what the synthesis leaves is finished into the frame.

:func:`paint_palettes` paints the palette classes (man-made faces, derived surfaces, clouds) with
the board's grain and brushwork; :func:`lay_in` lays the layout's lines into the natural areas as
shade and a glaze; :func:`to_8bit` rounds the canvas; :func:`into_frame` puts a retake's window into
its parent (feathered inside the mask, the parent byte for byte outside). Variants use the same
pieces (:mod:`.variant`).
"""

from __future__ import annotations

import numpy as np

from haikei.engines.base import RenderRequest, composite_retake
from haikei.engines.exemplar import guides as G
from haikei.engines.exemplar import variant_kernels as VK
from haikei.engines.exemplar.board_lines import InkLine
from haikei.engines.exemplar.foliage import foliage_tones, shade_masses
from haikei.engines.exemplar.lines import form_field, lay_in_ink, shade_form
from haikei.engines.exemplar.options import ExemplarOptions
from haikei.engines.exemplar.painters import paint_palette_classes
from haikei.engines.exemplar.plan import Plan, Window
from haikei.engines.exemplar.synthesis import light_direction

__all__ = ["into_frame", "lay_in", "paint_palettes", "to_8bit"]


def paint_palettes(
    request: RenderRequest,
    opts: ExemplarOptions,
    plan: Plan,
    regions: np.ndarray,
    ink: np.ndarray,
    light: tuple[float, float],
    canvas: np.ndarray,
    images: dict[int, np.ndarray] | None = None,
) -> tuple[dict[str, list[str]], np.ndarray]:
    """The plan's palette classes painted into ``canvas`` over ``regions`` (the painted window);
    ``images`` swaps in board variants. Returns (class name -> board keys, the natural pixels painted).

    First the foliage masses the synthesis painted are modelled (:func:`model_foliage`)."""
    model_foliage(request, opts, plan, regions, ink, light, canvas)
    rng = np.random.default_rng([request.seed, 0x5354])
    return paint_palette_classes(
        request,
        opts,
        dict(plan.classes),
        list(plan.palette_classes),
        dict(plan.scales),
        regions,
        ink,
        light,
        rng,
        canvas,
        images=images,
    )


def model_foliage(
    request: RenderRequest,
    opts: ExemplarOptions,
    plan: Plan,
    regions: np.ndarray,
    ink: np.ndarray,
    light: tuple[float, float],
    canvas: np.ndarray,
) -> None:
    """The foliage masses the synthesis painted into ``canvas`` (trees, bushes, forest copied from
    the boards) modelled in their boards' own tones: a lit side, a shadow side, clumps (:mod:`.foliage`)."""
    vocab = request.vocabulary
    present = np.bincount(regions.ravel(), minlength=256) > 0
    natural = tuple(c for c in plan.natural if present[c])
    tones = foliage_tones(
        [(b.image, b.labels) for b in request.boards],
        plan.classes,
        natural,
        {c: vocab.name_of(c) for c in natural},
        vocab,
    )
    painted = np.isin(regions, np.array(natural, np.uint8)) if natural else np.zeros(regions.shape, bool)
    shade_masses(canvas, regions, painted, ink, tones, light, (request.height, request.width), request.seed)


def lay_in(
    canvas: np.ndarray,
    natural: np.ndarray,
    ink: np.ndarray,
    opts: ExemplarOptions,
    frame: tuple[int, int],
    seed: int,
    faces: np.ndarray | None = None,
    line: InkLine | None = None,
    delta: bool = False,
    glazed: np.ndarray | None = None,
) -> None:
    """Lines in the ``natural`` pixels and a glaze: ``line_style`` ink draws them in ``line`` (the
    boards' own line colour and weight, :func:`.lines.lay_in_ink`; ``delta``: a variant's change to
    its parent); paint turns them into form (:func:`.lines.form_field`: lit on one side, shaded on the
    other, never darker than both); either also over the man-made ``faces`` when given (a render; a
    variant recolours its parent's faces, which carry them already). ``glazed``: the pixels the glaze
    goes over (default ``natural``; paint copied from a board carries the board's own unevenness)."""
    glaze_over = natural if glazed is None else glazed
    glaze_rng = np.random.default_rng([seed, 0x474C])
    if opts.line_style != "paint":
        if line is None:
            raise ValueError("line_style ink needs the line to draw (lines.choose_line_style)")
        drawn = natural if faces is None else natural | faces
        lay_in_ink(canvas, glaze_over, drawn, ink, line, opts.glaze, frame, glaze_rng, delta=delta)
        return
    h, w = natural.shape
    glaze_noise = G.smooth_noise(h, w, glaze_rng, max(8.0, 0.02 * max(frame)))
    formed = natural if faces is None else natural | faces
    form = (
        form_field(ink, light_direction(opts), frame, opts.line_form)
        if opts.line_form > 0
        else np.zeros((h, w), np.float32)
    )
    shade_form(canvas, glaze_over, formed, form, glaze_noise, opts.glaze)


def to_8bit(canvas: np.ndarray) -> np.ndarray:
    """clip(canvas * 255 + 0.5, 0, 255) as uint8, in one parallel pass."""
    out = np.empty(canvas.shape, np.uint8)
    VK.to_uint8(canvas, out)
    return out


def into_frame(
    request: RenderRequest, opts: ExemplarOptions, window: Window, painted: np.ndarray, source_map: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The painted window as the frame: itself for a full render; for a retake its mask's pixels
    feathered into the parent (``seam_feather``), and the parent's source map elsewhere."""
    if request.mask is None or request.init is None:
        return painted, source_map
    mask = window.crop(request.mask)
    image = composite_retake(request.init, painted, mask, opts.seam_feather, window.slices)
    h, w = request.height, request.width
    parent_map = request.init_source_map
    full_map = (
        parent_map.astype(np.int32).copy()
        if parent_map is not None and parent_map.shape == (h, w, 3)
        else np.full((h, w, 3), -1, np.int32)
    )
    full_map[window.slices][mask] = source_map[mask]
    return image, full_map

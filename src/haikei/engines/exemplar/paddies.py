"""Rice paddies that read as paddies in the season of the painting.

Bundled and studio boards rarely show a paddy; the plan then paints one from a fallback (a board's
grass or field), which reads as a meadow. After the synthesis (or the derived palette) has laid the
paddy in with the boards' paint, it is turned into a paddy here, keeping that paint's fine
brushwork (its high-pass luminance) and taking every colour from the boards.

The season (:func:`paddy_season`) is the direction's; where it names none, the season the boards that
paint the paddy are tagged with (their light is that season's); with none at all, flooded.

- ``flooded`` (spring, and the planting-time tags late_spring / early_summer / rainy_season): still
  water reflecting the sky of the boards that paint the sky over the boards' own water paint,
  lighter towards the horizon, deeper near the viewer, at 60 % of the laid-in paint's value (the
  painting's tonal plan); the bank behind each plot mirrored in it; young shoots in the boards'
  greens, dense along the rows the layout draws inside the paddy, faint and broken between them
  (parallel to those rows and to the bunds across the view, closer together far away); along the
  bund the laid-in grass overhangs the water for a shoulder (0.2 % of the frame's height), then a
  thin lip of the boards' earth at the water's edge;
- ``green`` (summer), ``gold`` (autumn), ``stubble`` (winter): the laid-in paint kept as the board
  painted it where it already lies in the season's hue (an autumn board's golds are its ripe rice),
  else moved to the season's palette (the boards' grass and field paint: greens, golds; their earth
  for stubble), its brushwork kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from haikei.domain.direction import Direction
from haikei.domain.vocabulary import UNLABELLED
from haikei.engines.exemplar import guides as G
from haikei.engines.exemplar.blur import gaussian_blur
from haikei.engines.exemplar.brushwork import stroke_length, stroke_orientation
from haikei.engines.exemplar.palettes import (
    KINDS,
    ROLES,
    Role,
    board_samples,
    board_tones,
    derived_palette,
    kind_of,
)
from haikei.engines.exemplar.structured import Palette, board_palette, class_boxes, distance_to

if TYPE_CHECKING:
    from haikei.engines.base import RenderRequest
    from haikei.engines.exemplar.boards import ClassPlan

__all__ = ["PaddyColours", "paddy_classes", "paddy_colours", "paddy_season", "paint_paddies"]

# direction tags that mean the paddies are flooded (planting time), whatever the season word says
FLOODED_TAGS = frozenset({"early_summer", "late_spring", "rainy_season"})
# ripe rice: the boards' golds (ochre to amber; a yellow-green meadow is not ripe)
RIPE = Role("ripe_rice", 0.62, 0.9, 0.0, 0.08, hue=(0.35, 1.0))
# the bund's grass shoulder along a paddy's outline, a share of the frame's height
SHOULDER = 0.002
# how much of the laid-in paint's value the water keeps (the rest is the reflection's own)
VALUE_KEPT = 0.6
_SEASON_LOOK = {"spring": "flooded", "summer": "green", "autumn": "gold", "winter": "stubble"}


def paddy_season(direction: Direction, board_tags: Sequence[frozenset[str]] = ()) -> str:
    """How the season shows in a paddy: flooded | green | gold | stubble.

    The direction's season (its planting-time tags first); where it names none, the season the
    boards that paint the paddy are tagged with (their light is that season's: an autumn board's
    paddies are ripe), the most common one; with none at all, flooded."""
    if direction.tags() & FLOODED_TAGS:
        return "flooded"
    if direction.season in _SEASON_LOOK:
        return _SEASON_LOOK[direction.season]
    votes = [s for tags in board_tags for s in sorted(tags) if s in _SEASON_LOOK]
    if any(tags & FLOODED_TAGS for tags in board_tags):
        return "flooded"
    if votes:
        return _SEASON_LOOK[max(sorted(set(votes)), key=votes.count)]
    return "flooded"


def paddy_classes(
    plans: Mapping[int, ClassPlan], names: Mapping[int, str], request: RenderRequest
) -> list[int]:
    """The natural classes of the plan that are rice paddies (their own kind, or along their fallbacks)."""
    vocab = request.vocabulary
    return sorted(
        c for c in plans if not vocab.classes[c].man_made and kind_of(names[c], vocab) is KINDS["paddy"]
    )


@dataclass(frozen=True)
class PaddyColours:
    """What a paddy is painted with, all read from the boards."""

    water: Palette  # the boards' sky, as the water reflects it
    shoots: Palette  # the boards' greens
    crop: Palette  # the season's crop: greens (summer), golds (autumn), earth (winter)
    earth: Palette  # bunds and the mud under shallow water


def paddy_colours(
    images: list[np.ndarray], labels: list[np.ndarray], sky_images: list[np.ndarray],
    sky_labels: list[np.ndarray], sky_id: int | None, water_ids: list[int], ground_ids: list[int],
    look: str,
) -> PaddyColours:  # fmt: skip
    """The paddy's palettes from the boards that paint it (``images``, ``labels``) and the boards
    that paint the sky (``sky_*``): the water reflects that sky over the boards' own water paint
    (``water_ids``: the board classes that are water), or the sky alone where no board shows water."""
    f, sky_px = board_samples(images, labels, sky_id)
    if len(f) == 0:
        raise ValueError("no labelled board pixels")
    tones = board_tones(f, sky_px)
    earth = derived_palette(ROLES["ground"], f, sky_px, tones)
    shoots = derived_palette(KINDS["grass"], f, sky_px, tones)

    def paint_of(ids: list[int], imgs: list[np.ndarray], labs: list[np.ndarray]) -> Palette | None:
        if not ids:
            return None
        parts = [im[np.isin(lb, ids)] for im, lb in zip(imgs, labs, strict=True)]
        px = np.concatenate(parts) if parts else np.zeros((0, 3), np.uint8)
        return board_palette(px) if len(px) >= 64 else None

    sky = paint_of([sky_id] if sky_id is not None else [], sky_images, sky_labels)
    if sky is None:
        sky = derived_palette(KINDS["sky"], f, sky_px, tones)
    body = paint_of(water_ids, sky_images, sky_labels) or paint_of(water_ids, images, labels)
    if body is None:
        body = Palette(sky.shadow * 0.8, sky.mid * 0.8, sky.light * 0.9, sky.line)
    # still water: the sky reflected over the water's own body, darker than the sky, the mud of the
    # paddy's floor in its shadows
    water = Palette(
        np.clip(0.5 * body.shadow + 0.2 * sky.mid + 0.3 * earth.shadow, 0.0, 1.0).astype(np.float32),
        np.clip(0.55 * body.mid + 0.45 * sky.mid, 0.0, 1.0).astype(np.float32),
        np.clip(0.35 * body.light + 0.65 * sky.light, 0.0, 1.0).astype(np.float32),
        earth.line,
    )
    # the crop from the boards' ground cover (their grass and field paint, not their sky or water):
    # its greens for growing rice, its golds for ripe rice
    ground = [c for c in range(256) if c in ground_ids]
    g_parts = [
        board_samples([im], [np.where(np.isin(lb, ground), lb, UNLABELLED)], None)[0]
        for im, lb in zip(images, labels, strict=True)
    ]
    fg = np.concatenate(g_parts) if g_parts else f[:0]
    fg = fg if len(fg) >= 64 else f
    crop = {
        "green": derived_palette(KINDS["grass"], fg, sky_px, tones),
        "gold": derived_palette(RIPE, fg, sky_px, tones),
        "stubble": earth,
    }.get(look, shoots)
    return PaddyColours(water, shoots, crop, earth)


def _in_season(rgb: np.ndarray, look: str) -> bool:
    """Whether a colour (float RGB 0..1) already lies in the season's crop hue (within 40 degrees
    of it, in the opponent space of :func:`guides.colour_features`): such paint is kept as laid in."""
    kind = {"green": KINDS["grass"], "gold": RIPE}.get(look)
    if kind is None or kind.hue is None:
        return False
    f = G.colour_features(np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(1, 1, 3)).reshape(3)
    d = np.array(kind.hue, np.float32)
    mag = float(np.linalg.norm(f[1:]))
    return mag > 0.04 and float(f[1:] @ d) / (mag * float(np.linalg.norm(d))) > np.cos(np.radians(40.0))


def _ramp(pal: Palette, t: np.ndarray) -> np.ndarray:
    """0 = shadow, 0.5 = mid, 1 = light (piecewise linear), float32 (n, 3)."""
    t = np.clip(t, 0.0, 1.0)[:, None]
    lo = pal.shadow + (pal.mid - pal.shadow) * np.minimum(2 * t, 1.0)
    return np.asarray(lo + (pal.light - pal.mid) * np.maximum(2 * t - 1.0, 0.0), np.float32)


def _below_top(reg: np.ndarray) -> np.ndarray:
    """Per pixel of ``reg`` (bool), how many pixels of ``reg`` lie straight above it in an unbroken
    run (0 on the run's top row); -1 outside ``reg``."""
    out = np.full(reg.shape, -1, np.int32)
    run = np.full(reg.shape[1], -1, np.int32)
    for y in range(reg.shape[0]):
        run = np.where(reg[y], run + 1, -1)
        out[y] = run
    return out


def _across_rows(edges: np.ndarray, length: float) -> np.ndarray:
    """The edges (bool) that run across the view (within 45 degrees of the horizon): the rows of a
    paddy run along them, as a farmer plants parallel to the bund in front of him."""
    ori = stroke_orientation(edges, 2.0 * length)
    st = ori.step
    h, w = edges.shape
    sin = np.repeat(np.repeat(ori.sin, st, axis=0), st, axis=1)[:h, :w]
    return edges & (np.abs(sin) < 0.4)


def paint_paddies(
    canvas: np.ndarray,
    regions: np.ndarray,
    ink: np.ndarray,
    colours: Mapping[int, PaddyColours],
    look: str,
    frame: tuple[int, int],
    seed: int,
    cover: Sequence[int] = (),
) -> np.ndarray:
    """Turn the paddy classes' pixels of ``canvas`` (float32 RGB, laid in already) into paddies;
    ``frame``: the full frame's (h, w), for the brush scale; ``cover``: the ground-cover classes
    (grass, field ...) whose border with a paddy is its bund. Returns the mask of pixels repainted."""
    h, w = regions.shape
    done = np.zeros((h, w), bool)
    boxes = class_boxes(regions, sorted(colours))
    length = stroke_length(*frame)
    lum_w = np.array([0.299, 0.587, 0.114], np.float32)
    for cid in sorted(colours):
        box = boxes.get(cid)
        if box is None:
            continue
        col = colours[cid]
        rng = np.random.default_rng([seed, 0x5041, cid])
        m = 2
        by = slice(max(0, box[0].start - m), min(h, box[0].stop + m))
        bx = slice(max(0, box[1].start - m), min(w, box[1].stop + m))
        reg = regions[by, bx] == cid
        if not reg.any():
            continue
        bh, bw = reg.shape
        ry, rx = np.nonzero(reg)
        paint = canvas[by, bx]
        # the boards' brushwork: the laid-in paint's fine luminance detail, relative to its tone
        lum = paint @ lum_w
        detail = (lum - gaussian_blur(np.ascontiguousarray(lum), 2.0)) / np.maximum(lum, 0.05)
        detail = np.clip(detail, -0.12, 0.12)[ry, rx][:, None]
        # nearness: 0 at the horizon's side of the frame, 1 at its foot (rows and lips widen)
        near = np.clip((ry + by.start) / max(frame[0] - 1, 1), 0.0, 1.0).astype(np.float32)
        near = np.clip((near - 0.3) / 0.7, 0.0, 1.0)
        scale = 0.3 + 0.7 * near  # the brush's size with distance
        strokes = ink[by, bx] > 0.5
        d_out = distance_to(np.pad(~reg, 1, constant_values=True))[1:-1, 1:-1][ry, rx].astype(np.float32)
        # the bunds: where the paddy meets its ridges and banks (ground cover), not a tree or a house
        bund = np.pad(~reg & np.isin(regions[by, bx], cover), 1, constant_values=False)
        d_bund = distance_to(bund)[1:-1, 1:-1][ry, rx].astype(np.float32) if bund.any() else d_out + 1e3
        noise = G.smooth_noise(bh, bw, rng, max(8.0, 4.0 * length))[ry, rx]
        dabs = gaussian_blur(rng.standard_normal((bh, bw)).astype(np.float32), 0.7)[ry, rx]
        dabs /= max(float(dabs.std()), 1e-6)
        earth = _ramp(col.earth, 0.45 + 0.15 * noise) * (1.0 + detail)
        lip = np.maximum(0.8, 0.12 * length * scale)
        if look == "flooded":
            # the rows the layout draws inside the paddy (its strokes away from the outline), and
            # faint ones between them, parallel to them and to the bunds across the view
            inner = np.zeros(reg.shape, bool)
            inner[ry, rx] = strokes[ry, rx] & (d_out > 1.5)
            d_drawn = (
                distance_to(inner)[ry, rx].astype(np.float32)
                if inner.any()
                else np.full(len(ry), 1e3, np.float32)
            )
            across = np.pad(_across_rows(~reg | inner, length), 1, constant_values=False)
            d_rows = distance_to(across)[1:-1, 1:-1][ry, rx].astype(np.float32) if across.any() else d_out
            spacing = np.maximum(2.5, 0.9 * length * scale)
            row = np.cos(2.0 * np.pi * d_rows / spacing)
            # the sky reflected: light far off, deeper near the viewer, drifting a little (clouds),
            # with faint streaks of wind along the rows
            streak = np.cos(2.0 * np.pi * d_rows / (2.7 * spacing) + 3.0 * noise)
            out = _ramp(col.water, 0.8 - 0.5 * near + 0.15 * noise + 0.06 * streak) * (1.0 + 0.5 * detail)
            # the bank behind each plot mirrored in it, darker, fading away from the plot's far edge
            k = _below_top(reg)[ry, rx]
            src_y = np.clip(ry + by.start - 2 * k - 1, 0, canvas.shape[0] - 1)
            mirror = canvas[src_y, rx + bx.start] * 0.78
            a_m = (0.35 * np.exp(-k / np.maximum(1.0, 0.5 * length * scale)))[:, None]
            out = out * (1.0 - a_m) + mirror * a_m
            # ... at the value of the board's light on that ground as laid in (the water's colour,
            # the board's value: a flooded plot keeps its place in the painting's tonal plan)
            laid = paint[ry, rx] @ lum_w
            out = out * (1.0 - VALUE_KEPT + VALUE_KEPT * laid / np.maximum(out @ lum_w, 1e-3))[:, None]
            # young shoots: dense along the drawn rows, broken and faint between them
            shoots = _ramp(col.shoots, 0.5 + 0.25 * dabs) * (1.0 + detail)
            drawn = np.clip(1.0 - d_drawn / np.maximum(1.0, 0.12 * length * scale), 0.0, 1.0) * (dabs > -0.8)
            between = 0.45 * np.clip((row - 0.5) / 0.3, 0.0, 1.0) * (dabs > 0.6)
            alpha = (np.maximum(0.85 * drawn, between) * (d_out > 0.5 * spacing))[:, None]
            out = out * (1.0 - alpha) + shoots * alpha
            # the bund's shoulder: its grass, as laid in, overhangs the water along the outline,
            # and a thin lip of earth at the water's edge
            shoulder = SHOULDER * frame[0]
            a_lip = (np.clip(1.0 - np.abs(d_bund - shoulder - 0.5 * lip) / lip, 0.0, 1.0) * 0.7)[:, None]
            out = out * (1.0 - a_lip) + earth * a_lip
            keep = np.clip((shoulder + 1.0 - d_out) / 1.5, 0.0, 1.0)[:, None]
            out = out * (1.0 - keep) + paint[ry, rx] * keep
        else:
            # standing crop (or stubble): the laid-in paint as the board painted it where it is in the
            # season's hue already (an autumn board's golds), else moved to the season's palette
            # (its mean to the palette's mid, its brushwork kept). No lip of earth: standing rice is
            # as tall as the bund and hides its edge (a lip of 0.3 cost rice_fields line_f1 .001)
            laid = paint[ry, rx]
            mean = laid.mean(axis=0)
            gain = np.ones(3, np.float32) if _in_season(mean, look) else col.crop.mid / np.maximum(mean, 1e-3)
            out = laid * gain
        paint[ry, rx] = np.clip(out, 0.0, 1.0)
        done[by, bx] |= reg
    return done

"""Foliage form: tree, bush and forest masses copied from the boards get a lit side, a shadow side
and leaf clumps.

The synthesis copies a crown's paint from the board's crowns, patch by patch: the colours and the
grain are the board's, but the light falls wherever the copied patches happened to be lit, so a
crown reads as a flat blob. A painter models the mass: the side facing the light lighter, the other
side and the underside in the foliage's own darker tone, and the mass broken into clumps, each
with a lit and a shadow side of its own. This module lays that form over the copied paint by
moving each pixel's local tone along the class's own tonal ramp on its boards (the mean colour of
each equal share of the class's board pixels, dark to light, :func:`tone_ramp`): a red autumn crown
shades into the board's crimson, a green one into its deep green, never towards grey or black. The
move is an offset (the board's grain keeps its contrast), read at the paint's local tone; the
grain inside the mass is calmed a little (:data:`GRAIN_KEPT`).

The form is the light's slope over three height fields (the light from ``light_angle``):

- the mass: the class's area blurred over about two and a half strokes (the brush scale of
  :func:`.brushwork.stroke_length`), so every crown, bush or forest edge facing the light is lit
  and the far side and underside shaded, whatever the shape (a forest band, a round crown, a trunk);
- the layout's clumps: the area cut by the layout's strokes inside it (the scalloped clump lines a
  layout draws in a crown) and blurred over half a stroke: each lobe bulges;
- leaf clumps: a noise height field with features about a stroke and a half apart, sharpened into
  dabs, shaded the same way.

Classes painted from a derived palette (no board shows them) are shaded as masses by the palette
painter itself (:func:`.painters.paint_soft`, style ``mass``) and are not touched here.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numba import njit
from PIL import Image

from haikei.domain.vocabulary import Vocabulary
from haikei.engines.exemplar import guides as G
from haikei.engines.exemplar.blur import gaussian_blur
from haikei.engines.exemplar.boards import ClassPlan
from haikei.engines.exemplar.brushwork import stroke_length
from haikei.engines.exemplar.palettes import kind_of
from haikei.engines.exemplar.structured import class_boxes

__all__ = ["FORM_KINDS", "MassTones", "foliage_tones", "shade_masses"]

# the kinds of surface (palettes.KINDS) modelled as masses when copied from a board
FORM_KINDS = ("foliage", "forest")
# how far along the class's tonal ramp (a share of its pixels, dark to light) a fully shaded / fully
# lit pixel moves. The lit side keeps its copied tone: lightening it (0.25 tried) moved crowns towards
# the board's yellow grass and hill in the region metric (village_trees tree IoU .883 -> .865)
SHADOW_SHIFT = 0.35
LIGHT_SHIFT = 0.0
# the share of the copied paint's fine contrast kept inside a modelled mass: the form over the board's
# full grain added colour edges the layout does not have (line F1 precision .748 -> .706 on
# village_trees); a painter also keeps a mass's inside quieter than its edges
GRAIN_KEPT = 0.75
_SAMPLE = 40_000  # board pixels read per class for its tones (evenly strided)
_LUM = np.array([0.299, 0.587, 0.114], np.float32)
_BINS = 24  # tones of a class's ramp


@dataclass(frozen=True)
class MassTones:
    """Per foliage class: its boards' tonal ramp, the mean colour of each of ``_BINS`` equal shares
    of its pixels from dark to light (``ramps``: class -> _BINS x 3, float32 0..1), and each step's
    luma (``lumas``: class -> _BINS, increasing)."""

    ramps: Mapping[int, np.ndarray]
    lumas: Mapping[int, np.ndarray]

    def __bool__(self) -> bool:
        return bool(self.ramps)


def tone_ramp(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ramp, luma) of a class's board pixels (N x 3 uint8): the mean colour of each of ``_BINS``
    equal shares of them by luma, dark to light, and its luma (made strictly increasing)."""
    f = pixels.reshape(-1, 3).astype(np.float32) / 255.0
    lum = f @ _LUM
    order = np.argsort(lum, kind="stable")
    cut = int(0.05 * len(order))  # the darkest and lightest twentieth are accents, not the mass's tones
    order = order[cut : len(order) - cut] if len(order) > 4 * _BINS else order
    edges = np.linspace(0, len(order), _BINS + 1).astype(np.int64)
    ramp = np.stack([f[order[a : max(b, a + 1)]].mean(axis=0) for a, b in itertools.pairwise(edges)])
    y = ramp @ _LUM
    y = np.maximum.accumulate(y + np.arange(_BINS, dtype=np.float32) * 1e-4)
    return ramp.astype(np.float32), y.astype(np.float32)


def foliage_tones(
    boards: list[tuple[np.ndarray, np.ndarray]],
    plans: Mapping[int, ClassPlan],
    natural: tuple[int, ...],
    class_name: Mapping[int, str],
    vocabulary: Vocabulary,
) -> MassTones:
    """The tones of the synthesised (``natural``) classes that are foliage: ``boards`` are (image,
    labels) per board index; a class's tones come from its source class on its boards."""
    ramps: dict[int, np.ndarray] = {}
    lumas: dict[int, np.ndarray] = {}
    for c in natural:
        if kind_of(class_name[c], vocabulary).name not in FORM_KINDS:
            continue
        p = plans[c]
        parts = []
        for b in p.boards:
            img, lab = boards[b]
            step = max(1, int(np.sqrt(img.shape[0] * img.shape[1] * len(p.boards) / _SAMPLE)))
            parts.append(img[::step, ::step][lab[::step, ::step] == p.source])
        pix = np.concatenate(parts) if parts else np.zeros((0, 3), np.uint8)
        if len(pix) < 16:
            continue
        ramps[c], lumas[c] = tone_ramp(pix)
    return MassTones(ramps, lumas)


def _local_mean(rgb: np.ndarray, region: np.ndarray, sigma: float) -> np.ndarray:
    """``rgb`` averaged over ``sigma`` within ``region`` (what lies outside does not count)."""
    w = region.astype(np.float32)
    norm = np.maximum(_smooth(w, sigma), np.float32(1e-4))
    out = np.empty(rgb.shape, np.float32)
    for ch in range(rgb.shape[2]):
        out[..., ch] = _smooth(np.ascontiguousarray(rgb[..., ch] * w, np.float32), sigma) / norm
    return out


def _slope(height: np.ndarray, light: tuple[float, float], norm: float) -> np.ndarray:
    """How much a height field faces the light: minus its gradient along the light direction times
    ``norm`` (a blurred straight edge facing the light gives 1)."""
    gy, gx = np.gradient(height)
    ly, lx = light
    return np.asarray(-(gy * ly + gx * lx) * norm, np.float32)


def _smooth(field: np.ndarray, sigma: float) -> np.ndarray:
    """``field`` (float32) blurred by ``sigma``; a wide blur (sigma >= 6) runs on a copy reduced by
    sigma / 3 and is enlarged again: a field this smooth loses nothing (at 1080p the masses' blurs
    took ~0.8 s at full size, ~0.1 s so)."""
    f = max(1, int(sigma / 3.0))
    if f == 1:
        return gaussian_blur(np.ascontiguousarray(field, np.float32), sigma)
    h, w = field.shape
    sh, sw = max(1, -(-h // f)), max(1, -(-w // f))
    small = np.asarray(Image.fromarray(field.astype(np.float32)).resize((sw, sh), Image.Resampling.BOX))
    small = gaussian_blur(np.ascontiguousarray(small, np.float32), sigma / f)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BILINEAR), np.float32)


def mass_form(
    region: np.ndarray, ink: np.ndarray, light: tuple[float, float], stroke: float, rng: np.random.Generator
) -> np.ndarray:
    """Form in -1 (shadow side) .. 1 (lit side) over a class's ``region`` (its box); ``ink``: the
    layout's ink over the same box; ``stroke``: the brush stroke's length in pixels."""
    root = float(np.sqrt(2.0 * np.pi))
    s_mass = 2.5 * stroke
    mass = _slope(_smooth(region.astype(np.float32), s_mass), light, s_mass * root)
    # the layout's strokes inside the mass cut it into lobes, each bulging on its own
    cut = region & (ink < 0.35)
    s_lobe = max(1.5, 0.5 * stroke)
    lobes = _slope(_smooth(cut.astype(np.float32), s_lobe), light, s_lobe * root)
    # leaf clumps: dabs about a stroke and a half apart, each lit on the light's side
    bh, bw = region.shape
    leaf = np.tanh(2.5 * G.smooth_noise(bh, bw, rng, max(3.0, 1.5 * stroke)))
    dabs = _slope(leaf, light, 1.0)
    dabs /= max(float(dabs[region].std()) if region.any() else 1.0, 1e-6)
    t = mass + 0.3 * lobes + 0.15 * np.clip(dabs, -2.0, 2.0)
    return np.clip(t, -1.0, 1.0).astype(np.float32)


@njit(cache=True)
def _ramp_at(ramp: np.ndarray, t: float, ch: int) -> float:  # pragma: no cover - compiled
    i = min(max(int(np.floor(t)), 0), ramp.shape[0] - 2)
    a = t - i
    return ramp[i, ch] * (1.0 - a) + ramp[i + 1, ch] * a


@njit(cache=True)
def _shade(
    sub: np.ndarray,
    sel: np.ndarray,
    form: np.ndarray,
    mean: np.ndarray,
    ramp: np.ndarray,
    ly: np.ndarray,
    grain: float,
    light_shift: float,
    shadow_shift: float,
) -> None:  # pragma: no cover - compiled
    """Each selected pixel of ``sub`` (float32 RGB, in place): its grain around the local ``mean``
    kept by ``grain``, moved along the class's ``ramp`` from the mean's place on it (``ly``, the
    steps' lumas, increasing; linear between, clamped at the ends as np.interp) by its ``form``."""
    h, w = sel.shape
    n = ramp.shape[0]
    for y in range(h):
        for x in range(w):
            if not sel[y, x]:
                continue
            m0, m1, m2 = mean[y, x, 0], mean[y, x, 1], mean[y, x, 2]
            lum = 0.299 * m0 + 0.587 * m1 + 0.114 * m2
            if lum <= ly[0]:
                pos = 0.0
            elif lum >= ly[n - 1]:
                pos = float(n - 1)
            else:
                j = np.searchsorted(ly, lum) - 1
                pos = j + (lum - ly[j]) / (ly[j + 1] - ly[j])
            t = form[y, x]
            shift = light_shift * t if t > 0 else shadow_shift * t
            to = min(max(pos + n * shift, 0.0), n - 1.0)
            for ch in range(3):
                m = mean[y, x, ch]
                v = m + (sub[y, x, ch] - m) * grain + (_ramp_at(ramp, to, ch) - _ramp_at(ramp, pos, ch))
                sub[y, x, ch] = min(max(v, 0.0), 1.0)


def shade_masses(
    canvas: np.ndarray,
    regions: np.ndarray,
    painted: np.ndarray,
    ink: np.ndarray,
    tones: MassTones,
    light: tuple[float, float],
    frame: tuple[int, int],
    seed: int,
) -> None:
    """Model the foliage pixels of ``canvas`` (float32 RGB) that are in ``painted`` (synthesised from
    the boards): each moves along its class's tonal ramp by its form (:func:`mass_form`), darker on
    the shadow side. ``frame``: the whole frame's (h, w) (a retake's window paints with the frame's
    brush)."""
    if not tones:
        return
    stroke = stroke_length(*frame)
    boxes = class_boxes(regions, sorted(tones.ramps))
    for c in sorted(tones.ramps):
        box = boxes.get(c)
        if box is None:
            continue
        region = regions[box] == c
        sel = region & painted[box]
        if not sel.any():
            continue
        rng = np.random.default_rng([seed, c, 0x464F])
        form = mass_form(region, ink[box], light, stroke, rng)
        sub = canvas[box]
        # the ramp is read at the paint's local tone (not each pixel's own), so the move is smooth and
        # the board's grain keeps its contrast; an offset, not a gain: the grain keeps its contrast on
        # both sides (one compiled pass over the box: _shade)
        mean = _local_mean(sub, region, max(1.5, 0.5 * stroke))
        _shade(sub, sel, form, mean, tones.ramps[c], tones.lumas[c], GRAIN_KEPT, LIGHT_SHIFT, SHADOW_SHIFT)

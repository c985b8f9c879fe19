"""Palettes for classes the boards do not show themselves, derived from the whole board.

A background painter who has no reference for a road or a house on the art board still paints it
in the board's colours: the board's colour family and light, desaturated, at a lightness that
suits the object's role (a road mid-dark and cool, walls light, roofs darker, windows reflecting
the sky, poles and fences dark). Clouds the boards do not label are painted from the sky's
lightest tones. Everything here works in the opponent space of :func:`guides.colour_features`
(luma, red-green, yellow-blue).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from haikei.domain.vocabulary import UNLABELLED, Vocabulary
from haikei.engines.exemplar.guides import colour_features, features_to_rgb
from haikei.engines.exemplar.structured import Palette, board_palette

__all__ = [
    "ROLES",
    "BoardTones",
    "Role",
    "board_samples",
    "board_tones",
    "cloud_palette",
    "derived_palette",
    "role_of",
]

_SAMPLE = 60_000  # board pixels used for a palette (evenly strided, deterministic)


@dataclass(frozen=True)
class Role:
    """How a class sits in a painting when it has to be painted from the board's overall palette."""

    name: str
    lightness: float  # mid tone's place in the board's tonal range (0 = its darks, 1 = its lights)
    chroma: float  # share of the hue's chroma kept (the rest is desaturated away)
    warmth: float  # -1: hue from the board's cool side (sky), +1: from its warm side, 0: overall family
    spread: float = 0.1  # luma between mid and light / shadow
    reflects_sky: bool = False  # windows: the sky's colours, a little darker
    earth: bool = False  # the warm side is the board's earth (ochre, brown), not its reds


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role("road", 0.36, 0.4, -0.5, 0.07),
        Role("path", 0.58, 0.65, 0.6, 0.08, earth=True),
        Role("ground", 0.5, 0.7, 0.6, 0.09, earth=True),
        Role("sand", 0.8, 0.7, 0.8, 0.06, earth=True),
        Role("wall", 0.82, 0.5, 0.4, 0.1),
        Role("building", 0.66, 0.5, 0.2, 0.1),
        Role("roof", 0.3, 0.7, -0.3, 0.08),
        Role("window", 0.55, 0.7, -1.0, 0.1, reflects_sky=True),
        Role("fence", 0.3, 0.5, 0.5, 0.07),
        Role("pole", 0.2, 0.35, -0.3, 0.06),
        Role("bridge", 0.45, 0.5, 0.5, 0.08),
    )
}
GENERIC = Role("generic", 0.5, 0.3, 0.0, 0.08)


def role_of(name: str, vocabulary: Vocabulary) -> Role | None:
    """The class's own role, else the first role along its fallback chain (studio classes), else None."""
    if name in ROLES:
        return ROLES[name]
    if name in vocabulary:
        for fb in vocabulary.fallback_chain(name):
            if fb in ROLES:
                return ROLES[fb]
    return None


def _pixels(images: list[np.ndarray], labels: list[np.ndarray], cls: int | None) -> np.ndarray:
    """Opponent-space features of the boards' labelled pixels (of ``cls`` if given), on a regular grid."""
    parts = []
    for img, lab in zip(images, labels, strict=True):
        step = max(1, int(np.sqrt(img.shape[0] * img.shape[1] * len(images) / _SAMPLE)))
        im, lb = img[::step, ::step], lab[::step, ::step]
        parts.append(im[lb != UNLABELLED if cls is None else lb == cls])
    px = np.concatenate(parts) if parts else np.zeros((0, 3), np.uint8)
    return colour_features(px.reshape(-1, 1, 3)).reshape(-1, 3)


def _to_rgb(f: np.ndarray) -> np.ndarray:
    return np.clip(features_to_rgb(f.reshape(1, 1, 3).astype(np.float32)).reshape(3), 0.0, 1.0)


def board_samples(
    images: list[np.ndarray], labels: list[np.ndarray], sky_id: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """(all labelled pixels, sky pixels) of the boards in opponent space, for :func:`derived_palette`."""
    f = _pixels(images, labels, None)
    sky = _pixels(images, labels, sky_id) if sky_id is not None else f[:0]
    return f, sky


@dataclass(frozen=True)
class BoardTones:
    """What every derived palette reads from the boards, whatever its role (see :func:`board_tones`)."""

    lo: float  # the boards' dark and light luma (5th / 95th percentiles)
    hi: float
    family: np.ndarray  # mean chroma (red-green, yellow-blue)
    warm: np.ndarray  # chroma of the warmest quarter
    earth: np.ndarray  # chroma of the warm pixels that lean yellow more than red (ochres, browns)
    cool: np.ndarray  # the sky's chroma, else the coolest quarter's
    light_tint: np.ndarray  # what the brightest and darkest tenths lean towards
    shadow_tint: np.ndarray


def board_tones(f: np.ndarray, sky: np.ndarray) -> BoardTones:
    """The role-independent part of :func:`derived_palette`, worked out once for all the roles."""
    if len(f) == 0:
        raise ValueError("no labelled board pixels")
    y, chroma = f[:, 0], f[:, 1:]
    lo, hi = (float(v) for v in np.quantile(y, [0.05, 0.95]))
    warm_axis = chroma[:, 0] + chroma[:, 1]  # red + yellow
    q1, q3 = np.quantile(warm_axis, [0.25, 0.75])
    cool = sky[:, 1:].mean(axis=0) if len(sky) >= 16 else chroma[warm_axis <= q1].mean(axis=0)
    order = np.argsort(y, kind="stable")
    n = len(order)
    warm = chroma[warm_axis >= q3].mean(axis=0)
    # sand, soil and paths are ochre to brown: among the board's warmer half, the pixels that lean red
    # rather than green and whose yellow is at least their red. A board whose warm side is red (a rocket, autumn leaves) gave salmon
    # sand; a board with no such pixels keeps its warm side
    earthy = (warm_axis >= np.quantile(warm_axis, 0.5)) & (chroma[:, 0] >= 0) & (chroma[:, 1] >= chroma[:, 0])
    earth = chroma[earthy].mean(axis=0) if earthy.sum() >= max(16, n // 100) else warm
    return BoardTones(
        lo,
        hi,
        family=chroma.mean(axis=0),
        warm=warm,
        earth=earth,
        cool=cool,
        light_tint=chroma[order[int(0.9 * n) :]].mean(axis=0),
        shadow_tint=chroma[order[: max(1, int(0.1 * n))]].mean(axis=0),
    )


def derived_palette(role: Role, f: np.ndarray, sky: np.ndarray, tones: BoardTones | None = None) -> Palette:
    """A palette for ``role`` from the boards' overall colour family, light and tonal range.

    ``f`` / ``sky``: the boards' labelled and sky pixels from :func:`board_samples`; ``tones``: their
    :func:`board_tones` when several roles are painted from the same boards (worked out here if not).
    """
    if len(f) == 0:
        raise ValueError("no labelled board pixels")
    if role.reflects_sky and len(sky) >= 16:
        pal = board_palette(np.clip(features_to_rgb(sky.reshape(-1, 1, 3)) * 255.0, 0, 255).reshape(-1, 3))
        k = 0.78  # glass shows the sky a little darker than it is
        return Palette(pal.shadow * k * 0.8, pal.mid * k, np.clip(pal.light * 0.95, 0, 1), pal.shadow * 0.45)
    bt = tones if tones is not None else board_tones(f, sky)
    lo, hi = bt.lo, bt.hi
    side = (bt.earth if role.earth else bt.warm) if role.warmth >= 0 else bt.cool
    a = abs(role.warmth)
    hue = (1 - a) * bt.family + a * side
    mid_y = lo + role.lightness * (hi - lo)
    span = role.spread * max(hi - lo, 0.2) / 0.6
    c = role.chroma
    mid = np.array([mid_y, *(c * hue)], np.float32)
    light = np.array([min(mid_y + span, 0.97), *(c * (0.6 * hue + 0.4 * bt.light_tint))], np.float32)
    shadow = np.array([max(mid_y - span, 0.03), *(c * (0.6 * hue + 0.4 * bt.shadow_tint))], np.float32)
    s = _to_rgb(shadow)
    return Palette(s, _to_rgb(mid), _to_rgb(light), np.clip(s * 0.55, 0.0, 1.0))


def cloud_palette(images: list[np.ndarray], labels: list[np.ndarray], sky_id: int) -> Palette:
    """A cloud from the sky's lightest tones: light = its brightest few percent, shadow = its upper-mid."""
    f = _pixels(images, labels, sky_id)
    if len(f) < 16:
        raise ValueError("no sky on the boards")
    order = np.argsort(f[:, 0], kind="stable")
    n = len(order)

    def band(a: float, b: float) -> np.ndarray:
        return f[order[int(a * n) : max(int(b * n), int(a * n) + 1)]].mean(axis=0)

    light, mid, shadow = band(0.96, 1.0), band(0.85, 0.96), band(0.55, 0.8)
    light = light.copy()
    light[0] = min(light[0] + 0.03, 0.98)  # a cloud's lit top is the lightest thing in the sky
    s = _to_rgb(shadow)
    return Palette(s, _to_rgb(mid), _to_rgb(light), np.clip(s * 0.8, 0.0, 1.0))

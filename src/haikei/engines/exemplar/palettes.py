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
    "GENERIC",
    "KINDS",
    "ROLES",
    "BoardTones",
    "Role",
    "board_samples",
    "board_tones",
    "cloud_palette",
    "derived_palette",
    "kind_of",
    "role_named",
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
    # a kind of natural surface: the direction (red-green, yellow-blue) its colours lie in; the palette
    # is then read from the boards' own pixels of that hue (their greens for foliage, blues for water)
    hue: tuple[float, float] | None = None
    style: str = "surface"  # how the palette painter lays it in: surface | grain (sand) | mass | cloud
    # the least chroma its hue keeps (sand stays warm on a board of greys and blues); with it, its light
    # and shadow keep the hue too instead of leaning to the board's grey-blue shadows
    min_chroma: float = 0.0


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role("road", 0.36, 0.4, -0.5, 0.07),
        Role("path", 0.58, 0.65, 0.6, 0.08, earth=True),
        Role("ground", 0.5, 0.7, 0.6, 0.09, earth=True),
        Role("sand", 0.8, 0.7, 0.8, 0.06, earth=True, style="grain", min_chroma=0.12),
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

# natural classes no board shows, not even along their fallbacks: the kind of surface each is, so its
# palette comes from the boards' colours for that kind (a tree from the boards' greens, a sea from their
# blues); classes with little hue of their own (snow, rock, far mountains) take the board's light and
# its cool or warm side as the roles above do
KINDS: dict[str, Role] = {
    r.name: r
    for r in (
        Role("foliage", 0.36, 0.9, 0.0, 0.12, hue=(-0.75, 0.35), style="mass"),
        Role("forest", 0.26, 0.9, 0.0, 0.1, hue=(-0.8, 0.2), style="mass"),
        Role("flower", 0.62, 0.9, 0.0, 0.1, hue=(0.9, 0.1), style="mass"),
        Role("grass", 0.55, 0.9, 0.0, 0.09, hue=(-0.55, 0.6)),
        Role("field", 0.62, 0.8, 0.0, 0.08, hue=(-0.1, 1.0)),
        Role("paddy", 0.58, 0.8, 0.0, 0.08, hue=(-0.6, 0.45)),
        Role("water", 0.5, 0.9, 0.0, 0.1, hue=(-0.15, -1.0)),
        Role("sky", 0.82, 0.8, 0.0, 0.08, hue=(-0.15, -1.0)),
        Role("snow", 0.97, 0.15, -0.8, 0.04),
        Role("rock", 0.42, 0.4, 0.3, 0.1),
        Role("mountain", 0.45, 0.45, -0.7, 0.1),
        Role("mountain_far", 0.62, 0.35, -0.8, 0.08),
        Role("cloud", 0.93, 0.15, -0.5, 0.05, style="cloud"),
    )
}
_KIND_OF = {
    "tree": "foliage",
    "bush": "foliage",
    "forest": "forest",
    "flower": "flower",
    "grass": "grass",
    "hill": "grass",
    "field": "field",
    "rice_paddy": "paddy",
    "water": "water",
    "river": "water",
    "sea": "water",
    "sky": "sky",
    "snow": "snow",
    "rock": "rock",
    "cliff": "rock",
    "mountain": "mountain",
    "mountain_far": "mountain_far",
    "cloud": "cloud",
}


def role_of(name: str, vocabulary: Vocabulary) -> Role | None:
    """The class's own role, else the first role along its fallback chain (studio classes), else None."""
    if name in ROLES:
        return ROLES[name]
    if name in vocabulary:
        for fb in vocabulary.fallback_chain(name):
            if fb in ROLES:
                return ROLES[fb]
    return None


def kind_of(name: str, vocabulary: Vocabulary) -> Role:
    """The kind of surface a class is, for a palette derived when no board shows it: its own kind or
    role, else the first along its fallback chain (studio classes), else :data:`GENERIC`."""
    for cand in [name, *(vocabulary.fallback_chain(name) if name in vocabulary else [])]:
        if cand in _KIND_OF:
            return KINDS[_KIND_OF[cand]]
        if cand in ROLES:
            return ROLES[cand]
    return GENERIC


def role_named(name: str) -> Role:
    """The role or kind of that name (as a class plan records it)."""
    return ROLES.get(name) or KINDS.get(name) or GENERIC


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
    mid_y = lo + role.lightness * (hi - lo)
    if role.hue is not None:
        own = _kind_palette(role, f, mid_y)
        if own is not None:
            return own
        hue = _kind_hue(role, f, bt)
    else:
        side = (bt.earth if role.earth else bt.warm) if role.warmth >= 0 else bt.cool
        a = abs(role.warmth)
        hue = (1 - a) * bt.family + a * side
    span = role.spread * max(hi - lo, 0.2) / 0.6
    c = role.chroma
    tint = 0.4
    if role.min_chroma > 0:
        mag = float(np.linalg.norm(c * hue))
        if mag < role.min_chroma:
            hue = hue * (role.min_chroma / max(mag, 1e-6))
            if mag < 1e-6:  # no hue at all: the warm ochre of sand
                hue = np.array([0.35, 0.94], np.float32) * role.min_chroma / c
        # sand is ochre to cream: a warm side that leans green (a yellow-green meadow) is turned to ochre
        hue = np.array([max(float(hue[0]), 0.3 * float(hue[1])), hue[1]], np.float32)
        tint = 0.15  # warm shadows (sun-lit sand), not the board's grey-blue ones
    mid = np.array([mid_y, *(c * hue)], np.float32)
    light = np.array([min(mid_y + span, 0.97), *(c * ((1 - tint) * hue + tint * bt.light_tint))], np.float32)
    shadow = np.array(
        [max(mid_y - span, 0.03), *(c * ((1 - tint) * hue + tint * bt.shadow_tint))], np.float32
    )
    s = _to_rgb(shadow)
    return Palette(s, _to_rgb(mid), _to_rgb(light), np.clip(s * 0.55, 0.0, 1.0))


def _in_hue(role: Role, f: np.ndarray) -> np.ndarray:
    """The boards' pixels whose colour lies within 40 degrees of the kind's hue (and is not near grey)."""
    assert role.hue is not None
    d = np.array(role.hue, np.float32)
    d /= np.linalg.norm(d)
    chroma = f[:, 1:]
    mag = np.linalg.norm(chroma, axis=1)
    cos = (chroma @ d) / np.maximum(mag, 1e-6)
    return (mag > 0.04) & (cos > np.cos(np.radians(40.0)))


def _kind_palette(role: Role, f: np.ndarray, target_y: float) -> Palette | None:
    """The palette of the boards' own colours of that kind (their greens for foliage ...), its light
    moved a little towards the kind's place in the boards' tonal range; None if they have too few
    (under 2 % of their labelled pixels: a few tinted edges are not that kind's colours)."""
    sel = _in_hue(role, f)
    if int(sel.sum()) < max(64, len(f) // 50):
        return None
    rgb = np.clip(features_to_rgb(f[sel].reshape(-1, 1, 3)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    pal = board_palette(rgb.reshape(-1, 3))
    lum = np.array([0.299, 0.587, 0.114], np.float32)
    y = float(pal.mid @ lum)
    k = float(np.clip((0.6 * y + 0.4 * target_y) / max(y, 1e-3), 0.75, 1.3))
    scaled = [np.clip(c * k, 0.0, 1.0).astype(np.float32) for c in (pal.shadow, pal.mid, pal.light)]
    return Palette(scaled[0], scaled[1], scaled[2], np.clip(scaled[0] * 0.55, 0.0, 1.0))


def _kind_hue(role: Role, f: np.ndarray, bt: BoardTones) -> np.ndarray:
    """A kind's chroma when the boards show too little of its hue: the kind's direction at the boards'
    colourfulness (their 75th percentile, at least that of a muted meadow green), leaning a little
    towards their colour family."""
    assert role.hue is not None
    d = np.array(role.hue, np.float32)
    d /= np.linalg.norm(d)
    vivid = float(np.quantile(np.linalg.norm(f[:, 1:], axis=1), 0.75)) if len(f) else 0.0
    return np.asarray(0.85 * max(vivid, 0.12) * d + 0.15 * bt.family, np.float32)


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

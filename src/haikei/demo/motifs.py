"""Drawing motifs for the demo layouts: sky, mountains, clouds, trees, bushes, houses, roads, poles, wires.

Every motif draws onto a :class:`~haikei.demo.canvas.Canvas` in world units (see canvas.py) and
takes its randomness from the ``numpy`` generator it is given, so a scene is deterministic by seed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from haikei.demo.canvas import Canvas, Point, smooth

__all__ = [
    "broadleaf",
    "bumpy_top",
    "cloud",
    "clouds",
    "conifer",
    "farmhouse",
    "house",
    "jagged",
    "mountain_range",
    "perspective_road",
    "pine",
    "pole",
    "rect",
    "sky",
    "treeline",
    "wires",
]


def rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def jagged(rng: np.random.Generator, pts: Sequence[Point], amount: float, pieces: int = 4) -> list[Point]:
    """Subdivide each segment and push the new points sideways (a hand-drawn rocky edge)."""
    out: list[Point] = [pts[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        length = math.hypot(x1 - x0, y1 - y0)
        nx, ny = (-(y1 - y0) / length, (x1 - x0) / length) if length > 0 else (0.0, 0.0)
        for k in range(1, pieces):
            t = k / pieces
            d = rng.uniform(-1, 1) * amount * length
            out.append((x0 + (x1 - x0) * t + nx * d, y0 + (y1 - y0) * t + ny * d))
        out.append((x1, y1))
    return out


def mountain_range(
    c: Canvas,
    rng: np.random.Generator,
    cls: str,
    x0: float,
    x1: float,
    base: float,
    top: float,
    peaks: int,
    *,
    jag: float = 0.06,
    ridges: int = 2,
    bottom: float = 1.02,
) -> list[Point]:
    """A range of peaks between ``top`` and ``base``; ridge spurs as interior lines. Returns the skyline."""
    xs = np.linspace(x0, x1, 2 * peaks + 1)
    xs[1:-1] += rng.uniform(-0.25, 0.25, len(xs) - 2) * (xs[1] - xs[0])
    control: list[Point] = []
    for i, x in enumerate(xs):
        if i % 2 == 1:
            control.append((float(x), float(top + rng.uniform(0.0, 0.45) * (base - top))))
        else:
            control.append((float(x), float(base - rng.uniform(0.05, 0.35) * (base - top))))
    sky = jagged(rng, control, jag, pieces=5)
    c.fill([*sky, (x1, bottom), (x0, bottom)], cls)
    for i in range(1, len(control), 2):
        px, py = control[i]
        for side in rng.permutation([-1.0, 1.0])[:ridges]:
            pts: list[Point] = [(px, py)]
            x, y = px, py
            drop = (base - py) * rng.uniform(0.55, 0.9)
            steps = 5
            for _ in range(steps):
                y += drop / steps
                x += side * drop / steps * rng.uniform(0.35, 1.0)
                pts.append((x, y))
            c.line(jagged(rng, pts, 0.05, pieces=2), weight=0.65)
    return sky


def bumpy_top(
    rng: np.random.Generator, x0: float, x1: float, y: float, height: float, bumps: int, samples: int = 160
) -> list[Point]:
    """The upper envelope of overlapping circles standing on the line ``y`` (clouds, bushes)."""
    centres = np.linspace(x0, x1, bumps + 2)[1:-1] + rng.uniform(-0.3, 0.3, bumps) * (x1 - x0) / (bumps + 1)
    span = (x1 - x0) / (bumps + 1)
    radii = span * rng.uniform(0.75, 1.25, bumps)
    dome = height - radii.max()
    lifts = dome * np.sin(np.pi * (centres - x0) / (x1 - x0)).clip(0.2, 1)
    xs = np.linspace(x0, x1, samples)
    top = np.full(samples, y, dtype=np.float64)
    for cx, r, lift in zip(centres, radii, lifts, strict=True):
        inside = np.abs(xs - cx) < r
        top[inside] = np.minimum(top[inside], y - lift - np.sqrt(r * r - (xs[inside] - cx) ** 2))
    return [(float(a), float(b)) for a, b in zip(xs, top, strict=True)]


def cloud(c: Canvas, rng: np.random.Generator, cx: float, cy: float, w: float, h: float) -> None:
    """A cumulus cloud: scalloped top, nearly flat base, one inner shading line."""
    top = bumpy_top(rng, cx - w / 2, cx + w / 2, cy, h, int(rng.integers(3, 6)))
    base = smooth([(cx + w / 2, cy), (cx, cy + h * 0.08), (cx - w / 2, cy)], 3)
    c.fill([*top, *base[1:-1]], "cloud", weight=0.8)
    inner = [(x, y + h * 0.35) for x, y in top[len(top) // 5 : len(top) * 3 // 5]]
    c.line([p for p in inner if p[1] < cy - h * 0.05], weight=0.5)


def _blob(rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, lobes: int) -> list[Point]:
    """A foliage clump outline: a scalloped ellipse whose lobes meet in small inward cusps."""
    phase = rng.uniform(0, 2 * math.pi)
    jitter = rng.uniform(0.9, 1.1, lobes)
    pts: list[Point] = []
    n = lobes * 12
    for k in range(n):
        a = 2 * math.pi * k / n
        lobe = int((a + phase) / (2 * math.pi) * lobes) % lobes
        s = abs(math.sin((a + phase) * lobes / 2))
        r = (0.84 + 0.16 * s**0.5) * jitter[lobe]
        pts.append((cx + rx * r * math.cos(a + phase), cy + ry * r * math.sin(a + phase)))
    return pts


def broadleaf(
    c: Canvas,
    rng: np.random.Generator,
    x: float,
    ground: float,
    size: float,
    *,
    book: bool = False,
    cls: str = "tree",
    trunk: bool = True,
) -> None:
    """A broadleaf tree: trunk, scalloped crown, clump contours inside the crown."""
    crown_cy = ground - size * (0.95 if trunk else 0.5)
    if trunk:
        tw = size * 0.07
        c.fill(
            [(x - tw, ground), (x - tw * 0.6, crown_cy), (x + tw * 0.6, crown_cy), (x + tw, ground)],
            cls,
            book=book,
        )
    rx, ry = size * 0.55, size * 0.5
    c.fill(_blob(rng, x, crown_cy, rx, ry, int(rng.integers(7, 11))), cls, book=book)
    for _ in range(int(rng.integers(2, 4))):
        ax = x + rng.uniform(-0.45, 0.45) * rx
        ay = crown_cy + rng.uniform(-0.2, 0.45) * ry
        r = size * rng.uniform(0.12, 0.2)
        a0 = rng.uniform(0.1, 0.6) * math.pi
        arc = [
            (ax + r * math.cos(a0 + t), ay + r * math.sin(a0 + t)) for t in np.linspace(0, math.pi * 0.8, 10)
        ]
        c.line(arc, weight=0.55)


def conifer(
    c: Canvas,
    rng: np.random.Generator,
    x: float,
    ground: float,
    h: float,
    *,
    cls: str = "tree",
    book: bool = False,
) -> None:
    """A cedar: a tall narrow crown with a zigzag (tiered) outline and a short trunk."""
    w = h * rng.uniform(0.28, 0.36)
    tw = w * 0.08
    c.fill(rect(x - tw, ground - h * 0.2, x + tw, ground), cls, book=book)
    tiers = int(rng.integers(6, 9))
    left: list[Point] = [(x, ground - h)]
    right: list[Point] = [(x, ground - h)]
    for i in range(1, tiers + 1):
        t = i / tiers
        y = ground - h + t * h * 0.88
        half = w / 2 * t * rng.uniform(0.9, 1.1)
        left += [(x - half, y), (x - half * 0.72, y - h * 0.02)]
        right += [(x + half, y), (x + half * 0.72, y - h * 0.02)]
    outline = [*left[:-1], (x, ground - h * 0.1), *right[-2::-1]]
    c.fill(outline, cls, book=book)


def house(
    c: Canvas, rng: np.random.Generator, x: float, ground: float, w: float, h: float, *, storeys: int = 1
) -> list[Point]:
    """A Japanese house seen front on: walls, tiled hip roof with eaves, framed windows, sliding door.

    Returns the two eave corners (where a wire may run past)."""
    wall_top = ground - h
    c.fill(rect(x, wall_top, x + w, ground), "wall")
    # storey band and plinth
    c.line([(x, ground - h * 0.08), (x + w, ground - h * 0.08)], weight=0.6)
    if storeys == 2:
        mid = ground - h * 0.52
        c.fill(rect(x - w * 0.04, mid - h * 0.05, x + w * 1.04, mid + h * 0.02), "roof")
    # windows per storey
    levels = [ground - h * 0.45] if storeys == 1 else [ground - h * 0.22, ground - h * 0.75]
    n_win = max(1, int(w / (h * 0.45)))
    door_slot = int(rng.integers(0, n_win + 1)) if storeys == 1 else -1
    slots = np.linspace(x + w * 0.08, x + w * 0.92, n_win + 2)
    for lv, cy in enumerate(levels):
        for i in range(n_win + 1):
            sx0 = slots[i] + (slots[1] - slots[0]) * 0.15
            sx1 = slots[i + 1] - (slots[1] - slots[0]) * 0.15
            if lv == 0 and i == door_slot:
                dpts = rect(sx0, ground - h * 0.62, sx1, ground - h * 0.08)
                c.fill(dpts, "building")
                mid_x = (sx0 + sx1) / 2
                c.line([(mid_x, ground - h * 0.62), (mid_x, ground - h * 0.08)], weight=0.6)
                continue
            if rng.uniform() < 0.25:
                continue
            wh = h * (0.2 if storeys == 2 else 0.26)
            win = rect(sx0, cy - wh / 2, sx1, cy + wh / 2)
            c.fill(win, "window")
            c.line([((sx0 + sx1) / 2, cy - wh / 2), ((sx0 + sx1) / 2, cy + wh / 2)], weight=0.5)
            c.line([(sx0, cy), (sx1, cy)], weight=0.45)
    # hip roof with eaves overhang and tile rows
    over = w * 0.08
    rh = h * rng.uniform(0.28, 0.38)
    ridge_in = w * rng.uniform(0.18, 0.3)
    eave_y = wall_top + h * 0.04
    roof = [
        (x - over, eave_y),
        (x + ridge_in, wall_top - rh),
        (x + w - ridge_in, wall_top - rh),
        (x + w + over, eave_y),
    ]
    c.fill([*roof, (x + w + over, eave_y + h * 0.05), (x - over, eave_y + h * 0.05)], "roof")
    c.line([(x + ridge_in, wall_top - rh), (x + ridge_in * 1.4, eave_y)], weight=0.55)
    c.line([(x + w - ridge_in, wall_top - rh), (x + w - ridge_in * 1.4, eave_y)], weight=0.55)
    for k in range(1, 4):
        ty = wall_top - rh + k * (rh + h * 0.04) / 4
        f = (ty - (wall_top - rh)) / (eave_y - (wall_top - rh))
        lx = x + ridge_in - f * (ridge_in + over)
        rx = x + w - ridge_in + f * (ridge_in + over)
        c.line([(lx + w * 0.01, ty), (rx - w * 0.01, ty)], weight=0.4)
    return [(x - over, eave_y), (x + w + over, eave_y)]


def pole(c: Canvas, x: float, ground: float, height: float, *, book: bool = False) -> list[Point]:
    """A wooden utility pole with a cross-arm; returns the wire attachment points (left, right)."""
    pw = max(height * 0.022, 0.0025)
    top = ground - height
    c.fill([(x - pw, ground), (x - pw * 0.7, top), (x + pw * 0.7, top), (x + pw, ground)], "pole", book=book)
    arm_y = top + height * 0.07
    arm_w = height * 0.16
    c.fill(rect(x - arm_w, arm_y - pw * 0.6, x + arm_w, arm_y + pw * 0.6), "pole", book=book)
    return [(x - arm_w * 0.85, arm_y - pw * 0.6), (x + arm_w * 0.85, arm_y - pw * 0.6)]


def wires(c: Canvas, tops: Sequence[Sequence[Point]], sag: float = 0.06) -> None:
    """Sagging wires between consecutive poles' attachment points."""
    for a, b in itertools.pairwise(tops):
        for (x0, y0), (x1, y1) in zip(a, b, strict=True):
            span = math.hypot(x1 - x0, y1 - y0)
            pts = [
                (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t + 4 * sag * span * t * (1 - t))
                for t in np.linspace(0, 1, 24)
            ]
            c.line(pts, weight=0.45)


def sky(c: Canvas) -> None:
    a = c.aspect
    c.fill(rect(-0.05, -0.05, a + 0.05, 1.05), "sky", outline=False)


def clouds(c: Canvas, rng: np.random.Generator, y0: float, y1: float, density: float = 1.0) -> None:
    n = max(1, round(c.aspect * 1.3 * density))
    xs = (np.arange(n) + rng.uniform(0.15, 0.85, n)) * c.aspect / n
    for x in xs:
        w = rng.uniform(0.18, 0.34)
        cloud(c, rng, float(x), float(rng.uniform(y0, y1)), w, w * rng.uniform(0.35, 0.5))


def treeline(rng: np.random.Generator, x0: float, x1: float, y: float, h: float) -> list[Point]:
    """The saw-tooth top of a cedar forest seen from afar: tips and valleys of uneven height."""
    pts: list[Point] = []
    x = x0
    while x < x1:
        step = h * rng.uniform(0.45, 0.8)
        pts.append((x, y - rng.uniform(0.2, 0.4) * h))
        pts.append((x + step / 2, y - h * rng.uniform(0.7, 1.3)))
        x += step
    pts.append((x1, y - 0.3 * h))
    return pts


def perspective_road(
    c: Canvas,
    rng: np.random.Generator,
    horizon: float,
    vp_x: float,
    near_x: float,
    half_w: float,
    t_end: float,
) -> tuple[list[Point], list[Point], list[Point]]:
    """A road in perspective from below the frame towards ``vp_x`` on the horizon, winding."""
    left: list[Point] = []
    right: list[Point] = []
    centre: list[Point] = []
    amp, freq, phase = rng.uniform(0.35, 0.5), rng.uniform(1.3, 1.8), rng.uniform(0, math.pi)
    for t in np.linspace(0.0, t_end, 60):
        s = (1.0 - t) ** 2  # perspective scale: 1 at the bottom, 0 at the horizon
        y = horizon + (1.08 - horizon) * s
        lateral = (near_x - vp_x) + amp * math.sin(2 * math.pi * freq * t + phase) * (1 - s) * 0.9
        x = vp_x + lateral * s
        left.append((x - half_w * s, y))
        right.append((x + half_w * s, y))
        centre.append((x, y))
    return left, right, centre


def pine(
    c: Canvas,
    rng: np.random.Generator,
    x: float,
    ground: float,
    h: float,
    *,
    lean: float = 0.0,
    cls: str = "tree",
    book: bool = False,
) -> None:
    """A seaside pine (松): a bent trunk and flat, layered foliage pads with a shading line under each."""
    # the trunk bends towards ``lean`` (world units of sideways drift at the top)
    spine = [(x + lean * (t**1.6), ground - h * t) for t in np.linspace(0.0, 0.92, 12)]
    tw = h * 0.035
    left = [(px - tw * (1 - 0.6 * i / 11), py) for i, (px, py) in enumerate(spine)]
    right = [(px + tw * (1 - 0.6 * i / 11), py) for i, (px, py) in enumerate(spine)]
    c.fill([*left, *right[::-1]], cls, book=book)
    pads = int(rng.integers(3, 6))
    for k in range(pads):
        t = 0.45 + 0.5 * k / max(1, pads - 1)
        px, py = x + lean * t**1.6, ground - h * t
        side = 1.0 if k % 2 == 0 else -1.0
        cx = px + side * h * rng.uniform(0.05, 0.18)
        rx, ry = h * rng.uniform(0.18, 0.3) * (1.15 - 0.4 * t), h * rng.uniform(0.06, 0.09)
        top = bumpy_top(rng, cx - rx, cx + rx, py + ry * 0.4, ry * 1.6, int(rng.integers(3, 6)), 60)
        base = smooth([(cx + rx, py + ry * 0.4), (cx, py + ry * 0.75), (cx - rx, py + ry * 0.4)], 3)
        c.fill([*top, *base[1:-1]], cls, book=book)
        c.line([(cx - rx * 0.6, py + ry * 0.15), (cx + rx * 0.5, py + ry * 0.2)], weight=0.45)


def farmhouse(
    c: Canvas, rng: np.random.Generator, x: float, ground: float, w: float, h: float, *, thatch: bool = True
) -> None:
    """A farmhouse (農家) seen front on: low walls with timber posts, sliding doors, a small window,
    a veranda board, and a tall steep hip roof, thatched (strokes down the slope, a ridge cap) or tiled."""
    wall_top = ground - h
    c.fill(rect(x, wall_top, x + w, ground), "wall")
    posts = max(3, round(w / (h * 0.55)))
    for px in np.linspace(x, x + w, posts + 1)[1:-1]:
        c.line([(float(px), wall_top), (float(px), ground)], weight=0.5)
    c.line([(x, ground - h * 0.12), (x + w, ground - h * 0.12)], weight=0.55)  # veranda board
    # sliding doors in one bay, a latticed window in another
    bays = np.linspace(x, x + w, posts + 1)
    d = int(rng.integers(0, posts))
    c.fill(
        rect(float(bays[d]) + w * 0.01, ground - h * 0.8, float(bays[d + 1]) - w * 0.01, ground - h * 0.12),
        "building",
    )
    mid = float(bays[d] + bays[d + 1]) / 2
    c.line([(mid, ground - h * 0.8), (mid, ground - h * 0.12)], weight=0.5)
    wb = (d + 1 + int(rng.integers(0, max(1, posts - 1)))) % posts
    if wb != d:
        x0, x1 = float(bays[wb]) + w * 0.03, float(bays[wb + 1]) - w * 0.03
        c.fill(rect(x0, ground - h * 0.7, x1, ground - h * 0.4), "window")
        for k in (1, 2):
            gx = x0 + (x1 - x0) * k / 3
            c.line([(gx, ground - h * 0.7), (gx, ground - h * 0.4)], weight=0.4)
    # the roof: steep, much taller than the walls, with deep eaves
    over = w * 0.1
    rh = h * rng.uniform(1.1, 1.4)
    ridge_in = w * rng.uniform(0.22, 0.3)
    eave_y = wall_top + h * 0.1
    apex = wall_top - rh
    roof = [(x - over, eave_y), (x + ridge_in, apex), (x + w - ridge_in, apex), (x + w + over, eave_y)]
    c.fill([*roof, (x + w + over, eave_y + h * 0.06), (x - over, eave_y + h * 0.06)], "roof")
    c.line([(x + ridge_in, apex), (x + ridge_in * 1.25, eave_y)], weight=0.55)
    c.line([(x + w - ridge_in, apex), (x + w - ridge_in * 1.25, eave_y)], weight=0.55)
    if thatch:
        # a ridge cap, and thatch strokes running down the slope in uneven bundles
        c.fill(
            rect(x + ridge_in - w * 0.02, apex - h * 0.06, x + w - ridge_in + w * 0.02, apex + h * 0.03),
            "roof",
        )
        for t in np.linspace(0.08, 0.92, max(6, round(w / (h * 0.18)))):
            tx = x + ridge_in + (w - 2 * ridge_in) * float(t)
            bx = x - over + (w + 2 * over) * float(t)
            y0 = apex + rh * rng.uniform(0.15, 0.3)
            y1 = y0 + (eave_y - y0) * rng.uniform(0.35, 0.6)
            f0, f1 = (y0 - apex) / (eave_y - apex), (y1 - apex) / (eave_y - apex)
            c.line([(tx + (bx - tx) * f0, y0), (tx + (bx - tx) * f1, y1)], weight=0.35)
    else:
        for k in range(1, 5):
            ty = apex + k * (eave_y - apex) / 5
            f = (ty - apex) / (eave_y - apex)
            c.line(
                [(x + ridge_in - f * (ridge_in + over), ty), (x + w - ridge_in + f * (ridge_in + over), ty)],
                weight=0.4,
            )

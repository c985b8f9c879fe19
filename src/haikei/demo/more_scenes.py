"""Three more layouts, drawn by our own code, that need classes the bundled art boards lack.

The bundled boards (SafeLanding, Altai) show sky, mountains, hills, forest, trees, bushes, grass,
water, ground, rock, snow and a little building; they show no roof, wall, window, fence, path,
flower, field, rice paddy, sea, sand, cloud or bridge. These places are made of exactly those:

- ``village_trees`` (木立の村): houses and a thatched farmhouse among broadleaf trees and cedars,
  hedges, a flower bed, a fence, a lane;
- ``rice_terraces`` (棚田): water-filled terraces stepping down a hillside with grass risers, a
  thatched farmhouse with a dry field beside it, a path down through the terraces;
- ``beach`` (浜辺): sea to the horizon, a rocky headland with pines, a wide sand beach with foam
  lines, a wooden jetty, dune grass.

They are bench cases (``haikei bench``): an engine that refuses a class the boards lack shows as
refused there, and one that paints it can be looked at. Drawn like :mod:`haikei.demo.scenes` (world
units, any size) and kept apart from its ``SCENES``, which the demo production uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from haikei.demo.canvas import Canvas, Point, smooth
from haikei.demo.motifs import (
    broadleaf,
    bumpy_top,
    clouds,
    conifer,
    farmhouse,
    house,
    jagged,
    mountain_range,
    perspective_road,
    pine,
    pole,
    rect,
    sky,
    treeline,
    wires,
)
from haikei.demo.scenes import Scene
from haikei.domain.vocabulary import Vocabulary
from haikei.errors import InputError

__all__ = ["MORE_SCENES", "make_more_scene"]


def _x_at(side: list[Point], y: float) -> float:
    """Where a road edge (points from near to far) crosses height ``y``."""
    return min(side, key=lambda p: abs(p[1] - y))[0]


def _village_trees(c: Canvas, rng: np.random.Generator) -> None:
    a, back, front = c.aspect, 0.6, 0.84
    sky(c)
    clouds(c, rng, 0.07, 0.18, 0.8)
    mountain_range(
        c, rng, "mountain_far", -0.05, a + 0.05, 0.42, 0.2, max(2, round(a * 1.5)), jag=0.03, ridges=1
    )
    hill = smooth([(x, 0.38 + rng.uniform(-0.03, 0.03)) for x in np.linspace(-0.05, a + 0.05, 7)], 4)
    c.fill([*hill, (a + 0.05, 1.05), (-0.05, 1.05)], "hill")
    # the wooded slope behind the village, cedars standing in front of it
    c.fill([*treeline(rng, -0.05, a + 0.05, 0.5, 0.05), (a + 0.05, 1.05), (-0.05, 1.05)], "forest")
    for x in np.sort(rng.uniform(0, a, round(a * 4))):
        conifer(c, rng, float(x), 0.56, rng.uniform(0.08, 0.13))
    c.fill(rect(-0.05, 0.555, a + 0.05, 1.05), "grass")
    # back row: small houses and trees between them
    x = -0.05
    while x < a:
        if rng.uniform() < 0.4:
            broadleaf(c, rng, x + 0.07, back, rng.uniform(0.15, 0.22))
            x += 0.13
            continue
        w = rng.uniform(0.18, 0.26)
        house(c, rng, x, back, w, rng.uniform(0.09, 0.12))
        x += w + rng.uniform(0.03, 0.07)
    # the lane from the foreground up between the houses
    left, right, _ = perspective_road(c, rng, back, a * 0.5, a * 0.47, 0.28, 0.88)
    c.fill([*left, *right[::-1]], "path")
    # front row, one side each of the lane: a thatched farmhouse, a tiled house; trees and hedges
    lx, rx = _x_at(left, front), _x_at(right, front)
    fw = max(0.2, min(0.42, lx - 0.12))
    farmhouse(c, rng, lx - fw - 0.06, front, fw, 0.12)
    hw = max(0.2, min(0.4, a - rx - 0.12))
    house(c, rng, rx + 0.08, front, hw, 0.14)
    broadleaf(c, rng, lx - fw - 0.12, front + 0.01, 0.34)
    broadleaf(c, rng, rx + hw + 0.12, front + 0.01, 0.3)
    for x0, x1 in ((-0.05, lx - 0.02), (rx + 0.02, a + 0.05)):
        if x1 - x0 > 0.08:
            top = bumpy_top(rng, x0, x1, front + 0.05, 0.06, max(3, round((x1 - x0) * 14)))
            c.fill([*top, (x1, front + 0.05), (x0, front + 0.05)], "bush")
    # a wooden fence along the lane's right edge, a flower bed in the near left corner
    posts = [(_x_at(right, y) + 0.02, y) for y in np.linspace(0.9, 1.04, 5)]
    for px, py in posts:
        c.fill(rect(px - 0.006, py - 0.07, px + 0.006, py), "fence")
    c.fill([(posts[0][0], posts[0][1] - 0.055), (posts[-1][0], posts[-1][1] - 0.055),
            (posts[-1][0], posts[-1][1] - 0.04), (posts[0][0], posts[0][1] - 0.04)], "fence")  # fmt: skip
    bed = bumpy_top(rng, -0.06, a * 0.22, 1.06, 0.1, 6)
    c.fill([*bed, (a * 0.22, 1.06), (-0.06, 1.06)], "flower")
    for x, y in bed[8::20]:
        c.line([(x - 0.01, y + 0.03), (x + 0.01, y + 0.02)], weight=0.45)
    # a big tree in the near right corner, cut by the frame
    broadleaf(c, rng, a - 0.02, 1.04, 0.62)
    # utility poles along the lane's left side
    tops = [pole(c, _x_at(left, y) - 0.03, y, 0.5 * (y - 0.55) / 0.45) for y in (0.72, 0.98)]
    wires(c, tops, sag=0.04)


def _terrace_contour(k: int, n: int, xs: np.ndarray, phase: float, period: float) -> list[Point]:
    """The front edge of terrace ``k`` of ``n``: a contour line of the hillside, steps growing nearer."""
    t = k / n
    base = 0.4 + (1.1 - 0.4) * t**1.35
    amp = 0.012 + 0.05 * t
    ys = base + amp * np.sin(2 * math.pi * xs / period + phase) + 0.012 * t * np.sin(7.0 * xs + 2 * phase)
    return [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]


def _rice_terraces(c: Canvas, rng: np.random.Generator) -> None:
    a = c.aspect
    sky(c)
    clouds(c, rng, 0.06, 0.15, 0.7)
    mountain_range(
        c, rng, "mountain_far", -0.05, a + 0.05, 0.34, 0.14, max(2, round(a * 1.6)), jag=0.03, ridges=1
    )
    mountain_range(c, rng, "mountain", -0.05, a + 0.05, 0.42, 0.24, max(2, round(a * 1.1)), jag=0.05)
    c.fill([*treeline(rng, -0.05, a + 0.05, 0.41, 0.04), (a + 0.05, 1.05), (-0.05, 1.05)], "forest")
    # terraces, far to near: each band a water-filled paddy over a grass riser (the bank down to
    # the next paddy), seedling rows on the water, a few levees (畦) splitting the long paddies
    n = 9
    xs = np.linspace(-0.05, a + 0.05, 90)
    phase, period = rng.uniform(0, 2 * math.pi), a * rng.uniform(0.7, 1.0)
    edges = [_terrace_contour(k, n, xs, phase, period) for k in range(n + 1)]
    house_band = 4
    hx = a * rng.uniform(0.58, 0.7)
    for k in range(n):
        top, bottom = edges[k], edges[k + 1]
        bank = [(x, y + 0.62 * (yb - y)) for (x, y), (_, yb) in zip(top, bottom, strict=True)]
        c.fill([*top, *bottom[::-1]], "grass")
        c.fill([*top, *bank[::-1]], "rice_paddy", weight=0.8)
        depth = (k + 1) / n
        for j in range(int(rng.integers(1, 3))):
            lx = float(rng.uniform(0.1, a - 0.1))
            i = int(np.argmin(np.abs(xs - lx)))
            c.line([(lx, top[i][1]), (lx + 0.02 * (j - 0.5), bank[i][1])], weight=0.5)
        for row in (0.3, 0.6):
            pts = [(x, y + row * (yb - y)) for (x, y), (_, yb) in zip(top, bank, strict=True)]
            for i in range(int(rng.integers(0, 6)), len(pts) - 3, 9):
                c.line(pts[i : i + 2], weight=0.3 + 0.15 * depth)
        if k == house_band:
            # the farmhouse stands on this terrace, a dry field (畑) beside it, trees behind
            i = int(np.argmin(np.abs(xs - hx)))
            g = bank[i][1]
            broadleaf(c, rng, hx - 0.06, g, 0.2)
            broadleaf(c, rng, hx + 0.36, g, 0.16)
            fx0, fx1 = hx + 0.3, hx + 0.55
            i0, i1 = int(np.argmin(np.abs(xs - fx0))), int(np.argmin(np.abs(xs - fx1)))
            field = [
                (fx0, top[i0][1] + 0.01),
                (fx1, top[i1][1] + 0.01),
                (fx1, bank[i1][1]),
                (fx0, bank[i0][1]),
            ]
            c.fill(field, "field")
            for r in (0.33, 0.66):
                c.line(
                    [(fx0 + 0.01, field[0][1] + r * (field[3][1] - field[0][1])),
                     (fx1 - 0.01, field[1][1] + r * (field[2][1] - field[1][1]))],
                    weight=0.4,
                )  # fmt: skip
            farmhouse(c, rng, hx, g, 0.26, 0.075)
    # a footpath from the farmhouse down through the terraces to the near left
    i = int(np.argmin(np.abs(xs - hx)))
    start = (hx + 0.04, edges[house_band + 1][i][1])
    path = [
        (
            start[0] + (a * 0.18 - start[0]) * t + 0.08 * math.sin(3 * math.pi * t),
            start[1] + (1.08 - start[1]) * t,
        )
        for t in np.linspace(0, 1, 30)
    ]
    half = [0.007 + 0.05 * t * t for t in np.linspace(0, 1, 30)]
    c.fill(
        [(x - h, y) for (x, y), h in zip(path, half, strict=True)]
        + [(x + h, y) for (x, y), h in zip(path[::-1], half[::-1], strict=True)],
        "path",
    )


def _beach(c: Canvas, rng: np.random.Generator) -> None:
    a, horizon = c.aspect, 0.44
    sky(c)
    clouds(c, rng, 0.1, 0.28, 1.1)
    c.fill(rect(-0.05, horizon, a + 0.05, 1.05), "sea")
    # an island on the horizon
    ix = a * rng.uniform(0.15, 0.35)
    c.fill(
        smooth([(ix, horizon + 0.003), (ix + 0.06, horizon - 0.035), (ix + 0.2, horizon - 0.045),
                (ix + 0.32, horizon + 0.003)], 3),
        "mountain_far",
    )  # fmt: skip
    # a rocky headland on the right with pines on top
    h0 = a * 0.7
    crest = jagged(rng, [(h0, horizon + 0.01), (h0 + 0.1, 0.37), (a * 0.88, 0.33), (a + 0.05, 0.34)], 0.06, 3)
    c.fill([*crest, (a + 0.05, 0.66), (h0 + 0.02, 0.6), (h0 - 0.04, 0.5)], "rock")
    for k in range(4):
        y = 0.4 + 0.05 * k
        c.line(jagged(rng, [(h0 + 0.04 + 0.02 * k, y), (a * 0.85, y + 0.02), (a + 0.05, y + 0.03)], 0.05, 3),
               weight=0.5)  # fmt: skip
    cap = [(x, y - 0.012) for x, y in crest[2:]]
    c.fill([*cap, *[(x, y + 0.02) for x, y in crest[:1:-1]]], "grass")
    for x in np.linspace(h0 + 0.15, a - 0.05, max(2, round((a - h0) * 8))):
        i = int(np.argmin([abs(px - x) for px, _ in crest]))
        pine(c, rng, float(x), crest[i][1] + 0.01, rng.uniform(0.14, 0.22), lean=rng.uniform(-0.06, 0.03))
    # the shoreline, the beach sweeping across the foreground, foam lines on the sea
    shore = smooth([(-0.05, 0.6), (a * 0.3, 0.64), (a * 0.55, 0.69), (a * 0.72, 0.63), (a + 0.05, 0.66)], 4)
    for i in range(3):
        foam = [(x, y - 0.018 - 0.03 * i) for x, y in shore]
        for j in range(int(rng.integers(0, 4)), len(foam) - 4, 7):
            c.line(foam[j : j + 3], weight=0.5)
    for _ in range(round(a * 7)):
        x, y = rng.uniform(0, h0), rng.uniform(horizon + 0.02, 0.54)
        c.line([(x, y), (x + rng.uniform(0.02, 0.05) * (1 + 3 * (y - horizon)), y)], weight=0.4)
    c.fill([*shore, (a + 0.05, 1.05), (-0.05, 1.05)], "sand")
    wet = [(x, y + 0.03) for x, y in shore]
    for j in range(0, len(wet) - 6, 8):
        c.line(wet[j : j + 5], weight=0.4)
    # a wooden jetty from the beach out into the sea, planks across it
    jx = a * rng.uniform(0.4, 0.5)
    far_y, near_y = horizon + 0.08, 0.8
    jetty = [(jx - 0.012, far_y), (jx + 0.012, far_y), (jx + 0.07, near_y), (jx - 0.05, near_y)]
    c.fill(jetty, "bridge")
    for t in np.linspace(0.12, 0.95, 9):
        y = far_y + (near_y - far_y) * t
        c.line([(jx - 0.012 - 0.038 * t, y), (jx + 0.012 + 0.058 * t, y)], weight=0.35)
    # rocks on the sand, dune grass and a pine in the near left corner
    for x, y, r in ((a * 0.62, 0.8, 0.04), (a * 0.68, 0.83, 0.025), (a * 0.85, 0.92, 0.06)):
        stone = jagged(rng, [(x - r, y + r * 0.4), (x - r * 0.6, y - r * 0.5), (x + r * 0.4, y - r * 0.6),
                             (x + r, y + r * 0.4)], 0.1, 3)  # fmt: skip
        c.fill(stone, "rock")
    dune = bumpy_top(rng, -0.08, a * 0.3, 1.06, 0.2, 6)
    c.fill([*dune, (a * 0.3, 1.06), (-0.08, 1.06)], "grass")
    for x, y in dune[6::14]:
        c.line([(x, y + 0.02), (x + 0.015, y - 0.02)], weight=0.45)
        c.line([(x + 0.01, y + 0.03), (x + 0.035, y - 0.005)], weight=0.45)
    bush_top = bumpy_top(rng, a * 0.02, a * 0.16, 0.93, 0.07, 4)
    c.fill([*bush_top, (a * 0.16, 0.93), (a * 0.02, 0.93)], "bush")
    pine(c, rng, 0.12, 1.02, 0.62, lean=0.12)


_MORE: dict[str, tuple[str, str, Callable[[Canvas, np.random.Generator], None]]] = {
    "village_trees": ("Village with trees", "木立の村", _village_trees),
    "rice_terraces": ("Rice terraces", "棚田", _rice_terraces),
    "beach": ("Beach", "浜辺", _beach),
}

MORE_SCENES: tuple[str, ...] = tuple(_MORE)


def make_more_scene(name: str, width: int, height: int, seed: int = 0) -> Scene:
    """Draw one of :data:`MORE_SCENES` at ``width`` x ``height`` pixels (any aspect)."""
    if name not in _MORE:
        raise InputError(f"unknown scene {name!r}; choose one of: {', '.join(MORE_SCENES)}")
    if not (64 <= width <= 16384 and 64 <= height <= 16384):
        raise InputError(f"scene size {width}x{height} is outside 64..16384 pixels per side")
    title, title_ja, draw = _MORE[name]
    canvas = Canvas(width, height, Vocabulary())
    draw(canvas, np.random.default_rng([seed, 100 + MORE_SCENES.index(name)]))
    return Scene(name, title, title_ja, canvas.lines(), canvas.regions(), canvas.book())

"""Six Japanese countryside layouts drawn by our own code, for demos, tests and benchmarks.

``make_scene(name, width, height, seed)`` returns the line drawing (0 = ink, 255 = paper), the
region map (class ids of the default vocabulary, every pixel labelled), and the BOOK mask. The
drawing is made in world units (height = 1), so any size and any PAN width gives the same scene
at its own resolution; wider frames simply show more of the place.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from haikei.demo.canvas import Canvas, Point, smooth
from haikei.demo.motifs import (
    broadleaf,
    bumpy_top,
    clouds,
    conifer,
    house,
    jagged,
    mountain_range,
    perspective_road,
    pole,
    rect,
    sky,
    treeline,
    wires,
)
from haikei.domain.spreadsheet import csv_text
from haikei.domain.vocabulary import Vocabulary
from haikei.errors import InputError
from haikei.imaging.io import atomic_write_bytes, encode_region_map, save_png

__all__ = ["SCENES", "DemoCut", "Scene", "demo_cuts", "make_scene", "write_demo_layouts"]


@dataclass(frozen=True)
class Scene:
    name: str
    title: str
    title_ja: str
    lines: np.ndarray  # uint8 HxW, 0 = ink, 255 = paper
    regions: np.ndarray  # uint8 HxW class ids of Vocabulary()
    book: np.ndarray  # bool HxW, True on the BOOK (foreground over characters); may be all False


# ----------------------------------------------------------------------------------------------
def _mountain_road(c: Canvas, rng: np.random.Generator) -> None:
    a, _horizon = c.aspect, 0.5
    sky(c)
    clouds(c, rng, 0.1, 0.22, 0.7)
    mountain_range(c, rng, "mountain_far", -0.05, a + 0.05, 0.45, 0.2, max(3, round(a * 2.4)), jag=0.05)
    mountain_range(c, rng, "mountain", -0.05, a + 0.05, 0.56, 0.12, max(2, round(a * 1.4)), jag=0.07)
    c.fill([*treeline(rng, -0.05, a + 0.05, 0.5, 0.035), (a + 0.05, 1.05), (-0.05, 1.05)], "forest")
    for x in np.sort(rng.uniform(0, a, round(a * 3))):
        conifer(c, rng, float(x), 0.56, rng.uniform(0.07, 0.11))
    c.fill(rect(-0.05, 0.545, a + 0.05, 1.05), "grass")
    vp = a * 0.62
    left, right, centre = perspective_road(c, rng, 0.545, vp, a * 0.42, 0.62, 0.93)
    c.fill([*left, *right[::-1]], "road")
    # dashed centre line
    for i in range(0, len(centre) - 2, 4):
        c.line(centre[i : i + 2], weight=0.7)
    # guard rail along the right edge of the road: posts and a rail band (the near part is BOOK)
    posts: list[Point] = []
    for i in range(0, len(right) - 6, 3):
        x, y = right[i]
        s = (y - 0.545) / (1.08 - 0.545)
        ph = 0.16 * s
        if ph < 0.006:
            break
        posts.append((x + 0.02 * s, y))
    rail_top = [(x, y - 0.16 * ((y - 0.545) / 0.535) * 0.95) for x, y in posts]
    rail_bot = [(x, y - 0.16 * ((y - 0.545) / 0.535) * 0.6) for x, y in posts]
    for (x, y), (_, ty) in zip(posts, rail_top, strict=True):
        s = (y - 0.545) / 0.535
        c.fill(rect(x - 0.012 * s - 0.001, ty, x + 0.012 * s + 0.001, y), "fence", book=s > 0.5)
    for i in range(len(posts) - 1):
        band = [rail_top[i], rail_top[i + 1], rail_bot[i + 1], rail_bot[i]]
        s = (posts[i][1] - 0.545) / 0.535
        c.fill(band, "fence", book=s > 0.5)
        mid = [
            ((rail_top[i][0] + rail_bot[i][0]) / 2, (rail_top[i][1] + rail_bot[i][1]) / 2),
            ((rail_top[i + 1][0] + rail_bot[i + 1][0]) / 2, (rail_top[i + 1][1] + rail_bot[i + 1][1]) / 2),
        ]
        c.line(mid, weight=0.45)
    # utility poles receding along the left side of the road, with wires
    tops = []
    for i in range(2, len(left) - 8, 7):
        x, y = left[i]
        s = (y - 0.545) / 0.535
        tops.append(pole(c, x - 0.09 * s, y - 0.005 * s, 0.62 * s))
    wires(c, tops, sag=0.04)


def _rice_fields(c: Canvas, rng: np.random.Generator) -> None:
    a, horizon = c.aspect, 0.42
    sky(c)
    clouds(c, rng, 0.08, 0.2)
    mountain_range(
        c, rng, "mountain_far", -0.05, a + 0.05, 0.42, 0.22, max(2, round(a * 1.5)), jag=0.03, ridges=1
    )
    hill_line = smooth([(x, 0.36 + rng.uniform(-0.04, 0.03)) for x in np.linspace(-0.05, a + 0.05, 6)], 4)
    c.fill([*hill_line, (a + 0.05, 1.05), (-0.05, 1.05)], "hill")
    for x in np.linspace(0.05, a - 0.05, round(a * 3)):
        broadleaf(
            c, rng, float(x + rng.uniform(-0.1, 0.1)), 0.45, rng.uniform(0.07, 0.1), trunk=False, cls="forest"
        )
    c.fill(rect(-0.05, 0.44, a + 0.05, 1.05), "grass")
    # farmhouse with two trees at the far edge of the fields
    hx = a * rng.uniform(0.55, 0.7)
    broadleaf(c, rng, hx - 0.05, 0.47, 0.12)
    house(c, rng, hx, 0.47, 0.24, 0.07)
    broadleaf(c, rng, hx + 0.3, 0.47, 0.14)
    # paddies: a perspective grid of plots separated by grass ridges (畦)
    vp = a * 0.45
    rows = [0.47 + (1.08 - 0.47) * (k / 7) ** 1.6 for k in range(8)]
    cols = np.arange(-14, 15) * 0.5
    ridge = 0.02
    for r0, r1 in itertools.pairwise(rows):
        s0, s1 = (r0 - horizon) / (1 - horizon), (r1 - horizon) / (1 - horizon)
        g0, g1 = ridge * s0, ridge * s1
        for j in range(len(cols) - 1):
            xa, xb = cols[j] + rng.uniform(-0.05, 0.05), cols[j + 1]
            quad = [
                (vp + xa * s0 + g0, r0 + g0 * 0.5),
                (vp + xb * s0 - g0, r0 + g0 * 0.5),
                (vp + xb * s1 - g1, r1 - g1 * 0.5),
                (vp + xa * s1 + g1, r1 - g1 * 0.5),
            ]
            if max(p[0] for p in quad) < -0.05 or min(p[0] for p in quad) > a + 0.05:
                continue
            c.fill(quad, "rice_paddy", weight=0.8)
    # a farm path from the house down to the foreground
    path = [(hx + 0.1 + (a * 0.3 - hx) * t**1.5, 0.47 + (1.08 - 0.47) * t) for t in np.linspace(0, 1, 30)]
    half = [0.004 + 0.06 * t * t for t in np.linspace(0, 1, 30)]
    c.fill(
        [(x - h, y) for (x, y), h in zip(path, half, strict=True)]
        + [(x + h, y) for (x, y), h in zip(path[::-1], half[::-1], strict=True)],
        "path",
    )
    tops = [pole(c, float(x), 0.47 + 0.002, 0.1) for x in np.arange(0.1, a, 0.45)]
    wires(c, tops, sag=0.03)


def _lake(c: Canvas, rng: np.random.Generator) -> None:
    a, shore = c.aspect, 0.52
    sky(c)
    clouds(c, rng, 0.06, 0.16, 0.8)
    mountain_range(c, rng, "mountain_far", -0.05, a + 0.05, shore, 0.16, max(3, round(a * 2)), jag=0.04)
    sky_line = mountain_range(
        c, rng, "mountain", -0.05, a + 0.05, shore, 0.24, max(2, round(a * 1.4)), jag=0.06
    )
    far = jagged(
        rng,
        [(x, shore - rng.uniform(0.012, 0.03)) for x in np.linspace(-0.05, a + 0.05, round(a * 20))],
        0.15,
        2,
    )
    c.fill([*far, (a + 0.05, shore + 0.005), (-0.05, shore + 0.005)], "forest")
    for x in np.arange(0.25, a, 0.6):
        broadleaf(c, rng, float(x + rng.uniform(-0.05, 0.05)), shore + 0.004, 0.06, cls="tree")
    c.fill(rect(-0.05, shore, a + 0.05, 1.05), "water")
    # reflection of the mountains: the skyline mirrored in the water, broken like a drawn ripple
    mirrored = [(x, 2 * shore - y + 0.01) for x, y in sky_line if 2 * shore - y < 0.8]
    for i in range(0, len(mirrored) - 3, 4):
        c.line(mirrored[i : i + 3], weight=0.5)
    for _ in range(round(a * 10)):
        x, y = rng.uniform(0, a), rng.uniform(shore + 0.05, 0.85)
        c.line([(x, y), (x + rng.uniform(0.03, 0.09), y)], weight=0.4)
    # near shore: grass bank with trees at one side, sand strip at the waterline
    bank = smooth([(-0.05, 0.8), (a * 0.25, 0.86), (a * 0.5, 0.93), (a * 0.75, 0.9), (a + 0.05, 0.84)], 4)
    c.fill([*bank, (a + 0.05, 1.05), (-0.05, 1.05)], "sand")
    grass = [(x, y + 0.035) for x, y in bank]
    c.fill([*grass, (a + 0.05, 1.05), (-0.05, 1.05)], "grass")
    for x in np.arange(0.0, a + 0.1, 1.6):
        for k in range(2):
            bx = float(x + (k * 0.14 + rng.uniform(-0.02, 0.02)) * (1 if x < a / 2 else -1))
            broadleaf(c, rng, bx, 0.93 + 0.05 * k, rng.uniform(0.4, 0.5))


def _coast(c: Canvas, rng: np.random.Generator) -> None:
    a, horizon = c.aspect, 0.46
    sky(c)
    clouds(c, rng, 0.12, 0.3, 1.2)
    c.fill(rect(-0.05, horizon, a + 0.05, 1.05), "sea")
    # a far headland on the horizon
    far_x = a * rng.uniform(0.6, 0.8)
    c.fill(
        smooth(
            [
                (far_x, horizon + 0.003),
                (far_x + 0.05, horizon - 0.03),
                (far_x + 0.18, horizon - 0.04),
                (far_x + 0.3, horizon + 0.003),
            ],
            3,
        ),
        "mountain_far",
    )
    # cliffs on the left: rock face with strata, grass on top, rocks at the foot
    edge = jagged(
        rng, [(0.0, 0.2), (0.3, 0.24), (0.48, 0.42), (0.58, 0.56), (0.56, 0.74), (0.5, 0.9)], 0.05, 4
    )
    c.fill([(-0.05, 0.2), *edge, (0.42, 1.05), (-0.05, 1.05)], "cliff")
    for k in range(5):
        y = 0.3 + k * 0.08
        c.line(jagged(rng, [(0.0, y), (0.25, y + 0.02), (0.45 + 0.02 * k, y + 0.05)], 0.05, 3), weight=0.55)
    top = smooth([(-0.05, 0.17), (0.15, 0.19), (0.3, 0.235), (0.4, 0.33)], 3)
    c.fill([*top, (0.3, 0.27), (0.1, 0.25), (-0.05, 0.25)], "grass")
    for x, y, r in ((0.62, 0.62, 0.05), (0.75, 0.6, 0.03), (0.5, 0.75, 0.07)):
        stone = jagged(
            rng,
            [
                (x - r, y + r * 0.4),
                (x - r * 0.6, y - r * 0.5),
                (x + r * 0.4, y - r * 0.6),
                (x + r, y + r * 0.4),
            ],
            0.1,
            3,
        )
        c.fill(stone, "rock")
    # sandy beach sweeping across the foreground; wave lines on the sea
    beach = smooth([(0.3, 1.05), (0.5, 0.86), (a * 0.5, 0.72), (a * 0.8, 0.66), (a + 0.05, 0.64)], 4)
    c.fill([*beach, (a + 0.05, 1.05)], "sand")
    for i in range(3):
        foam = [(x, y - 0.02 - 0.035 * i) for x, y in beach if x > 0.75 + 0.05 * i]
        for j in range(0, len(foam) - 4, 6):
            c.line(foam[j : j + 4], weight=0.5)
    for _ in range(round(a * 8)):
        x, y = rng.uniform(0.6, a), rng.uniform(horizon + 0.03, 0.58)
        c.line([(x, y), (x + rng.uniform(0.02, 0.06) * (1 + 3 * (y - horizon)), y)], weight=0.4)


def _village_street(c: Canvas, rng: np.random.Generator) -> None:
    a, ground = c.aspect, 0.68
    sky(c)
    clouds(c, rng, 0.06, 0.14, 0.6)
    mountain_range(
        c, rng, "mountain_far", -0.05, a + 0.05, 0.5, 0.25, max(2, round(a * 1.6)), jag=0.03, ridges=1
    )
    # houses along the back of the street, gaps with trees and block walls
    x = -0.08
    eaves: list[Point] = []
    while x < a:
        w, h = rng.uniform(0.26, 0.4), rng.uniform(0.2, 0.3)
        storeys = 2 if h > 0.26 else 1
        if rng.uniform() < 0.25:
            broadleaf(c, rng, x + 0.08, ground, 0.3)
            c.fill(rect(x, ground - 0.06, x + 0.18, ground), "fence")
            c.line([(x, ground - 0.03), (x + 0.18, ground - 0.03)], weight=0.45)
            x += 0.2
            continue
        eaves += house(c, rng, x, ground, w, h * (1.3 if storeys == 2 else 1.0), storeys=storeys)
        x += w + rng.uniform(0.04, 0.08)
    # street with kerb, gutter and the near verge
    c.fill(rect(-0.05, ground, a + 0.05, 0.71), "ground")
    c.fill(rect(-0.05, 0.71, a + 0.05, 1.05), "road")
    c.line([(-0.05, 0.735), (a + 0.05, 0.735)], weight=0.55)
    for xx in np.arange(0.05, a, 0.22):
        c.line([(xx, 0.86), (xx + 0.1, 0.86)], weight=0.7)
    c.fill(rect(-0.05, 0.96, a + 0.05, 1.05), "ground")
    # poles on the near side of the street, wires across the sky
    tops = [pole(c, float(px), 0.715, 0.6) for px in np.arange(0.2, a + 0.3, 0.75)]
    wires(c, tops, sag=0.05)


def _forest_path(c: Canvas, rng: np.random.Generator) -> None:
    a = c.aspect
    sky(c)
    c.fill(
        [*bumpy_top(rng, -0.05, a + 0.05, 0.62, 0.4, max(8, round(a * 10))), (a + 0.05, 1.05), (-0.05, 1.05)],
        "forest",
    )
    floor = smooth(
        [(x, 0.6 + rng.uniform(-0.015, 0.015)) for x in np.linspace(-0.05, a + 0.05, round(a * 12))], 2
    )
    c.fill([*floor, (a + 0.05, 1.05), (-0.05, 1.05)], "grass")
    vp = a * rng.uniform(0.45, 0.55)
    left, right, _ = perspective_road(c, rng, 0.6, vp, a * 0.5, 0.35, 0.96)
    c.fill([*left, *right[::-1]], "path")
    # trunks at increasing depth with crowns above the frame top, far to near
    xs = np.sort(rng.uniform(0, a, round(a * 6)))
    for depth in (0.25, 0.55, 1.0):
        for x in xs[rng.uniform(size=len(xs)) < 0.45]:
            if abs(x - vp) < 0.12 * depth + 0.05:
                continue
            g = 0.62 + 0.33 * depth * rng.uniform(0.75, 1.05)
            tw = 0.012 + 0.03 * depth
            trunk = [(x - tw, g), (x - tw * 0.8, -0.05), (x + tw * 0.8, -0.05), (x + tw, g)]
            c.fill(trunk, "tree")
            for _ in range(int(rng.integers(1, 3))):
                by = rng.uniform(0.15, g - 0.1)
                c.line([(x - tw * 0.5, by), (x + tw * 0.3, by + 0.015)], weight=0.45)
        crown_line = bumpy_top(rng, -0.05, a + 0.05, 0.05 + 0.12 * depth, 0.12, max(6, round(a * 8)))
        c.fill([*crown_line, (a + 0.05, -0.05), (-0.05, -0.05)], "tree")
    # foreground bushes in both lower corners: the BOOK over characters walking the path
    for bx0, bx1 in ((-0.08, a * 0.3), (a * 0.72, a + 0.08)):
        top = bumpy_top(rng, bx0, bx1, 1.06, 0.3, 5)
        c.fill([*top, (bx1, 1.06), (bx0, 1.06)], "bush", book=True)
        for x, y in top[10::30]:
            r = 0.05
            c.line(
                [(x - r + 0.02 * math.cos(t), y + 0.08 + r * math.sin(t)) for t in np.linspace(3.6, 5.8, 8)],
                weight=0.5,
            )


_SCENES: dict[str, tuple[str, str, Callable[[Canvas, np.random.Generator], None]]] = {
    "mountain_road": ("Mountain road", "山道", _mountain_road),
    "rice_fields": ("Rice fields", "田園", _rice_fields),
    "lake": ("Mountain lake", "山の湖", _lake),
    "coast": ("Coast", "海岸", _coast),
    "village_street": ("Village street", "町並み", _village_street),
    "forest_path": ("Forest path", "森の小道", _forest_path),
}

SCENES: tuple[str, ...] = tuple(_SCENES)


def make_scene(name: str, width: int, height: int, seed: int = 0) -> Scene:
    """Draw one demo layout at ``width`` x ``height`` pixels (any aspect; PANs show more)."""
    if name not in _SCENES:
        raise InputError(f"unknown demo scene {name!r}; choose one of: {', '.join(SCENES)}")
    if not (64 <= width <= 16384 and 64 <= height <= 16384):
        raise InputError(f"scene size {width}x{height} is outside 64..16384 pixels per side")
    title, title_ja, draw = _SCENES[name]
    canvas = Canvas(width, height, Vocabulary())
    draw(canvas, np.random.default_rng([seed, SCENES.index(name)]))
    return Scene(name, title, title_ja, canvas.lines(), canvas.regions(), canvas.book())


# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DemoCut:
    """One cut of the demo production. ``bg`` names the background (shared by cuts for 兼用)."""

    cut: str
    scene: str
    bg: str
    width: int = 1920
    height: int = 1080
    pan_length: int | None = None  # layout width of a PAN, in pixels at the frame's scale
    pan_direction: str | None = None  # left | right | up | down (the cut sheet's words)
    seed: int = 0
    notes: str = ""


def demo_cuts() -> list[DemoCut]:
    """The demo production: seven cuts over six scenes, one PAN, one BG shared by two cuts."""
    return [
        DemoCut("c001", "mountain_road", "c001", notes="opening: the road into the mountains"),
        DemoCut("c002", "rice_fields", "c002", notes="farmhouse across the paddies"),
        DemoCut(
            "c003",
            "lake",
            "c003",
            pan_length=3840,
            pan_direction="right",
            notes="PAN along the lake shore, twice the frame width",
        ),
        DemoCut("c004", "coast", "c004", seed=1, notes="cliffs and beach"),
        DemoCut("c005", "village_street", "c005-c006", notes="BG shared with c006 (兼用)"),
        DemoCut("c006", "village_street", "c005-c006", notes="BG shared with c005 (兼用); character crosses"),
        DemoCut("c007", "forest_path", "c007", notes="foreground bushes are BOOK over the characters"),
    ]


def write_demo_layouts(folder: str | Path, width: int = 1920, height: int = 1080) -> list[Path]:
    """Write the demo production's layouts as an intake reads them; returns the files written.

    Per background: ``<bg>_lo.png`` (lines), ``<bg>_regions.png`` (standard class colours),
    ``<bg>_book.png`` (white = BOOK on black, only when the BG has a BOOK); plus ``cutsheet.csv``.
    ``width`` x ``height`` is the frame size; PAN layouts are scaled with it.
    """
    out = Path(folder)
    vocab = Vocabulary()
    written: list[Path] = []
    done: set[str] = set()
    rows = []
    for cut in demo_cuts():
        pan = round(cut.pan_length * width / cut.width) if cut.pan_length else None
        rows.append([cut.cut, width, height, pan or "", cut.pan_direction or "", cut.notes])
        if cut.bg in done:
            continue
        done.add(cut.bg)
        scene = make_scene(cut.scene, pan or width, height, seed=cut.seed)
        files = {
            out / f"{cut.bg}_lo.png": scene.lines,
            out / f"{cut.bg}_regions.png": encode_region_map(scene.regions, vocab),
        }
        if scene.book.any():
            files[out / f"{cut.bg}_book.png"] = np.where(scene.book, 255, 0).astype(np.uint8)
        for path, arr in files.items():
            save_png(path, arr, {"haikei:demo_scene": cut.scene})
            written.append(path)
    text = csv_text(["cut", "width", "height", "pan_length", "pan_direction", "notes"], rows)
    atomic_write_bytes(out / "cutsheet.csv", text.encode("utf-8"))
    written.append(out / "cutsheet.csv")
    return written

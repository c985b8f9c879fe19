"""Places seen from more than one camera position (locations, 舞台), drawn by our own code.

A film returns to its places from other angles; the location bench needs cuts of one place that a
person recognises as the same place. Each place here is built once, in metres (``x`` east, ``y``
up, ``z`` north), from the place's own seed: the same houses, trees, poles, cliffs and hills in
every view. A view is a pinhole camera (eye position, heading, pitch, field of view) that draws
the place onto a :class:`~haikei.demo.canvas.Canvas` in painter's order, far to near, so each
cut is a layout like :mod:`haikei.demo.scenes`' (line drawing, region map, BOOK mask), only
drawn from where a layout artist would stand:

- ``street`` (町並み): a village street, houses on both sides, poles along one side, hills at
  both ends; seen from its south end and from its north end (the sides swap, the order reverses);
- ``farmhouse`` (農家): a thatched farmhouse behind a wooden fence by a road, a vegetable field,
  trees, hills; seen from the road and from the garden;
- ``shore`` (海岸): a bay with a sand beach between two cliff headlands, pines, rocks, hills;
  seen from the hilltop on the east headland and from a boat on the water.

``make_location_scene(place, view, width, height)`` draws one cut; :data:`LOCATION_VIEWS` lists
the views of each place, the first being the cut a production paints (and approves) first.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from haikei.demo.canvas import Canvas, Point, smooth
from haikei.demo.motifs import broadleaf, clouds, conifer, jagged, pine, pole, sky, treeline, wires
from haikei.demo.scenes import Scene
from haikei.domain.vocabulary import Vocabulary
from haikei.errors import InputError

__all__ = ["LOCATION_PLACES", "LOCATION_VIEWS", "LocationView", "make_location_scene"]

Vec = tuple[float, float, float]
_NEAR = 0.5  # metres: the camera's near clipping plane


@dataclass(frozen=True)
class LocationView:
    """Where the layout artist stands: eye (metres), heading (degrees, 0 = north, 90 = east),
    pitch (degrees, negative looks down), horizontal field of view across a 16:9 frame, and
    where the optical axis meets the frame (0 top .. 1 bottom)."""

    name: str
    title: str
    title_ja: str
    eye: Vec
    heading: float
    pitch: float = 0.0
    hfov: float = 66.0
    centre_y: float = 0.5


# ----------------------------------------------------------------------------------------------
class _Camera:
    """Projects world points onto the canvas (world units of :mod:`haikei.demo.canvas`)."""

    def __init__(self, c: Canvas, view: LocationView) -> None:
        self.c = c
        self.eye = np.array(view.eye, dtype=np.float64)
        yaw, pitch = math.radians(view.heading), math.radians(view.pitch)
        self.fwd = np.array(
            [math.sin(yaw) * math.cos(pitch), math.sin(pitch), math.cos(yaw) * math.cos(pitch)]
        )
        self.right = np.array([math.cos(yaw), 0.0, -math.sin(yaw)])
        self.up = np.array(
            [-math.sin(yaw) * math.sin(pitch), math.cos(pitch), -math.cos(yaw) * math.sin(pitch)]
        )
        vfov = 2 * math.atan(math.tan(math.radians(view.hfov) / 2) / (16 / 9))
        self.f = 0.5 / math.tan(vfov / 2)
        self.cx, self.cy = c.aspect / 2, view.centre_y
        self.horizon = self.cy + self.f * math.tan(pitch)  # where the horizontal plane vanishes
        self.px = 1.0 / c.height  # one pixel in canvas units

    def to_cam(self, p: Sequence[float]) -> np.ndarray:
        d = np.asarray(p, dtype=np.float64) - self.eye
        return np.array([d @ self.right, d @ self.up, d @ self.fwd])

    def _screen(self, q: np.ndarray) -> Point:
        return (float(self.cx + self.f * q[0] / q[2]), float(self.cy - self.f * q[1] / q[2]))

    def point(self, p: Sequence[float]) -> Point | None:
        q = self.to_cam(p)
        return self._screen(q) if q[2] > _NEAR else None

    def depth(self, p: Sequence[float]) -> float:
        return float(self.to_cam(p)[2])

    def scale(self, p: Sequence[float]) -> float:
        """Canvas units per metre at ``p`` (0 behind the camera)."""
        z = self.depth(p)
        return self.f / z if z > _NEAR else 0.0

    def polygon(self, pts: Sequence[Sequence[float]]) -> list[Point]:
        """Clip a 3D polygon at the near plane and project it."""
        qs = [self.to_cam(p) for p in pts]
        out: list[np.ndarray] = []
        for i, a in enumerate(qs):
            b = qs[(i + 1) % len(qs)]
            ina, inb = a[2] > _NEAR, b[2] > _NEAR
            if ina:
                out.append(a)
            if ina != inb:
                t = (_NEAR - a[2]) / (b[2] - a[2])
                out.append(a + (b - a) * t)
        return [self._screen(q) for q in out]

    def polyline(self, pts: Sequence[Sequence[float]]) -> list[list[Point]]:
        """Clip a 3D polyline at the near plane; returns the visible pieces, projected."""
        qs = [self.to_cam(p) for p in pts]
        pieces: list[list[Point]] = []
        cur: list[Point] = []
        for a, b in itertools.pairwise(qs):
            ina, inb = a[2] > _NEAR, b[2] > _NEAR
            if ina and not cur:
                cur.append(self._screen(a))
            if ina and inb:
                cur.append(self._screen(b))
            elif ina != inb:
                t = (_NEAR - a[2]) / (b[2] - a[2])
                cur.append(self._screen(a + (b - a) * t))
                if inb:
                    cur.append(self._screen(b))
                else:
                    pieces.append(cur)
                    cur = []
        if len(cur) >= 2:
            pieces.append(cur)
        return [p for p in pieces if len(p) >= 2]

    def facing(self, pts: Sequence[Vec], centre: Vec) -> bool:
        """Is the planar face ``pts`` (of a solid around ``centre``) turned towards the camera?"""
        p = np.asarray(pts, dtype=np.float64)
        m = p.mean(axis=0)
        n = np.cross(p[1] - p[0], p[2] - p[0])
        if np.linalg.norm(n) < 1e-12:
            n = np.cross(p[2] - p[0], p[-1] - p[0])
        if n @ (m - np.asarray(centre)) < 0:
            n = -n
        return bool(n @ (self.eye - m) > 1e-9)

    # -- drawing -----------------------------------------------------------------------------
    def fill(
        self, pts: Sequence[Sequence[float]], cls: str, *, outline: bool = True, weight: float = 1.0
    ) -> bool:
        poly = self.polygon(pts)
        if len(poly) < 3:
            return False
        self.c.fill(poly, cls, outline=outline, weight=weight)
        return True

    def line(self, pts: Sequence[Sequence[float]], *, weight: float = 1.0, min_px: float = 2.0) -> None:
        for piece in self.polyline(pts):
            length = sum(math.dist(a, b) for a, b in itertools.pairwise(piece))
            if length >= min_px * self.px:
                self.c.line(piece, weight=weight)

    def big(self, pts: Sequence[Sequence[float]], min_px: float) -> bool:
        """Does the projection of ``pts`` span at least ``min_px`` pixels (both ways)?"""
        poly = self.polygon(pts)
        if len(poly) < 3:
            return False
        xs, ys = [p[0] for p in poly], [p[1] for p in poly]
        return min(max(xs) - min(xs), max(ys) - min(ys)) >= min_px * self.px


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, *key])


# ----------------------------------------------------------------------------------------------
@dataclass
class _Ridge:
    """A skyline of hills or mountains round the place: heights along an arc of a circle."""

    cls: str
    centre: tuple[float, float]
    radius: float
    arc: list[tuple[float, float]]  # (azimuth radians, height metres) from west to east
    spurs: list[list[tuple[float, float]]]
    forest: list[tuple[float, float]] | None = None  # a treeline band at the hill's foot

    def world(self, az: float, h: float) -> Vec:
        return (
            self.centre[0] + self.radius * math.sin(az),
            h,
            self.centre[1] + self.radius * math.cos(az),
        )


def _ridge(
    rng: np.random.Generator,
    cls: str,
    centre: tuple[float, float],
    radius: float,
    az0: float,
    az1: float,
    peaks: int,
    low: float,
    high: float,
    *,
    base: float = 0.0,
    jag: float = 0.05,
    forest: float = 0.0,
) -> _Ridge:
    """Peaks ``low``..``high`` metres above ``base`` along the arc ``az0..az1`` (degrees, from
    north), falling to ``base`` at both ends; with a forest band ``forest`` metres high along the foot."""
    a0, a1 = math.radians(az0), math.radians(az1)
    # jagged in unrolled metres (arc length, height), so the rocky edge has a true scale
    xs = np.linspace(a0 * radius, a1 * radius, 2 * peaks + 1)
    control: list[Point] = []
    for i, s in enumerate(xs):
        taper = math.sin(math.pi * i / (len(xs) - 1)) ** 0.6
        if i in (0, len(xs) - 1):
            h = -2.0
        elif i % 2:
            h = taper * rng.uniform(0.7 * high, high)
        else:
            h = taper * rng.uniform(low, 0.6 * high)
        control.append((float(s), h))
    edge = jagged(rng, control, jag, pieces=6)
    arc = [(s / radius, base + h) for s, h in edge]
    spurs = []
    for i in range(1, len(control), 2):
        s, h = control[i]
        for side in rng.permutation([-1.0, 1.0])[: int(rng.integers(1, 3))]:
            drop = h * rng.uniform(0.45, 0.8)
            pts = [(s + side * drop * k / 5 * rng.uniform(0.6, 1.4), h - drop * k / 5) for k in range(6)]
            spurs.append([(x / radius, base + y) for x, y in jagged(rng, pts, 0.05, 2)])
    band = None
    if forest > 0:
        tl = treeline(rng, a0 * radius, a1 * radius, 0.0, forest)
        band = [(x / radius, base - y) for x, y in tl]
    return _Ridge(cls, centre, radius, arc, spurs, band)


def _draw_ridge(cam: _Camera, r: _Ridge) -> None:
    def visible(pts: list[tuple[float, float]]) -> list[Vec]:
        """The part of the arc within 80 degrees of the heading (the rest is off the frame)."""
        runs: list[list[Vec]] = [[]]
        for az, h in pts:
            p = r.world(az, h)
            q = cam.to_cam(p)
            if q[2] > _NEAR and q[2] > 0.18 * abs(q[0]):
                runs[-1].append(p)
            elif runs[-1]:
                runs.append([])
        return max(runs, key=len)  # one stretch of the arc: the one in front of the camera

    top = visible(r.arc)
    if len(top) < 2:
        return
    foot = -40.0
    cam.fill([*top, *[(x, foot, z) for x, _, z in top[::-1]]], r.cls, weight=0.9)
    for spur in r.spurs:
        pts = visible(spur)
        if len(pts) >= 2:
            cam.line(pts, weight=0.6)
    if r.forest:
        band = visible(r.forest)
        if len(band) >= 2:
            cam.fill([*band, *[(x, foot, z) for x, _, z in band[::-1]]], "forest", weight=0.8)


def _disk(cx: float, cz: float, radius: float, y: float = 0.0, n: int = 72) -> list[Vec]:
    return [
        (cx + radius * math.sin(2 * math.pi * k / n), y, cz + radius * math.cos(2 * math.pi * k / n))
        for k in range(n)
    ]


def _sky(cam: _Camera, rng: np.random.Generator) -> None:
    sky(cam.c)
    bottom = min(cam.horizon - 0.12, 0.36)
    if bottom > 0.08:
        clouds(cam.c, rng, 0.05, bottom, 0.8)


# -- solids ---------------------------------------------------------------------------------------
@dataclass
class _Feature:
    """A rectangle on a wall, in the wall's own metres (along, up): a window, a door, a band."""

    cls: str  # window | building (a door) | roof (a pent-roof band)
    s0: float
    s1: float
    h0: float
    h1: float


@dataclass
class _House:
    """A box house with a gable roof (ridge along ``ridge``) or a hip roof; features per wall."""

    x0: float
    z0: float
    x1: float
    z1: float
    wall: float
    rise: float
    ridge: str = "z"  # "x" or "z"
    hip: bool = False
    thatch: bool = False
    features: dict[str, list[_Feature]] = field(default_factory=dict)  # "s" "n" "w" "e"
    posts: dict[str, int] = field(default_factory=dict)  # timber posts per wall (farmhouse)

    @property
    def centre(self) -> Vec:
        return ((self.x0 + self.x1) / 2, self.wall * 0.5, (self.z0 + self.z1) / 2)

    def anchor(self) -> Vec:
        return ((self.x0 + self.x1) / 2, 0.0, (self.z0 + self.z1) / 2)

    def walls(self) -> dict[str, tuple[Vec, Vec, list[Vec]]]:
        """Per wall: its ground start corner, unit direction along it, and its outline."""
        x0, z0, x1, z1, w = self.x0, self.z0, self.x1, self.z1, self.wall
        top = w + self.rise
        xm, zm = (x0 + x1) / 2, (z0 + z1) / 2
        gable_z = not self.hip and self.ridge == "z"
        gable_x = not self.hip and self.ridge == "x"
        s = [(x0, 0.0, z0), (x1, 0.0, z0), (x1, w, z0)] + ([(xm, top, z0)] if gable_z else []) + [(x0, w, z0)]
        n = [(x1, 0.0, z1), (x0, 0.0, z1), (x0, w, z1)] + ([(xm, top, z1)] if gable_z else []) + [(x1, w, z1)]
        wv = (
            [(x0, 0.0, z1), (x0, 0.0, z0), (x0, w, z0)] + ([(x0, top, zm)] if gable_x else []) + [(x0, w, z1)]
        )
        e = [(x1, 0.0, z0), (x1, 0.0, z1), (x1, w, z1)] + ([(x1, top, zm)] if gable_x else []) + [(x1, w, z0)]
        return {
            "s": ((x0, 0.0, z0), (1.0, 0.0, 0.0), s),
            "n": ((x1, 0.0, z1), (-1.0, 0.0, 0.0), n),
            "w": ((x0, 0.0, z1), (0.0, 0.0, -1.0), wv),
            "e": ((x1, 0.0, z0), (0.0, 0.0, 1.0), e),
        }

    def roof(self) -> tuple[list[list[Vec]], list[tuple[Vec, Vec]]]:
        """Roof faces (with eaves) and ridge/hip lines."""
        ov = 0.6
        x0, z0, x1, z1 = self.x0 - ov, self.z0 - ov, self.x1 + ov, self.z1 + ov
        ey = self.wall - 0.25
        top = self.wall + self.rise + 0.15
        xm, zm = (x0 + x1) / 2, (z0 + z1) / 2
        if self.hip:
            inset = min(x1 - x0, z1 - z0) * 0.42
            if self.ridge == "x":
                ra, rb = (x0 + inset, top, zm), (x1 - inset, top, zm)
                faces = [
                    [(x0, ey, z0), (x1, ey, z0), rb, ra],
                    [(x1, ey, z1), (x0, ey, z1), ra, rb],
                    [(x0, ey, z1), (x0, ey, z0), ra],
                    [(x1, ey, z0), (x1, ey, z1), rb],
                ]
                hips = [((x0, ey, z0), ra), ((x0, ey, z1), ra), ((x1, ey, z0), rb), ((x1, ey, z1), rb)]
            else:
                ra, rb = (xm, top, z0 + inset), (xm, top, z1 - inset)
                faces = [
                    [(x0, ey, z1), (x0, ey, z0), ra, rb],
                    [(x1, ey, z0), (x1, ey, z1), rb, ra],
                    [(x0, ey, z0), (x1, ey, z0), ra],
                    [(x1, ey, z1), (x0, ey, z1), rb],
                ]
                hips = [((x0, ey, z0), ra), ((x1, ey, z0), ra), ((x0, ey, z1), rb), ((x1, ey, z1), rb)]
            return faces, [*hips, (ra, rb)]
        if self.ridge == "z":
            ra, rb = (xm, top, z0), (xm, top, z1)
            faces = [[(x0, ey, z0), (x0, ey, z1), rb, ra], [(x1, ey, z1), (x1, ey, z0), ra, rb]]
            # verge boards: the roof's thickness along both gable ends
            t = 0.35
            for z in (z0, z1):
                faces.append(
                    [
                        (x0, ey, z),
                        (xm, top, z),
                        (x1, ey, z),
                        (x1, ey - t, z),
                        (xm, top - t, z),
                        (x0, ey - t, z),
                    ]
                )
        else:
            ra, rb = (x0, top, zm), (x1, top, zm)
            faces = [[(x0, ey, z0), (x1, ey, z0), rb, ra], [(x1, ey, z1), (x0, ey, z1), ra, rb]]
            t = 0.35
            for x in (x0, x1):
                faces.append(
                    [
                        (x, ey, z0),
                        (x, top, zm),
                        (x, ey, z1),
                        (x, ey - t, z1),
                        (x, top - t, zm),
                        (x, ey - t, z0),
                    ]
                )
        return faces, [(ra, rb)]


def _on_wall(start: Vec, along: Vec, s: float, h: float) -> Vec:
    return (start[0] + along[0] * s, h, start[2] + along[2] * s)


def _draw_house(cam: _Camera, h: _House) -> None:
    centre = h.centre
    for key, (start, along, outline) in h.walls().items():
        if not cam.facing(outline, centre):
            continue
        cam.fill(outline, "wall")
        length = abs(h.x1 - h.x0) if key in "sn" else abs(h.z1 - h.z0)
        # plinth line and timber posts
        cam.line([_on_wall(start, along, 0, 0.35), _on_wall(start, along, length, 0.35)], weight=0.55)
        for k in range(1, h.posts.get(key, 0)):
            s = length * k / h.posts[key]
            cam.line([_on_wall(start, along, s, 0.0), _on_wall(start, along, s, h.wall)], weight=0.5)
        for f in h.features.get(key, []):
            quad = [_on_wall(start, along, f.s0, f.h0), _on_wall(start, along, f.s1, f.h0),
                    _on_wall(start, along, f.s1, f.h1), _on_wall(start, along, f.s0, f.h1)]  # fmt: skip
            if not cam.big(quad, 3.0):
                continue
            cam.fill(quad, f.cls, weight=0.8)
            sm, hm = (f.s0 + f.s1) / 2, (f.h0 + f.h1) / 2
            if f.cls in ("window", "building"):
                cam.line([_on_wall(start, along, sm, f.h0), _on_wall(start, along, sm, f.h1)], weight=0.5)
            if f.cls == "window":
                cam.line([_on_wall(start, along, f.s0, hm), _on_wall(start, along, f.s1, hm)], weight=0.45)
    faces, ridges = h.roof()
    rc = (centre[0], h.wall * 0.4, centre[2])
    for face in faces:
        if not cam.facing(face, rc):
            continue
        cam.fill(face, "roof")
        if len(face) == 6 or not cam.big(face, 12.0):
            continue
        # tile courses parallel to the eaves, or thatch strokes down the slope
        eave_a, eave_b, *rest = face
        apex_a, apex_b = (rest[1], rest[0]) if len(rest) == 2 else (rest[0], rest[0])
        rng = _rng(int(abs(eave_a[0] * 7 + eave_a[2] * 13)), len(face))
        if h.thatch:
            for t in np.linspace(0.06, 0.94, 16):
                lo = [eave_a[i] + (eave_b[i] - eave_a[i]) * t for i in range(3)]
                hi = [apex_a[i] + (apex_b[i] - apex_a[i]) * t for i in range(3)]
                f0, f1 = rng.uniform(0.15, 0.35), rng.uniform(0.55, 0.8)
                cam.line([[lo[i] + (hi[i] - lo[i]) * f0 for i in range(3)],
                          [lo[i] + (hi[i] - lo[i]) * f1 for i in range(3)]], weight=0.35)  # fmt: skip
        else:
            for t in (0.3, 0.55, 0.8):
                ca = [eave_a[i] + (apex_a[i] - eave_a[i]) * t for i in range(3)]
                cb = [eave_b[i] + (apex_b[i] - eave_b[i]) * t for i in range(3)]
                cam.line([ca, cb], weight=0.4)
    if h.thatch:
        # the ridge cap: a thick band along the ridge
        a, b = ridges[-1]
        cap = [
            (a[0], a[1] + 0.45, a[2]),
            (b[0], b[1] + 0.45, b[2]),
            (b[0], b[1] - 0.2, b[2]),
            (a[0], a[1] - 0.2, a[2]),
        ]
        if cam.big(cap, 1.0):
            cam.fill(cap, "roof")


@dataclass
class _Billboard:
    """A thing drawn by a motif at its projected foot: a tree, a pine, a pole, a rock."""

    kind: str  # broadleaf | cedar | pine | pole | rock
    pos: Vec
    size: float  # metres tall (rock: across)
    seed: tuple[int, ...]
    lean: float = 0.0


def _draw_billboard(cam: _Camera, b: _Billboard) -> list[Point] | None:
    foot = cam.point(b.pos)
    k = cam.scale(b.pos)
    if foot is None or k * b.size < 3 * cam.px:
        return None
    s = k * b.size
    rng = np.random.default_rng(list(b.seed))
    x, y = foot
    if b.kind == "broadleaf":
        broadleaf(cam.c, rng, x, y, s / 1.45)
    elif b.kind == "cedar":
        conifer(cam.c, rng, x, y, s)
    elif b.kind == "pine":
        pine(cam.c, rng, x, y, s, lean=b.lean * s)
    elif b.kind == "pole":
        return pole(cam.c, x, y, s)
    elif b.kind == "rock":
        r = s / 2
        jit = rng.uniform(0.75, 1.2, 7)
        pts = [(x - r, y), (x - r * 0.8 * jit[0], y - r * 0.5 * jit[1]), (x - r * 0.3, y - r * 0.8 * jit[2]),
               (x + r * 0.3 * jit[3], y - r * 0.75 * jit[4]), (x + r * 0.85, y - r * 0.35 * jit[5]), (x + r, y)]  # fmt: skip
        cam.c.fill(jagged(rng, pts, 0.08, 3), "rock")
        cam.c.line([(x - r * 0.2, y - r * 0.7 * jit[6]), (x + r * 0.1, y - r * 0.15)], weight=0.45)
    return None


@dataclass
class _Headland:
    """A cliff headland: a roughly elliptic footprint ringed by cliffs of uneven height, and a
    grassy dome above them rising to ``summit`` (x, y, z). Built from the place's seed."""

    rim: list[Vec]  # cliff tops, counter-clockwise seen from above
    mid: list[Vec]  # a ring half way to the summit (the dome's shoulder)
    summit: Vec
    seed: int

    @classmethod
    def make(
        cls, seed: int, centre: tuple[float, float], radii: tuple[float, float], cliff: float, summit: Vec
    ) -> _Headland:
        rng = _rng(seed, 5)
        rim: list[Vec] = []
        mid: list[Vec] = []
        n = 18
        sx, sy, sz = summit
        for k in range(n):
            t = 2 * math.pi * k / n
            r = rng.uniform(0.94, 1.04)
            x, z = centre[0] + radii[0] * r * math.cos(t), centre[1] + radii[1] * r * math.sin(t)
            y = cliff * rng.uniform(0.82, 1.12)
            rim.append((x, y, z))
            mid.append((sx + (x - sx) * 0.55, y + (sy - y) * 0.78, sz + (z - sz) * 0.55))
        return cls(rim, mid, summit, seed)

    def anchor(self) -> Vec:
        p = np.asarray(self.rim)
        return (float(p[:, 0].mean()), 0.0, float(p[:, 2].mean()))

    def height(self, x: float, z: float) -> float:
        """Ground height on the dome at (x, z) (inside the rim)."""
        sx, sy, sz = self.summit
        ang = math.atan2(z - sz, x - sx)
        n = len(self.rim)
        best = min(
            range(n),
            key=lambda i: abs(
                math.remainder(math.atan2(self.rim[i][2] - sz, self.rim[i][0] - sx) - ang, 2 * math.pi)
            ),
        )
        rx, ry, rz = self.rim[best]
        my = self.mid[best][1]
        t = math.hypot(x - sx, z - sz) / max(1e-6, math.hypot(rx - sx, rz - sz))
        if t <= 0.55:
            return sy + (my - sy) * t / 0.55
        return my + (ry - my) * min(1.0, (t - 0.55) / 0.45)


def _draw_headland(cam: _Camera, hd: _Headland) -> None:
    n = len(hd.rim)
    sx, _, sz = hd.summit
    centre = (sx, 0.0, sz)
    rng = _rng(hd.seed, 7)
    # the cliff: one continuous rock face round the headland, filled facet by facet without seams;
    # its outline is the top and foot of each facet that shows, and its ends where it turns away
    faces = []
    for i in range(n):
        a, b = hd.rim[i], hd.rim[(i + 1) % n]
        face = [(a[0], -1.0, a[2]), (b[0], -1.0, b[2]), b, a]
        strata = [float(rng.uniform(0.12, 0.85)) for _ in range(3)]
        cracks = [float(rng.uniform(0.1, 0.9)) for _ in range(2)]
        faces.append((face, strata, cracks, cam.facing(face, centre)))
    for face, _strata, _cracks, shows in faces:
        if shows:
            cam.fill(face, "cliff", outline=False)
    for i, (face, strata, cracks, shows) in enumerate(faces):
        if not shows:
            continue
        foot_a, foot_b, b, a = face
        cam.line([a, b], weight=1.0, min_px=0.0)
        cam.line([foot_a, foot_b], weight=1.0, min_px=0.0)
        if not faces[i - 1][3]:
            cam.line([foot_a, a], weight=1.0, min_px=0.0)
        if not faces[(i + 1) % n][3]:
            cam.line([foot_b, b], weight=1.0, min_px=0.0)
        if not cam.big(face, 8.0):
            continue
        for k, t in enumerate(strata):
            pts = [(a[0] + (b[0] - a[0]) * u, (a[1] + (b[1] - a[1]) * u) * (t + 0.06 * math.sin(5 * u + k)),
                    a[2] + (b[2] - a[2]) * u) for u in np.linspace(0.03 + 0.2 * (k % 2), 0.97, 7)]  # fmt: skip
            screen = [p for piece in cam.polyline(pts) for p in piece]
            if len(screen) >= 2:
                cam.c.line(jagged(_rng(hd.seed, i, k), screen, 0.05, 2), weight=0.5)
        for t in cracks:
            x, z = a[0] + (b[0] - a[0]) * t, a[2] + (b[2] - a[2]) * t
            top = a[1] + (b[1] - a[1]) * t
            cam.line([(x, top * 0.97, z), (x + 1.5, top * 0.6, z), (x - 1.0, top * 0.3, z)], weight=0.45)
    # the dome: grass facets from the rim to the summit; one outline round the facets that show
    facets: list[tuple[list[Vec], list[tuple[int, int]]]] = []
    for i in range(n):
        j = (i + 1) % n
        facets.append(
            ([hd.rim[i], hd.rim[j], hd.mid[j], hd.mid[i]], [(i, j), (j, n + j), (n + i, n + j), (i, n + i)])
        )
        facets.append(([hd.mid[i], hd.mid[j], hd.summit], [(n + i, n + j), (n + j, 2 * n), (n + i, 2 * n)]))
    pts = [*hd.rim, *hd.mid, hd.summit]
    seen: dict[tuple[int, int], int] = {}
    for face, edges in facets:
        if cam.facing(face, centre):
            cam.fill(face, "grass", outline=False)
            for e in edges:
                key = (min(e), max(e))
                seen[key] = seen.get(key, 0) + 1
    for (i, j), count in seen.items():
        if count == 1:
            cam.line([pts[i], pts[j]], weight=1.0, min_px=0.0)


# ----------------------------------------------------------------------------------------------
@dataclass
class _Place:
    backdrop: list[_Ridge]
    ground: list[tuple[list[Vec], str]]  # flat areas, drawn in order after the backdrop
    marks: list[tuple[list[Vec], float]]  # interior strokes on the ground (waves, furrows, gutters)
    solids: list[_House | _Billboard | _Headland | tuple[str, list[Vec]]]  # tuple: a thin wall
    wires_from: list[int] = field(default_factory=list)  # indices of poles strung together, in order
    seed: int = 0


def _draw_place(c: Canvas, place: _Place, view: LocationView, index: int) -> None:
    cam = _Camera(c, view)
    _sky(cam, _rng(place.seed, 1000 + index))
    for r in sorted(place.backdrop, key=lambda r: -r.radius):
        _draw_ridge(cam, r)
    for pts, cls in place.ground:
        cam.fill(pts, cls, weight=0.9)
    for pts, weight in place.marks:
        cam.line(pts, weight=weight, min_px=3.0)

    def dist(s: object) -> float:
        if isinstance(s, _House | _Headland):
            p = s.anchor()
        elif isinstance(s, _Billboard):
            p = s.pos
        else:
            assert isinstance(s, tuple)
            p = tuple(np.mean(np.asarray(s[1]), axis=0))
        return float(np.linalg.norm(np.asarray(p) - cam.eye))

    tops: dict[int, list[Point]] = {}
    for i in sorted(range(len(place.solids)), key=lambda i: -dist(place.solids[i])):
        s = place.solids[i]
        if isinstance(s, _House):
            _draw_house(cam, s)
        elif isinstance(s, _Headland):
            _draw_headland(cam, s)
        elif isinstance(s, _Billboard):
            got = _draw_billboard(cam, s)
            if got is not None:
                tops[i] = got
        else:
            cls, pts = s
            cam.fill(pts, cls, weight=0.9)
            p0, p1 = np.asarray(pts[0]), np.asarray(pts[1])
            top = pts[2][1]
            for t in np.linspace(0, 1, max(2, round(float(np.linalg.norm(p1 - p0)) / 1.8)) + 1)[1:-1]:
                x, _, z = p0 + (p1 - p0) * t
                cam.line([(x, 0.0, z), (x, top, z)], weight=0.45, min_px=6.0)
            if cam.big(pts, 6.0):
                lo, hi = pts[0], pts[1]
                for t in (0.4, 0.75):
                    y = lo[1] + (pts[2][1] - lo[1]) * t
                    cam.line([(lo[0], y, lo[2]), (hi[0], y, hi[2])], weight=0.4)
    strung = [tops[i] for i in place.wires_from if i in tops]
    wires(c, strung, sag=0.03)


# -- the street -----------------------------------------------------------------------------------
def _windows(rng: np.random.Generator, length: float, levels: list[float], door: bool) -> list[_Feature]:
    out: list[_Feature] = []
    n = max(1, int(length / 2.6))
    slots = np.linspace(0.6, length - 0.6, n + 1)
    door_at = int(rng.integers(0, n)) if door else -1
    for lv, y in enumerate(levels):
        for i in range(n):
            a, b = float(slots[i]) + 0.35, float(slots[i + 1]) - 0.35
            if lv == 0 and i == door_at:
                out.append(_Feature("building", a, b, 0.35, 2.2))
            elif rng.uniform() < 0.8:
                out.append(_Feature("window", a, b, y, y + 1.1))
    return out


def _street(seed: int) -> _Place:
    rng = _rng(seed, 1)
    solids: list[_House | _Billboard | _Headland | tuple[str, list[Vec]]] = []
    n_obj = 0
    for side in (-1.0, 1.0):
        z = float(rng.uniform(0, 3))
        while z < 96:
            if rng.uniform() < 0.22:  # a gap: a garden tree behind a block wall
                x_wall = side * 4.6
                solids.append(
                    (
                        "fence",
                        [(x_wall, 0.0, z), (x_wall, 0.0, z + 6), (x_wall, 1.5, z + 6), (x_wall, 1.5, z)],
                    )
                )
                solids.append(
                    _Billboard(
                        "broadleaf", (side * 8.0, 0.0, z + 3), float(rng.uniform(6, 8)), (seed, 50, n_obj)
                    )
                )
                n_obj += 1
                z += 7.0
                continue
            length, depth = float(rng.uniform(8, 12)), float(rng.uniform(7, 9))
            two = rng.uniform() < 0.55
            wall = 5.8 if two else 3.0
            x_near = side * 4.8
            x_far = side * (4.8 + depth)
            x0, x1 = min(x_near, x_far), max(x_near, x_far)
            facade = "e" if side < 0 else "w"
            end_s, end_n = "s", "n"
            levels = [1.0] if not two else [1.0, 3.8]
            feats = {facade: _windows(rng, length, levels, True)}
            if two:
                feats[facade].append(_Feature("roof", 0.0, length, 2.7, 3.05))
            feats[end_s] = _windows(rng, depth, levels[-1:], False)[:1]
            feats[end_n] = _windows(rng, depth, levels[-1:], False)[:1]
            ridge = "z" if rng.uniform() < 0.65 else "x"
            solids.append(
                _House(x0, z, x1, z + length, wall, float(rng.uniform(1.8, 2.6)), ridge, features=feats)
            )
            z += length + float(rng.uniform(1.5, 3.5))
    # a big tree at each end of the street, on the west side
    solids.append(_Billboard("broadleaf", (-8.0, 0.0, -6.0), 9.0, (seed, 60, 0)))
    solids.append(_Billboard("broadleaf", (-8.5, 0.0, 104.0), 10.0, (seed, 60, 1)))
    poles = []
    for k, pz in enumerate(np.arange(4.0, 120.0, 28.0)):
        poles.append(len(solids))
        solids.append(_Billboard("pole", (3.7, 0.0, float(pz)), 9.5, (seed, 70, k)))
    # hills at both ends of the street, far mountains behind the north end
    backdrop = [
        _ridge(rng, "mountain_far", (0.0, 0.0), 4000.0, -100, 250, 8, 450, 1000, jag=0.03),
        _ridge(rng, "hill", (0.0, 50.0), 420.0, -80, 80, 3, 25, 60, forest=14.0),
        _ridge(rng, "hill", (0.0, 50.0), 380.0, 110, 250, 3, 30, 70, forest=16.0),
    ]
    ground = [
        (_disk(0, 50, 400), "grass"),
        ([(-30.0, 0.0, -12.0), (30.0, 0.0, -12.0), (30.0, 0.0, 112.0), (-30.0, 0.0, 112.0)], "ground"),
        ([(-3.0, 0.0, -300.0), (3.0, 0.0, -300.0), (3.0, 0.0, 400.0), (-3.0, 0.0, 400.0)], "road"),
    ]
    marks: list[tuple[list[Vec], float]] = []
    for x in (-2.5, 2.5):  # gutter covers along both edges, their joints every metre near by
        marks.append(([(x, 0.0, -300.0), (x, 0.0, 400.0)], 0.5))
        for z in np.arange(-20.0, 120.0, 1.0):
            marks.append(([(x, 0.0, float(z)), (x + (0.5 if x > 0 else -0.5), 0.0, float(z))], 0.35))
    for z in np.arange(-30.0, 130.0, 9.0):  # cracks and patches in the asphalt
        x = float(rng.uniform(-2.0, 1.2))
        marks.append(([(x, 0.0, float(z)), (x + 0.8, 0.0, float(z) + float(rng.uniform(0.5, 1.5)))], 0.4))
    return _Place(backdrop, ground, marks, solids, poles, seed)


# -- the farmhouse -------------------------------------------------------------------------------
def _farmhouse(seed: int) -> _Place:
    rng = _rng(seed, 2)
    house = _House(
        -7.5, -4.5, 7.5, 4.5, 2.8, 6.0, ridge="x", hip=True, thatch=True,
        features={
            "s": [_Feature("building", 4.5, 8.5, 0.45, 2.3), _Feature("window", 10.3, 13.2, 1.0, 1.9),
                  _Feature("window", 1.4, 3.4, 1.0, 1.9)],
            "e": [_Feature("window", 3.0, 5.6, 1.0, 1.9)],
            "w": [_Feature("building", 3.5, 5.2, 0.45, 2.1)],
        },
        posts={"s": 6, "e": 3, "w": 3, "n": 6},
    )  # fmt: skip
    solids: list[_House | _Billboard | _Headland | tuple[str, list[Vec]]] = [house]
    # a wooden fence along the road with a gate gap, boards between posts
    for xa, xb in ((-34.0, -1.6), (1.6, 34.0)):
        solids.append(("fence", [(xa, 0.0, -15.0), (xb, 0.0, -15.0), (xb, 0.9, -15.0), (xa, 0.9, -15.0)]))
    solids.append(
        ("fence", [(-34.0, 0.0, -15.0), (-34.0, 0.0, 12.0), (-34.0, 0.9, 12.0), (-34.0, 0.9, -15.0)])
    )
    solids.append(("fence", [(34.0, 0.0, 12.0), (34.0, 0.0, -15.0), (34.0, 0.9, -15.0), (34.0, 0.9, 12.0)]))
    trees = (
        (-12.0, 7.0, 13.0, "broadleaf"), (10.5, 8.0, 10.0, "broadleaf"), (24.0, -4.0, 7.0, "broadleaf"),
        (9.0, -11.0, 6.0, "broadleaf"), (-2.0, 16.0, 17.0, "cedar"), (4.0, 18.0, 15.0, "cedar"),
        (-28.0, 26.0, 14.0, "cedar"),
    )  # fmt: skip
    for k, (x, z, h, kind) in enumerate(trees):
        solids.append(_Billboard(kind, (x, 0.0, z), h, (seed, 80, k)))
    backdrop = [
        _ridge(rng, "mountain_far", (0.0, 0.0), 4000.0, -160, 110, 5, 450, 1000, jag=0.03),
        _ridge(rng, "hill", (0.0, 0.0), 320.0, -170, 110, 4, 30, 70, forest=18.0),
    ]
    field_quad: list[Vec] = [(-40.0, 0.0, -12.0), (-13.0, 0.0, -12.0), (-13.0, 0.0, 22.0), (-40.0, 0.0, 22.0)]
    ground = [
        (_disk(0, 0, 300), "grass"),
        (field_quad, "field"),
        ([(-300.0, 0.0, -26.5), (300.0, 0.0, -26.5), (300.0, 0.0, -21.5), (-300.0, 0.0, -21.5)], "road"),
        ([(-1.4, 0.0, -21.5), (1.4, 0.0, -21.5), (1.1, 0.0, -4.5), (-1.1, 0.0, -4.5)], "path"),
    ]
    marks: list[tuple[list[Vec], float]] = []
    for x in np.arange(-38.5, -13.5, 1.5):  # furrows, ridged rows of the vegetable field
        marks.append(([(float(x), 0.0, -11.5), (float(x), 0.0, 21.5)], 0.4))
    for _ in range(160):  # grass tufts in the garden and along the road
        x, z = float(rng.uniform(-34, 34)), float(rng.uniform(-20, 10))
        if (
            (-40 < x < -12 and z > -12.5)
            or (-2 < x < 2 and z > -22)
            or abs(z + 15) < 0.6
            or (-8 < x < 8 and z > -5)
        ):
            continue
        if -27 < z < -21:
            continue
        marks.append(([(x - 0.3, 0.0, z), (x - 0.1, 0.12, z)], 0.4))
        marks.append(([(x, 0.0, z), (x + 0.25, 0.1, z)], 0.4))
    for z in (-26.2, -21.8):  # the road's edge lines
        marks.append(([(-300.0, 0.0, z), (300.0, 0.0, z)], 0.45))
    return _Place(backdrop, ground, marks, solids, [], seed)


# -- the shore ------------------------------------------------------------------------------------
def _shore(seed: int) -> _Place:
    rng = _rng(seed, 3)
    shoreline = smooth([(-175.0, 10.0), (-120.0, 34.0), (-50.0, 48.0), (10.0, 50.0), (70.0, 40.0), (115.0, 20.0),
                        (150.0, -4.0)], 4)  # fmt: skip
    back = [(x, z + 48.0) for x, z in shoreline]
    sand: list[Vec] = [(x, 0.0, z) for x, z in shoreline] + [(x, 3.5, z) for x, z in back[::-1]]
    land: list[Vec] = [(x, 3.5, z) for x, z in back]
    land += [
        (600 * math.sin(math.radians(a)), 22.0, 600 * math.cos(math.radians(a)))
        for a in range(100, -101, -10)
    ]
    ground = [(_disk(0, 0, 6000, n=96), "sea"), (land, "grass"), (sand, "sand")]
    marks: list[tuple[list[Vec], float]] = []
    for off, w in ((4.0, 0.55), (11.0, 0.45), (22.0, 0.4)):  # foam lines along the waterline, broken
        pts = [(x, 0.0, z - off) for x, z in shoreline]
        for j in range(int(rng.integers(0, 3)), len(pts) - 3, 5):
            marks.append((pts[j : j + 3], w))
    for _ in range(500):  # wave strokes on the sea, denser in the bay
        x, z = float(rng.uniform(-900, 900)), float(rng.uniform(-900, 0))
        marks.append(([(x, 0.0, z), (x + float(rng.uniform(4, 16)), 0.0, z)], 0.4))
    for _ in range(260):
        x, z = float(rng.uniform(-140, 110)), float(rng.uniform(-260, -20))
        marks.append(([(x, 0.0, z), (x + float(rng.uniform(1.5, 5)), 0.0, z)], 0.4))
    for x, z in back[4::6]:  # a line of dune grass at the back of the beach
        marks.append(([(x, 3.4, z - 2), (x + 0.8, 4.6, z - 2.5)], 0.45))
    east = _Headland.make(seed * 31 + 1, (250.0, 60.0), (120.0, 110.0), 36.0, (175.0, 50.0, 62.0))
    west = _Headland.make(seed * 31 + 2, (-290.0, 70.0), (125.0, 140.0), 30.0, (-270.0, 80.0, 80.0))
    solids: list[_House | _Billboard | _Headland | tuple[str, list[Vec]]] = [east, west]
    k = 0
    for x, z, size in ((-168.0, -30.0, 9.0), (-160.0, -8.0, 6.0), (-185.0, -60.0, 11.0), (-150.0, 14.0, 4.0),
                       (135.0, -10.0, 7.0), (150.0, -28.0, 9.0), (122.0, 6.0, 4.0)):  # fmt: skip
        solids.append(_Billboard("rock", (x, 0.0, z), size, (seed, 90, k)))
        k += 1
    for x, z, h, lean in ((136.0, 68.0, 11.0, 0.3), (150.0, 30.0, 10.0, -0.3), (160.0, 100.0, 9.0, 0.1),
                          (-178.0, 70.0, 12.0, 0.2), (-185.0, 30.0, 10.0, -0.2)):  # fmt: skip
        hd = east if x > 0 else west
        solids.append(_Billboard("pine", (x, hd.height(x, z), z), h, (seed, 95, k), lean))
        k += 1
    for x, z in back[3::5]:  # the pine belt behind the beach (防風林)
        solids.append(_Billboard("pine", (x + float(rng.uniform(-4, 4)), 3.5, z + 6), float(rng.uniform(10, 14)),
                                 (seed, 96, k), float(rng.uniform(-0.2, 0.2))))  # fmt: skip
        k += 1
    backdrop = [
        _ridge(rng, "mountain_far", (0.0, 0.0), 4000.0, -120, 120, 5, 250, 650, jag=0.03),
        _ridge(rng, "hill", (0.0, 0.0), 620.0, -110, 110, 4, 50, 110, base=22.0, forest=30.0),
    ]
    return _Place(backdrop, ground, marks, solids, [], seed)


# ----------------------------------------------------------------------------------------------
_PLACES: dict[str, tuple[str, str, Callable[[int], _Place], tuple[LocationView, ...]]] = {
    "street": (
        "Village street",
        "町並み",
        _street,
        (
            LocationView(
                "south_end", "from the south end", "南の端から", (0.6, 1.5, -15.0), 0.0, 1.0, 64.0, 0.56
            ),
            LocationView(
                "north_end", "from the north end", "北の端から", (-0.6, 1.5, 116.0), 180.0, 1.0, 64.0, 0.56
            ),
        ),
    ),
    "farmhouse": (
        "Farmhouse",
        "農家",
        _farmhouse,
        (
            LocationView("road", "from the road", "道から", (-3.0, 1.5, -31.0), 4.0, 2.0, 66.0, 0.56),
            LocationView("garden", "from the garden", "庭から", (19.0, 1.5, -11.5), -80.0, 2.0, 70.0, 0.56),
        ),
    ),
    "shore": (
        "Shore",
        "海岸",
        _shore,
        (
            LocationView(
                "hill", "from the hill", "丘の上から", (146.0, 45.0, 62.0), -100.0, -12.0, 68.0, 0.5
            ),
            LocationView("water", "from the water", "海の上から", (-10.0, 3.0, -150.0), 0.0, 1.0, 80.0, 0.56),
            LocationView("beach", "from the beach", "浜辺から", (-30.0, 3.2, 70.0), 84.0, 1.0, 72.0, 0.56),
        ),
    ),
}

LOCATION_PLACES: tuple[str, ...] = tuple(_PLACES)
LOCATION_VIEWS: dict[str, tuple[str, ...]] = {
    p: tuple(v.name for v in spec[3]) for p, spec in _PLACES.items()
}


def location_view(place: str, view: str) -> LocationView:
    if place not in _PLACES:
        raise InputError(f"unknown location place {place!r}; choose one of: {', '.join(LOCATION_PLACES)}")
    views = {v.name: v for v in _PLACES[place][3]}
    if view not in views:
        raise InputError(f"place {place!r} has no view {view!r}; choose one of: {', '.join(views)}")
    return views[view]


def make_location_scene(place: str, view: str, width: int, height: int, seed: int = 0) -> Scene:
    """Draw ``place`` as seen from ``view`` at ``width`` x ``height`` pixels (any aspect)."""
    cam = location_view(place, view)
    if not (64 <= width <= 16384 and 64 <= height <= 16384):
        raise InputError(f"scene size {width}x{height} is outside 64..16384 pixels per side")
    title, title_ja, build, views = _PLACES[place]
    canvas = Canvas(width, height, Vocabulary())
    index = [v.name for v in views].index(view)
    _draw_place(canvas, build(seed * 1000 + LOCATION_PLACES.index(place)), cam, index)
    return Scene(f"{place}_{view}", f"{title}, {cam.title}", f"{title_ja}（{cam.title_ja}）", canvas.lines(),
                 canvas.regions(), canvas.book())  # fmt: skip

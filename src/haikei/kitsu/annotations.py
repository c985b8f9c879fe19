"""A drawing on a Kitsu preview as a haikei retake mask.

Kitsu keeps the drawings on the preview file (``preview_file.annotations``): a list of
``{"time": t, "drawing": {"objects": [...]}}``; the objects are Fabric.js shapes in the
coordinates of the canvas they were drawn on (``canvasWidth`` / ``canvasHeight`` on each object,
else the preview's own size). Shapes haikei reads:

- ``path`` (freehand pencil: ``path`` commands ``[["M", x, y], ["Q", cx, cy, x, y], ...]``),
  ``psstroke`` (Kitsu's pressure pen: ``strokePoints`` ``[{"x", "y", "pressure"}]``),
  ``polyline`` / ``polygon`` (``points``), ``line`` (``x1 y1 x2 y2``): in the shape's centred
  frame, placed by ``left top width height scaleX scaleY angle`` (and ``pathOffset``);
- ``rect``, ``ellipse`` / ``circle``: by their box;
- ``group``: its children. Text is a remark, not an area: it is left out of the mask.

What a shape marks: rectangles, ellipses, polygons and freehand loops that close on themselves
(ends within a fifth of the stroke's size) are filled; open strokes, lines and arrows mark a band
as thick as the stroke, at least 2 % of the frame's short side (the rule haikei's own drawings
follow). The mask is drawn directly at the BG's size: canvas coordinates are scaled by
BG size / canvas size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["annotation_mask", "drawing_objects"]

_TEXT = {"i-text", "text", "textbox"}
Point = tuple[float, float]


def drawing_objects(annotations: Any) -> list[dict[str, Any]]:
    """Every shape of every annotated time, in order (groups kept whole)."""
    out: list[dict[str, Any]] = []
    for a in annotations or []:
        if not isinstance(a, dict):
            continue
        objects = (a.get("drawing") or {}).get("objects") or []
        out.extend(o for o in objects if isinstance(o, dict))
    return out


def _num(obj: dict[str, Any], key: str, default: float = 0.0) -> float:
    v = obj.get(key)
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else default


def _placer(obj: dict[str, Any], pivot: Point):  # type: ignore[no-untyped-def]
    """Fabric's placement of a shape's local point: scale, rotate about the box centre, move."""
    sx, sy = _num(obj, "scaleX", 1.0) or 1.0, _num(obj, "scaleY", 1.0) or 1.0
    left, top = _num(obj, "left"), _num(obj, "top")
    w, h = _num(obj, "width"), _num(obj, "height")
    a = math.radians(_num(obj, "angle"))
    ca, sa = math.cos(a), math.sin(a)
    # the box centre before rotation, rotated about (left, top) as fabric does
    dx, dy = w / 2 * sx, h / 2 * sy
    cx, cy = left + dx * ca - dy * sa, top + dx * sa + dy * ca

    def place(px: float, py: float) -> Point:
        x, y = (px - pivot[0]) * sx, (py - pivot[1]) * sy
        return x * ca - y * sa + cx, x * sa + y * ca + cy

    return place


def _with_box(obj: dict[str, Any], pts: list[Point]) -> dict[str, Any]:
    """Fill in left/top/width/height from the points when the JSON leaves them out."""
    if not pts or all(k in obj for k in ("left", "top", "width", "height")):
        return obj
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    out = dict(obj)
    out.setdefault("left", min(xs))
    out.setdefault("top", min(ys))
    out.setdefault("width", max(xs) - min(xs))
    out.setdefault("height", max(ys) - min(ys))
    return out


def _centre(pts: list[Point]) -> Point:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2


def _path_points(commands: Any) -> list[Point]:
    pts: list[Point] = []
    for c in commands or []:
        if not isinstance(c, list | tuple) or len(c) < 3:
            continue
        nums = [float(v) for v in c[1:] if isinstance(v, int | float)]
        # every control point of a curve lies near it: keep them all (a mask, not a rendering)
        pts.extend((nums[i], nums[i + 1]) for i in range(0, len(nums) - 1, 2))
    return pts


def _stroke(obj: dict[str, Any], local: list[Point], offset: Any) -> list[Point]:
    if not local:
        return []
    obj = _with_box(obj, local)
    if isinstance(offset, dict):
        pivot = (float(offset.get("x", 0) or 0), float(offset.get("y", 0) or 0))
    else:
        pivot = _centre(local)
    place = _placer(obj, pivot)
    return [place(x, y) for x, y in local]


def _box(obj: dict[str, Any]) -> list[Point]:
    w, h = _num(obj, "width"), _num(obj, "height")
    if obj.get("type") == "circle" and not w:
        w = h = 2 * _num(obj, "radius")
    place = _placer(obj, (w / 2, h / 2))
    return [place(0, 0), place(w, 0), place(w, h), place(0, h)]


def _shapes(obj: dict[str, Any]) -> Iterable[tuple[str, list[Point], float]]:
    """(kind, canvas points, stroke width) for one object: kind 'fill' | 'ellipse' | 'stroke'."""
    kind = str(obj.get("type") or "").lower()
    width = _num(obj, "strokeWidth", 1.0) * (_num(obj, "scaleX", 1.0) or 1.0)
    if kind in _TEXT:
        return
    if kind == "group":
        for child in obj.get("objects") or []:
            if isinstance(child, dict):
                yield from _shapes(child)
        return
    if kind == "rect":
        yield "fill", _box(obj), width
    elif kind in ("ellipse", "circle"):
        yield "ellipse", _box(obj), width
    elif kind == "path":
        yield "stroke", _stroke(obj, _path_points(obj.get("path")), obj.get("pathOffset")), width
    elif kind == "psstroke":
        local = [
            (float(p.get("x", 0) or 0), float(p.get("y", 0) or 0))
            for p in obj.get("strokePoints") or []
            if isinstance(p, dict)
        ]
        yield "stroke", _stroke(obj, local, obj.get("strokeOffset")), width
    elif kind in ("polyline", "polygon"):
        local = [
            (float(p.get("x", 0) or 0), float(p.get("y", 0) or 0))
            for p in obj.get("points") or []
            if isinstance(p, dict)
        ]
        pts = _stroke(obj, local, obj.get("pathOffset"))
        yield ("fill" if kind == "polygon" else "stroke"), pts, width
    elif kind in ("line", "arrow"):
        local = [(_num(obj, "x1"), _num(obj, "y1")), (_num(obj, "x2"), _num(obj, "y2"))]
        place = _placer(obj, (0.0, 0.0))
        pts = [place(x, y) for x, y in local]
        yield "line", pts, width


def annotation_mask(
    objects: list[dict[str, Any]],
    bg_width: int,
    bg_height: int,
    preview_width: int,
    preview_height: int,
) -> np.ndarray:
    """The area the shapes mark, as a boolean mask at the BG's size."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (bg_width, bg_height), 0)
    g = ImageDraw.Draw(img)
    thick = max(8, round(min(bg_width, bg_height) * 0.02))
    for obj in objects:
        cw = _num(obj, "canvasWidth") or float(preview_width or bg_width)
        ch = _num(obj, "canvasHeight") or float(preview_height or bg_height)
        kx, ky = bg_width / cw, bg_height / ch
        for kind, pts, width in _shapes(obj):
            if not pts:
                continue
            xy = [(x * kx, y * ky) for x, y in pts]
            lw = max(thick, round(width * kx * 3))
            if kind == "fill" and len(xy) >= 3:
                g.polygon(xy, fill=255)
            elif kind == "ellipse":
                xs, ys = [p[0] for p in xy], [p[1] for p in xy]
                g.ellipse((min(xs), min(ys), max(xs), max(ys)), fill=255)
            elif len(xy) == 1:
                x, y = xy[0]
                g.ellipse((x - lw / 2, y - lw / 2, x + lw / 2, y + lw / 2), fill=255)
            else:
                xs, ys = [p[0] for p in xy], [p[1] for p in xy]
                size = math.hypot(max(xs) - min(xs), max(ys) - min(ys))
                closes = math.dist(xy[0], xy[-1]) <= max(size / 5, lw)
                if kind == "stroke" and len(xy) >= 3 and closes:
                    g.polygon(xy, fill=255)
                g.line(xy, fill=255, width=lw, joint="curve")
                for x, y in (xy[0], xy[-1]):
                    g.ellipse((x - lw / 2, y - lw / 2, x + lw / 2, y + lw / 2), fill=255)
    return np.asarray(img) >= 128

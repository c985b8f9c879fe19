"""A conversation on the picture: comments per BG (plain or replies), each written on a version,
each may carry a drawing on that version as JSON shapes in the BG's pixels:

- ``{"type": "pen", "colour": "#e53935", "width": 6, "points": [[x, y], ...]}``
- ``{"type": "arrow", "colour": ..., "width": ..., "points": [[x0, y0], [x1, y1]]}`` (tip at the end)
- ``{"type": "rect" | "ellipse", "colour": ..., "width": ..., "points": [[x0, y0], [x1, y1]]}`` (corners)
- ``{"type": "text", "colour": ..., "size": 32, "points": [[x, y]], "text": "..."}`` (baseline start)

A drawing becomes a retake mask (:func:`drawing_mask`): rectangles and ellipses filled, strokes
and arrows thick, text by its box; the page loads it onto the retake brush to be edited before
it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from haikei.domain.models import User
from haikei.errors import InputError, NotFoundError
from haikei.services.context import ServiceContext
from haikei.services.rendering import find_background
from haikei.services.users import require
from haikei.store.tables import CommentRow, VersionRow

__all__ = [
    "COLOURS",
    "SHAPE_TYPES",
    "Comment",
    "add_comment",
    "check_shapes",
    "comment_mask",
    "comments_of",
    "drawing_mask",
]

SHAPE_TYPES = ("pen", "arrow", "rect", "ellipse", "text")
COLOURS = {
    "#e53935": "red",
    "#fdd835": "yellow",
    "#00b0ff": "blue",
    "#43a047": "green",
    "#ffffff": "white",
}
MAX_SHAPES = 200
MAX_POINTS = 4000
MAX_TEXT = 4000


@dataclass(frozen=True)
class Comment:
    id: int
    background_id: int
    version_id: int | None
    parent_id: int | None
    author: str
    text: str
    shapes: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "background_id": self.background_id,
            "version_id": self.version_id,
            "parent_id": self.parent_id,
            "author": self.author,
            "text": self.text,
            "shapes": self.shapes,
            "created_at": self.created_at.isoformat(timespec="seconds") if self.created_at else None,
            "mask_url": None,
        }


def _to_comment(r: CommentRow) -> Comment:
    return Comment(
        id=r.id,
        background_id=r.background_id,
        version_id=r.version_id,
        parent_id=r.parent_id,
        author=r.author,
        text=r.text,
        shapes=list(r.shapes or []),
        created_at=r.created_at,
    )


def _num(v: Any, what: str, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
        raise InputError(f"drawing: {what} must be a number")
    if not lo <= float(v) <= hi:
        raise InputError(f"drawing: {what} = {v} is outside {lo:g}..{hi:g}")
    return round(float(v), 1)


def check_shapes(shapes: Any, width: int, height: int) -> list[dict[str, Any]]:
    """The drawing as clean shapes (BG pixels), or InputError naming the first bad field."""
    if shapes is None:
        return []
    if not isinstance(shapes, list):
        raise InputError("drawing: shapes must be a list")
    if len(shapes) > MAX_SHAPES:
        raise InputError(f"drawing: {len(shapes)} shapes, at most {MAX_SHAPES}; split it over comments")
    out: list[dict[str, Any]] = []
    total = 0
    for i, sh in enumerate(shapes):
        where = f"shape {i + 1}"
        if not isinstance(sh, dict):
            raise InputError(f"drawing: {where} must be an object")
        kind = sh.get("type")
        if kind not in SHAPE_TYPES:
            raise InputError(f"drawing: {where} type {kind!r} is not one of {', '.join(SHAPE_TYPES)}")
        colour = str(sh.get("colour", "#e53935")).lower()
        if colour not in COLOURS:
            raise InputError(f"drawing: {where} colour {colour!r} is not one of {', '.join(COLOURS)}")
        pts = sh.get("points")
        need = {"pen": (1, MAX_POINTS), "arrow": (2, 2), "rect": (2, 2), "ellipse": (2, 2), "text": (1, 1)}[
            kind
        ]
        if not isinstance(pts, list) or not need[0] <= len(pts) <= need[1]:
            raise InputError(f"drawing: {where} ({kind}) needs {need[0]}..{need[1]} points")
        total += len(pts)
        if total > MAX_POINTS * 4:
            raise InputError("drawing: too many points; simplify the strokes")
        clean_pts = []
        for p in pts:
            if not isinstance(p, list | tuple) or len(p) != 2:
                raise InputError(f"drawing: {where} points must be [x, y] pairs")
            clean_pts.append(
                [
                    _num(p[0], f"{where} x", -width, 2 * width),
                    _num(p[1], f"{where} y", -height, 2 * height),
                ]
            )
        shape: dict[str, Any] = {"type": kind, "colour": colour, "points": clean_pts}
        if kind == "text":
            text = sh.get("text")
            if not isinstance(text, str) or not text.strip() or len(text) > 200:
                raise InputError(f"drawing: {where} text must be 1..200 characters")
            shape["text"] = text.strip()
            shape["size"] = _num(sh.get("size", 32), f"{where} size", 6, 400)
        else:
            shape["width"] = _num(sh.get("width", 6), f"{where} width", 1, 200)
        out.append(shape)
    return out


def comments_of(ctx: ServiceContext, ref: str) -> list[Comment]:
    """The BG's comments, oldest first (replies carry their parent's id)."""
    with ctx.db.session() as s:
        bg = find_background(s, ref)
        rows = s.scalars(select(CommentRow).where(CommentRow.background_id == bg.id).order_by(CommentRow.id))
        return [_to_comment(r) for r in rows]


def add_comment(
    ctx: ServiceContext,
    user: User,
    ref: str,
    text: str,
    *,
    version_id: int | None = None,
    parent_id: int | None = None,
    shapes: Any = None,
) -> Comment:
    """A comment (or, with ``parent_id``, a reply) on BG ``ref``, written on ``version_id``
    (default: the reply's parent's version, else the BG's current version), with an optional
    drawing. Checked whole before anything is stored; one transaction."""
    require(user, "comment")
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise InputError(f"comment: {len(text)} characters, at most {MAX_TEXT}")
    with ctx.db.immediate() as s:
        bg = find_background(s, ref)
        clean = check_shapes(shapes, bg.width, bg.height)
        if not text and not clean:
            raise InputError("comment: write something or draw on the picture")
        parent = None
        if parent_id is not None:
            parent = s.get(CommentRow, int(parent_id))
            if parent is None or parent.background_id != bg.id:
                raise NotFoundError(f"comment {parent_id} is not a comment on {bg.name}")
        vid = (
            version_id if version_id is not None else (parent.version_id if parent else bg.current_version_id)
        )
        if vid is not None:
            v = s.get(VersionRow, int(vid))
            if v is None or v.background_id != bg.id:
                raise NotFoundError(f"version {vid} is not a version of {bg.name}")
        if clean and vid is None:
            raise InputError(f"{bg.name} has no version yet to draw on")
        row = CommentRow(
            background_id=bg.id,
            version_id=int(vid) if vid is not None else None,
            parent_id=parent.id if parent else None,
            author=user.name,
            text=text,
            shapes=clean,
        )
        s.add(row)
        s.flush()
        return _to_comment(row)


def drawing_mask(shapes: list[dict[str, Any]], width: int, height: int) -> np.ndarray:
    """The area a drawing marks, as a boolean mask: filled rectangles and ellipses, strokes and
    arrows as thick lines (at least 2 % of the frame's short side), text by its box."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (width, height), 0)
    g = ImageDraw.Draw(img)
    thick = max(8, round(min(width, height) * 0.02))
    for sh in shapes:
        pts = [(float(x), float(y)) for x, y in sh["points"]]
        kind = sh["type"]
        if kind in ("rect", "ellipse"):
            (x0, y0), (x1, y1) = pts
            box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            (g.rectangle if kind == "rect" else g.ellipse)(box, fill=255)
        elif kind == "text":
            x, y = pts[0]
            size = float(sh.get("size", 32))
            w = size * 0.6 * max(1, len(sh.get("text", "")))
            g.rectangle((x - size * 0.2, y - size, x + w, y + size * 0.3), fill=255)
        else:
            lw = max(thick, round(float(sh.get("width", 6)) * 3))
            if len(pts) == 1:
                x, y = pts[0]
                g.ellipse((x - lw / 2, y - lw / 2, x + lw / 2, y + lw / 2), fill=255)
            else:
                g.line(pts, fill=255, width=lw, joint="curve")
                for x, y in (pts[0], pts[-1]):
                    g.ellipse((x - lw / 2, y - lw / 2, x + lw / 2, y + lw / 2), fill=255)
    return np.asarray(img) >= 128


def comment_mask(ctx: ServiceContext, ref: str, comment_id: int) -> np.ndarray:
    """The retake mask of a comment's drawing (InputError when it has none)."""
    with ctx.db.session() as s:
        bg = find_background(s, ref)
        row = s.get(CommentRow, int(comment_id))
        if row is None or row.background_id != bg.id:
            raise NotFoundError(f"comment {comment_id} is not a comment on {bg.name}")
        if not row.shapes:
            raise InputError(f"comment {comment_id} has no drawing to turn into a mask")
        return drawing_mask(list(row.shapes), bg.width, bg.height)

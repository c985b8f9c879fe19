"""File-name conventions for layouts dropped into a production (see specs/intake.md).

A layout file name says which cut(s) it is for and what it holds::

    [ep01_][s01_]c012[-c015][_role].ext

* ``ep01`` / ``ep1`` / ``e01`` — optional episode, canonical ``ep01`` (2+ digits).
* ``s01`` — optional scene number (films), kept as ``s01``; it does not change the cut id.
* ``c012`` / ``C12`` / ``cut012`` — the cut, canonical ``c012`` (3+ digits, optional split
  letter: ``c012a``). Bare numbers (``012.png``) are not cuts: too many other files are numbered.
* ``c012-c015`` / ``c012-015`` / ``c012~c015`` — one BG shared by cuts 12..15 (兼用);
  ``c012+c014`` — shared by cuts 12 and 14. Ranges hold at most :data:`MAX_SHARED_CUTS` cuts.
* ``_lo`` / ``_layout`` / ``_lines`` (or nothing) — the line drawing; ``_regions`` / ``_region`` /
  ``_rg`` — the region map; ``_book`` — the BOOK mask. A ``.psd`` holds all of them as layers.

Matching is case-insensitive. Region maps and BOOK masks must be lossless (PNG or TIFF):
a JPEG region map has colours no class owns, so it is refused here, by name, before anyone
waits for it to fail later.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from haikei.errors import InputError

__all__ = [
    "IMAGE_EXTENSIONS",
    "LOSSLESS_EXTENSIONS",
    "MAX_SHARED_CUTS",
    "LayoutName",
    "LayoutRole",
    "canonical_cut",
    "canonical_episode",
    "explain_layout_name",
    "parse_layout_name",
]

LayoutRole = Literal["lines", "regions", "book", "psd"]

IMAGE_EXTENSIONS: frozenset[str] = frozenset({"png", "jpg", "jpeg", "tif", "tiff", "psd"})
LOSSLESS_EXTENSIONS: frozenset[str] = frozenset({"png", "tif", "tiff"})
MAX_SHARED_CUTS = 200

_ROLE_SUFFIXES: dict[str, LayoutRole] = {
    "lo": "lines",
    "layout": "lines",
    "lines": "lines",
    "line": "lines",
    "regions": "regions",
    "region": "regions",
    "rg": "regions",
    "book": "book",
}

_CUT_TOKEN = r"(?:cut|c)\d{1,5}[a-z]?"
_CUT_ITEM = rf"{_CUT_TOKEN}(?:[-~](?:(?:cut|c)?\d{{1,5}}[a-z]?))?"
_NAME_RE = re.compile(
    r"^(?:(?P<ep>(?:ep|e)\d{1,4})[_\-\s]*)?"
    r"(?:(?P<scene>s\d{1,4})[_\-\s]*)?"
    rf"(?P<cuts>{_CUT_ITEM}(?:\+{_CUT_ITEM})*)"
    r"(?:[_\-\s]+(?P<role>[a-z]+))?$"
)
_CUT_RE = re.compile(r"^(?:cut|c)?0*(?P<num>\d{1,5})(?P<split>[a-z]?)$")
_EP_RE = re.compile(r"^(?:ep|e)?0*(?P<num>\d{1,4})$")


@dataclass(frozen=True)
class LayoutName:
    """What a layout file's name says.

    ``cuts`` are canonical ids in ascending order; more than one means a shared BG (兼用).
    ``extension`` is lower case without the dot, exactly as written (``jpeg`` stays ``jpeg``).
    """

    filename: str
    cuts: tuple[str, ...]
    role: LayoutRole
    extension: str
    episode: str | None = None
    scene: str | None = None

    @property
    def cut(self) -> str:
        """The first (lowest) cut: the one a shared BG is filed under."""
        return self.cuts[0]

    @property
    def shared(self) -> bool:
        return len(self.cuts) > 1


def canonical_cut(value: str | int) -> str:
    """``"12"``, ``12``, ``"C12"``, ``"cut012"``, ``"c0012"`` -> ``"c012"``; ``"12A"`` -> ``"c012a"``.

    Raises :class:`InputError` for anything that is not a cut number (cut 0 included).
    """
    text = str(value).strip().lower()
    m = _CUT_RE.match(text)
    if m is None or int(m["num"]) == 0:
        raise InputError(
            f"{value!r} is not a cut number; write it as c012, C12, cut012 or 12 (cuts start at 1)"
        )
    return f"c{int(m['num']):03d}{m['split']}"


def canonical_episode(value: str | int) -> str:
    """``"1"``, ``1``, ``"EP1"``, ``"e01"`` -> ``"ep01"``. Raises :class:`InputError` otherwise."""
    text = str(value).strip().lower()
    m = _EP_RE.match(text)
    if m is None:
        raise InputError(f"{value!r} is not an episode number; write it as ep01, EP1 or 1")
    return f"ep{int(m['num']):02d}"


def _cut_number(token: str) -> tuple[int, str]:
    m = _CUT_RE.match(token)
    if m is None:  # pragma: no cover - the name regex only lets cut tokens through
        raise ValueError(token)
    return int(m["num"]), m["split"]


def _expand_cuts(spec: str) -> tuple[tuple[str, ...] | None, str]:
    """Expand ``c012-c015+c020`` into canonical ids, or (None, reason)."""
    cuts: list[str] = []
    for item in spec.split("+"):
        ends = re.split(r"[-~]", item)
        if len(ends) == 1:
            num, split = _cut_number(ends[0])
            if num == 0:
                return None, "cut 0 does not exist (cuts start at 1)"
            cuts.append(f"c{num:03d}{split}")
            continue
        (a, sa), (b, sb) = _cut_number(ends[0]), _cut_number(ends[1])
        if sa or sb:
            return None, f"a cut range cannot use split cuts ({item}); list them with '+': c012a+c012b"
        if a == 0:
            return None, "cut 0 does not exist (cuts start at 1)"
        if b <= a:
            return None, f"cut range {item} does not go upwards; write the lower cut first (c012-c015)"
        if b - a + 1 > MAX_SHARED_CUTS:
            return None, f"cut range {item} spans {b - a + 1} cuts, more than {MAX_SHARED_CUTS}"
        cuts.extend(f"c{n:03d}" for n in range(a, b + 1))
    if len(set(cuts)) != len(cuts):
        return None, "a cut is named twice"
    if len(cuts) > MAX_SHARED_CUTS:
        return None, f"{len(cuts)} shared cuts, more than {MAX_SHARED_CUTS}"
    return tuple(sorted(cuts, key=_cut_number)), ""


def explain_layout_name(filename: str | os.PathLike[str]) -> tuple[LayoutName | None, str]:
    """Parse a layout file name; on failure return ``(None, reason)`` the intake can show."""
    name = PurePath(filename).name
    if not name or name.startswith("."):
        return None, "hidden or system file"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return None, "no file extension; expected .png, .jpg, .tif or .psd"
    ext = ext.lower()
    if ext not in IMAGE_EXTENSIONS:
        return None, f".{ext} is not a layout format; expected .png, .jpg, .jpeg, .tif, .tiff or .psd"
    m = _NAME_RE.match(stem.strip().lower())
    if m is None:
        return None, (
            "name does not follow the layout convention [ep01_]c012[-c015][_lo|_regions|_book]"
            " (see specs/intake.md)"
        )
    suffix = m["role"]
    if suffix is None:
        role: LayoutRole = "lines"
    elif suffix in _ROLE_SUFFIXES:
        role = _ROLE_SUFFIXES[suffix]
    else:
        known = ", ".join(f"_{s}" for s in _ROLE_SUFFIXES)
        return None, f"unknown suffix _{suffix}; known suffixes: {known}"
    if ext == "psd":
        if role != "lines":
            return None, f"a .psd holds all layers; name it without _{suffix} (c012.psd)"
        role = "psd"
    elif role in ("regions", "book") and ext not in LOSSLESS_EXTENSIONS:
        return None, f"a {role} file must be lossless; save it as PNG or TIFF, not .{ext}"
    cuts, reason = _expand_cuts(m["cuts"])
    if cuts is None:
        return None, reason
    episode = canonical_episode(m["ep"]) if m["ep"] else None
    scene = f"s{int(m['scene'][1:]):02d}" if m["scene"] else None
    return LayoutName(name, cuts, role, ext, episode, scene), ""


def parse_layout_name(filename: str | os.PathLike[str]) -> LayoutName | None:
    """The cut(s), role and episode a layout file name declares, or None if it follows no convention.

    >>> parse_layout_name("ep01_c012-c014_lo.png").cuts
    ('c012', 'c013', 'c014')
    """
    return explain_layout_name(filename)[0]

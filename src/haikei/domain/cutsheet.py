"""Cut sheets: per-cut frame size, PAN and notes from a CSV/TSV or TOML file (see specs/intake.md).

CSV header (any order, case-insensitive; Japanese names accepted)::

    cut, episode, width, height | frame, pan_length, pan_direction, duration, notes

* ``cut`` (カット) is required: ``c012``, ``C12``, ``12`` ... -> canonical ``c012``.
* ``frame`` (フレーム / 画面サイズ) ``1920x1080`` or ``width`` (幅) + ``height`` (高さ); both may be
  empty, meaning "the production's default frame".
* ``pan_length`` (PAN長 / パン長): how far the camera travels, in pixels at delivery size (``960``
  or ``960px``); ``pan_direction`` (PAN方向 / パン方向): left | right | up | down (左 右 上 下).
  Both or neither.
* ``duration`` (尺): ``3+12`` (seconds+frames at 24 fps) or a plain frame count.
* Other columns (作監, 原画 ...) are kept as ``extra``; a header that looks like a misspelt known
  one (``widht``) is refused.

The same fields in TOML: ``[[cut]]`` tables, with an optional top-level ``episode`` default.
CSV is read as UTF-8 (BOM or not); a file that is not UTF-8 is read as Shift_JIS (cp932), the
encoding Excel writes on Japanese Windows. Full-width digits (１９２０×１０８０) are accepted.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from haikei.domain.naming import canonical_cut, canonical_episode
from haikei.errors import InputError

__all__ = ["MAX_FRAME_SIDE", "PAN_DIRECTIONS", "CutSheetRow", "PanDirection", "read_cut_sheet"]

PanDirection = Literal["left", "right", "up", "down"]
PAN_DIRECTIONS: tuple[PanDirection, ...] = ("left", "right", "up", "down")
MAX_FRAME_SIDE = 16384
MAX_SHEET_BYTES = 16 * 1024 * 1024
FPS = 24

_HEADER_ALIASES: dict[str, str] = {
    "cut": "cut",
    "カット": "cut",
    "カット番号": "cut",
    "c": "cut",
    "episode": "episode",
    "ep": "episode",
    "話数": "episode",
    "話": "episode",
    "width": "width",
    "幅": "width",
    "height": "height",
    "高さ": "height",
    "frame": "frame",
    "size": "frame",
    "フレーム": "frame",
    "画面サイズ": "frame",
    "pan_length": "pan_length",
    "pan": "pan_length",
    "pan長": "pan_length",
    "パン長": "pan_length",
    "pan_direction": "pan_direction",
    "pan方向": "pan_direction",
    "パン方向": "pan_direction",
    "duration": "duration",
    "尺": "duration",
    "notes": "notes",
    "note": "notes",
    "備考": "notes",
    "メモ": "notes",
}
_DIRECTION_ALIASES: dict[str, PanDirection] = {
    "left": "left",
    "l": "left",
    "左": "left",
    "right": "right",
    "r": "right",
    "右": "right",
    "up": "up",
    "u": "up",
    "上": "up",
    "down": "down",
    "d": "down",
    "下": "down",
}
_FRAME_RE = re.compile(r"^(\d+)\s*[x×*]\s*(\d+)$")
_PX_RE = re.compile(r"^(\d+)\s*(?:px)?$")
_DURATION_RE = re.compile(r"^(?:(\d+)\s*\+\s*(\d+)|(\d+))$")


@dataclass(frozen=True)
class CutSheetRow:
    """One cut's entry. ``width``/``height`` None = the production's default frame."""

    cut: str
    episode: str | None = None
    width: int | None = None
    height: int | None = None
    pan_length: int | None = None
    pan_direction: PanDirection | None = None
    duration_frames: int | None = None
    notes: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    line: int = 0

    @property
    def frame(self) -> tuple[int, int] | None:
        return None if self.width is None or self.height is None else (self.width, self.height)


class _Where:
    """Builds the one-line errors: '<file>: line 7: <problem>; <fix>'."""

    def __init__(self, path: str, where: str) -> None:
        self.path, self.where = path, where

    def error(self, problem: str, fix: str) -> InputError:
        return InputError(f"{self.path}: {self.where}: {problem}; {fix}")


def _norm(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def _int_px(text: str, what: str, at: _Where, lo: int, hi: int) -> int:
    m = _PX_RE.match(text.lower())
    if m is None or not lo <= int(m[1]) <= hi:
        raise at.error(
            f"{what} {text!r} is not a whole number of pixels in {lo}..{hi}", f"write e.g. {hi // 8}"
        )
    return int(m[1])


def _row(
    values: Mapping[str, str], extra: Mapping[str, str], default_ep: str | None, at: _Where, line: int
) -> CutSheetRow:
    # 1. cut and episode
    if not values.get("cut"):
        raise at.error("the cut is empty", "write the cut number (c012 or 12) or delete the row")
    try:
        cut = canonical_cut(values["cut"])
        ep_text = values.get("episode") or default_ep
        episode = canonical_episode(ep_text) if ep_text else None
    except InputError as exc:
        raise at.error(str(exc).split(";")[0], "fix the cell") from None
    # 2. frame: "1920x1080" or width + height, consistent when both are given
    width = height = None
    if values.get("width") or values.get("height"):
        if not (values.get("width") and values.get("height")):
            raise at.error("only one of width/height is given", "give both, or a frame like 1920x1080")
        width = _int_px(values["width"], "width", at, 16, MAX_FRAME_SIDE)
        height = _int_px(values["height"], "height", at, 16, MAX_FRAME_SIDE)
    if values.get("frame"):
        m = _FRAME_RE.match(values["frame"].lower())
        if m is None:
            raise at.error(f"frame {values['frame']!r} is not WIDTHxHEIGHT", "write it like 1920x1080")
        fw = _int_px(m[1], "frame width", at, 16, MAX_FRAME_SIDE)
        fh = _int_px(m[2], "frame height", at, 16, MAX_FRAME_SIDE)
        if width is not None and (width, height) != (fw, fh):
            raise at.error(
                f"frame {fw}x{fh} disagrees with width/height {width}x{height}", "keep one of them"
            )
        width, height = fw, fh
    # 3. PAN: both or neither
    pan_length = pan_dir = None
    if values.get("pan_length"):
        pan_length = _int_px(values["pan_length"], "pan_length", at, 1, 8 * MAX_FRAME_SIDE)
    if values.get("pan_direction"):
        pan_dir = _DIRECTION_ALIASES.get(values["pan_direction"].lower())
        if pan_dir is None:
            raise at.error(
                f"pan_direction {values['pan_direction']!r} is unknown", "write left, right, up or down"
            )
    if (pan_length is None) != (pan_dir is None):
        raise at.error("a PAN needs both pan_length and pan_direction", "fill in the other one or clear both")
    # 4. duration: seconds+frames (24 fps) or frames
    duration = None
    if values.get("duration"):
        m = _DURATION_RE.match(values["duration"])
        if m is None or (m[2] is not None and int(m[2]) >= FPS):
            raise at.error(
                f"duration {values['duration']!r} is not seconds+frames",
                f"write it like 3+12 (frames < {FPS}) or 84",
            )
        duration = int(m[1]) * FPS + int(m[2]) if m[3] is None else int(m[3])
    return CutSheetRow(
        cut, episode, width, height, pan_length, pan_dir, duration, values.get("notes", ""), dict(extra), line
    )


def _map_headers(headers: Iterable[str], at: _Where) -> list[str | None]:
    """Known field per column, None for extra columns; refuse duplicates and near-miss typos."""
    out: list[str | None] = []
    seen: dict[str, str] = {}
    known = sorted(set(_HEADER_ALIASES))
    for raw in headers:
        h = _norm(raw).lower().replace(" ", "_")
        key = _HEADER_ALIASES.get(h)
        if key is None and h:
            close = difflib.get_close_matches(h, known, n=1, cutoff=0.75)
            if close:
                raise at.error(f"unknown column {raw!r}", f"did you mean {close[0]!r}?")
        if key is not None:
            if key in seen:
                raise at.error(f"columns {seen[key]!r} and {raw!r} both mean {key}", "delete one of them")
            seen[key] = raw
        out.append(key)
    if "cut" not in seen:
        raise at.error(
            "there is no 'cut' column",
            "add a header row starting with: cut,width,height,pan_length,pan_direction,notes",
        )
    return out


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: the file is neither UTF-8 nor Shift_JIS text; save it as UTF-8 CSV"
        ) from None


def _read_csv(text: str, path: str, delimiter: str) -> list[CutSheetRow]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[CutSheetRow] = []
    fields: list[str | None] | None = None
    headers: list[str] = []
    for cells in reader:
        line = reader.line_num
        cells = [_norm(c) for c in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        at = _Where(path, f"line {line}")
        if fields is None:
            fields, headers = _map_headers(cells, at), cells
            continue
        if len(cells) > len(fields) and any(cells[len(fields) :]):
            raise at.error(
                f"{len(cells)} cells but the header has {len(fields)}",
                "remove the extra cells or add a header",
            )
        values: dict[str, str] = {}
        extra: dict[str, str] = {}
        for f, h, c in zip(fields, headers, cells, strict=False):
            if f is not None:
                values[f] = c
            elif c:
                extra[h] = c
        rows.append(_row(values, extra, None, at, line))
    return rows


def _read_toml(text: str, path: str) -> list[CutSheetRow]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    top = _Where(path, "top level")
    unknown_top = set(doc) - {"cut", "episode"}
    if unknown_top:
        raise top.error(f"unknown keys {sorted(unknown_top)}", "use [[cut]] tables and an optional episode")
    tables = doc.get("cut")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise top.error("no [[cut]] tables", "write one [[cut]] table per cut")
    default_ep = _norm(doc["episode"]) if "episode" in doc else None
    rows: list[CutSheetRow] = []
    for i, table in enumerate(tables, start=1):
        at = _Where(path, f"[[cut]] #{i}")
        fields = _map_headers(table.keys(), at)
        values: dict[str, str] = {}
        extra: dict[str, str] = {}
        for f, (k, v) in zip(fields, table.items(), strict=True):
            if isinstance(v, (dict, list)):
                raise at.error(f"{k} must be a single value", "write it as a string or number")
            if f is not None:
                values[f] = _norm(v)
            else:
                extra[k] = _norm(v)
        rows.append(_row(values, extra, default_ep, at, i))
    return rows


def read_cut_sheet(path: str | os.PathLike[str]) -> list[CutSheetRow]:
    """Read a cut sheet (.csv, .tsv, .toml). Every bad row raises :class:`InputError` naming the
    file, the line (or ``[[cut]]`` table) and the fix; nothing is skipped silently except blank
    rows and rows whose first cell starts with ``#``."""
    p = Path(path)
    label = str(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt", ".toml"):
        raise InputError(f"{label}: a cut sheet must be .csv, .tsv or .toml, not {suffix or 'no extension'}")
    if not p.is_file():
        raise InputError(f"{label}: file not found; check the path")
    if p.stat().st_size > MAX_SHEET_BYTES:
        raise InputError(f"{label}: larger than {MAX_SHEET_BYTES >> 20} MiB; this is not a cut sheet")
    text = _decode(p.read_bytes(), label)
    if suffix == ".toml":
        rows = _read_toml(text, label)
    else:
        rows = _read_csv(text, label, "\t" if suffix == ".tsv" else ",")
    if not rows:
        raise InputError(f"{label}: no cuts in the sheet; add one row per cut under the header")
    # 5. one row per (episode, cut)
    first: dict[tuple[str | None, str], int] = {}
    for r in rows:
        key = (r.episode, r.cut)
        if key in first:

            def loc(n: int) -> str:
                return f"[[cut]] #{n}" if suffix == ".toml" else f"line {n}"

            raise InputError(
                f"{label}: {loc(r.line)}: cut {r.cut} is already on {loc(first[key])}; keep one row per cut"
            )
        first[key] = r.line
    return rows

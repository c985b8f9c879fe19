"""Cut sheets: per-cut frame size, PAN and notes from a CSV/TSV or TOML file (see specs/intake.md).

CSV header (any order, case-insensitive; Japanese names accepted)::

    cut, episode, width, height | frame, pan_length, pan_direction, duration, notes, location

* ``cut`` (カット) is required: ``c012``, ``C12``, ``12`` ... -> canonical ``c012``.
* ``frame`` (フレーム / 画面サイズ) ``1920x1080`` or ``width`` (幅) + ``height`` (高さ); both may be
  empty, meaning "the production's default frame".
* ``pan_length`` (PAN長 / パン長): how far the camera travels, in pixels at delivery size (``960``
  or ``960px``); ``pan_direction`` (PAN方向 / パン方向): left | right | up | down (左 右 上 下).
  Both or neither.
* ``duration`` (尺): ``3+12`` (seconds+frames at 24 fps) or a plain frame count.
* ``location`` (場所 / 舞台): the place the cut's BG shows (see specs/locations.md).
* Other columns (作監, 原画 ...) are kept as ``extra``; a header that looks like a misspelt known
  one (``widht``) is refused.

* ``direction`` (美術指示 / 演出): the BG's art direction, as ``haikei direction`` sets it.

The same fields in TOML: ``[[cut]]`` tables, with an optional top-level ``episode`` default.
CSV is read as UTF-8 (BOM or not); a file that is not UTF-8 is read as Shift_JIS (cp932), the
encoding Excel writes on Japanese Windows; anything else, and any cell holding a control
character, is refused naming the line and column. Frames and PAN lengths are capped by the
production's ``[limits]`` (haikei.domain.limits). Full-width digits (１９２０×１０８０) are accepted.
"""

from __future__ import annotations

import csv
import difflib
import io
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from haikei.domain.limits import DEFAULT_LIMITS, Limits
from haikei.domain.naming import canonical_cut, canonical_episode
from haikei.errors import InputError

__all__ = ["MAX_FRAME_SIDE", "PAN_DIRECTIONS", "CutSheetRow", "PanDirection", "read_cut_sheet"]


PanDirection = Literal["left", "right", "up", "down"]
PAN_DIRECTIONS: tuple[PanDirection, ...] = ("left", "right", "up", "down")
MAX_FRAME_SIDE = DEFAULT_LIMITS.max_frame_side  # the default; read_cut_sheet takes a production's Limits
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
    "direction": "direction",  # the art direction (美術指示), as 'haikei direction' sets it
    "art_direction": "direction",
    "美術指示": "direction",
    "演出": "direction",
    "備考": "notes",
    "メモ": "notes",
    "location": "location",  # the place (舞台) the BG shows: see services/locations.py
    "場所": "location",
    "舞台": "location",
    "ロケーション": "location",
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
# C0/C1 controls except tab, CR, LF; DEL; bidirectional overrides (they reorder what a terminal shows)
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# what another encoding's bytes become when read as cp932: private-use characters, half-width
# katakana glued to Latin letters ('ﾑo' is Latin-1 'Ño')
_NOT_SHIFT_JIS = re.compile("[\ue000-\uf8ff]|[A-Za-z][\uff61-\uff9f]|[\uff61-\uff9f][A-Za-z]")


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
    location: str = ""  # the place (舞台); empty = not given
    direction: str = ""  # art direction for the cut's BG (Japanese or English); empty = not given
    sheet: str = ""  # the cut sheet file and the row in it ("line 7", "[[cut]] #3"): for messages
    where: str = ""

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


def _int_px(text: str, what: str, at: _Where, lo: int, hi: int, setting: str = "") -> int:
    m = _PX_RE.match(text.lower())
    if m is None:
        raise at.error(f"{what} {text!r} is not a whole number of pixels", "write e.g. 1920")
    if int(m[1]) < lo:
        raise at.error(f"{what} {text!r} is under {lo} pixels", f"write {lo} or more")
    if int(m[1]) > hi:
        raise at.error(
            f"{what} {text!r} is over the {hi} px limit",
            f"check the cell (or raise [limits] {setting} in haikei.toml)" if setting else "check the cell",
        )
    return int(m[1])


def _row(
    values: Mapping[str, str],
    extra: Mapping[str, str],
    default_ep: str | None,
    at: _Where,
    line: int,
    limits: Limits = DEFAULT_LIMITS,
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
        width = _int_px(values["width"], "width", at, 16, limits.max_frame_side, "max_frame_side")
        height = _int_px(values["height"], "height", at, 16, limits.max_frame_side, "max_frame_side")
    if values.get("frame"):
        m = _FRAME_RE.match(values["frame"].lower())
        if m is None:
            raise at.error(f"frame {values['frame']!r} is not WIDTHxHEIGHT", "write it like 1920x1080")
        fw = _int_px(m[1], "frame width", at, 16, limits.max_frame_side, "max_frame_side")
        fh = _int_px(m[2], "frame height", at, 16, limits.max_frame_side, "max_frame_side")
        if width is not None and (width, height) != (fw, fh):
            raise at.error(
                f"frame {fw}x{fh} disagrees with width/height {width}x{height}", "keep one of them"
            )
        width, height = fw, fh
    if width is not None and height is not None and width * height > limits.max_pixels:
        raise at.error(
            f"frame {width}x{height} is {width * height / 1e6:.1f} Mpx, over the "
            f"{limits.describe_pixels()} limit",
            "check the cell (or raise [limits] max_pixels in haikei.toml)",
        )
    # 3. PAN: both or neither
    pan_length = pan_dir = None
    if values.get("pan_length"):
        pan_length = _int_px(
            values["pan_length"], "pan_length", at, 1, limits.max_pan_length, "max_pan_length"
        )
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
    # 5. location: a place name (made when new); no path or control characters
    location = values.get("location", "")
    if location and (len(location) > 100 or re.search(r"[\x00-\x1f/\\]", location)):
        raise at.error(
            f"location {location[:40]!r} is not a place name", "write 1..100 characters without / or \\"
        )
    return CutSheetRow(
        cut,
        episode,
        width,
        height,
        pan_length,
        pan_dir,
        duration,
        values.get("notes", ""),
        dict(extra),
        line,
        location,
        direction=values.get("direction", ""),
        sheet=at.path,
        where=at.where,
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


def _position(text: str, pos: int, delimiter: str) -> str:
    """'line 7, column 3 (notes)' for a character offset into the sheet's text."""
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    column = len(next(csv.reader([text[start:pos]], delimiter=delimiter), [""]) or [""])
    header: list[str] = []
    for raw in text.splitlines():
        cells = next(csv.reader([raw], delimiter=delimiter), [])
        if any(c.strip() for c in cells) and not cells[0].strip().startswith("#"):
            header = cells
            break
    name = f" ({_norm(header[column - 1])})" if 0 < column <= len(header) else ""
    return f"line {line}, column {column}{name}"


def _encoding_error(path: str, text: str, pos: int, delimiter: str) -> InputError:
    return InputError(
        f"{path}: {_position(text, pos, delimiter)}: the file is neither UTF-8 nor Shift_JIS text "
        "(these bytes read as garbage in both); save it from the spreadsheet as 'CSV UTF-8'"
    )


def _decode(data: bytes, path: str, delimiter: str = ",") -> str:
    """UTF-8 (BOM or not), else Shift_JIS (cp932); anything else is refused, naming where it goes wrong.

    cp932 decodes many other encodings' bytes without an error (Latin-1 'Ñ' is a half-width
    katakana, 'ñ' a private-use character), so a cp932 reading is accepted only when it has no
    private-use characters and no half-width katakana glued to Latin letters: what a Japanese
    spreadsheet writes, not what a European one does. (A cp1252 file whose only non-ASCII bytes
    are curly quotes can still pass as Shift_JIS: its cells then show odd kanji, by name, in
    'haikei status'.)"""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            f"{path}: the file is UTF-16 text (Excel's 'Unicode text'), neither UTF-8 nor Shift_JIS; "
            "save it as 'CSV UTF-8'"
        )
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as exc:
        garbled = data.decode("cp932", "replace")
        raise _encoding_error(
            path, garbled, len(data[: exc.start].decode("cp932", "replace")), delimiter
        ) from None
    odd = _NOT_SHIFT_JIS.search(text)
    if odd is not None:
        raise _encoding_error(path, text, odd.start(), delimiter)
    return text


def _check_chars(value: str, at: _Where, column: str) -> None:
    """Refuse control characters (NUL, escape sequences...) and bidirectional overrides in a cell."""
    m = _CONTROL_CHARS.search(value)
    if m is not None:
        hint = " (a UTF-16 file read as bytes?)" if m[0] == "\x00" else ""
        raise at.error(
            f"column {column!r} holds the control character U+{ord(m[0]):04X}{hint}",
            "delete it from the cell (and save the sheet as 'CSV UTF-8')",
        )


def _csv_rows(text: str, path: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(
                f"{path}: line {reader.line_num}: not readable as CSV ({exc}); "
                "check the quotes in that row, or save the sheet again as 'CSV UTF-8'"
            ) from None
        yield reader.line_num, cells


def _read_csv(text: str, path: str, delimiter: str, limits: Limits = DEFAULT_LIMITS) -> list[CutSheetRow]:
    rows: list[CutSheetRow] = []
    fields: list[str | None] | None = None
    headers: list[str] = []
    for line, raw_cells in _csv_rows(text, path, delimiter):
        at = _Where(path, f"line {line}")
        for i, c in enumerate(raw_cells):
            name = headers[i] if fields is not None and i < len(headers) else f"#{i + 1}"
            _check_chars(c, at, name)
        cells = [_norm(c) for c in raw_cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
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
        rows.append(_row(values, extra, None, at, line, limits))
    return rows


def _read_toml(text: str, path: str, limits: Limits = DEFAULT_LIMITS) -> list[CutSheetRow]:
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
            _check_chars(str(k), at, str(k))
            _check_chars(str(v), at, str(k))
            if f is not None:
                values[f] = _norm(v)
            else:
                extra[k] = _norm(v)
        rows.append(_row(values, extra, default_ep, at, i, limits))
    return rows


def read_cut_sheet(path: str | os.PathLike[str], limits: Limits = DEFAULT_LIMITS) -> list[CutSheetRow]:
    """Read a cut sheet (.csv, .tsv, .toml). Every bad row raises :class:`InputError` naming the
    file, the line (or ``[[cut]]`` table) and the fix; nothing is skipped silently except blank
    rows and rows whose first cell starts with ``#``. Frames and PAN lengths are checked against
    ``limits`` (the production's [limits])."""
    p = Path(path)
    label = str(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt", ".toml"):
        raise InputError(f"{label}: a cut sheet must be .csv, .tsv or .toml, not {suffix or 'no extension'}")
    if not p.is_file():
        raise InputError(f"{label}: file not found; check the path")
    if p.stat().st_size > MAX_SHEET_BYTES:
        raise InputError(f"{label}: larger than {MAX_SHEET_BYTES >> 20} MiB; this is not a cut sheet")
    delimiter = "\t" if suffix == ".tsv" else ","
    text = _decode(p.read_bytes(), label, delimiter)
    read = _read_toml(text, label, limits) if suffix == ".toml" else None
    rows = read if read is not None else _read_csv(text, label, delimiter, limits)
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

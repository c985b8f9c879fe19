"""Layout intake: a folder of layout files (and an optional cut sheet) -> cuts, BGs, layouts.

Conventions are in specs/intake.md (haikei.domain.naming). Everything is read and validated
first; only then are blobs written and all rows added in one transaction, so a bad file leaves
the production exactly as it was. Re-import is idempotent: a group of files whose bytes have not
changed adds nothing; a changed file adds a new layout revision.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from haikei.domain.cutsheet import CutSheetRow, read_cut_sheet
from haikei.domain.limits import Limits
from haikei.domain.naming import LayoutName, explain_layout_name
from haikei.domain.vocabulary import UNLABELLED
from haikei.errors import ImageError, InputError
from haikei.imaging.io import encode_region_map, load_gray, load_region_map, png_bytes, resize
from haikei.services.context import ServiceContext
from haikei.store.tables import BackgroundRow, CutRow, LayoutRow, ReviewStatusRow

__all__ = ["CUT_SHEET_NAMES", "ImportReport", "import_folder", "label_regions_at"]

CUT_SHEET_NAMES = (
    "cutsheet.csv",
    "cutsheet.toml",
    "cut_sheet.csv",
    "cut_sheet.toml",
    "cuts.csv",
    "cuts.toml",
)
ASPECT_TOLERANCE = 0.01
SCAN_ASPECT_TOLERANCE = 0.03
SCAN_MIN_SIDE = 256  # smaller drawings are digital by nature; scans are bigger


@dataclass
class ImportReport:
    added_cuts: list[str] = field(default_factory=list)
    added_backgrounds: list[str] = field(default_factory=list)
    new_layouts: list[tuple[str, int]] = field(default_factory=list)  # (BG, revision)
    unchanged: list[str] = field(default_factory=list)
    unlabelled: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "added_cuts": self.added_cuts,
            "added_backgrounds": self.added_backgrounds,
            "new_layouts": [{"bg": b, "revision": r} for b, r in self.new_layouts],
            "unchanged": self.unchanged,
            "unlabelled": self.unlabelled,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
            "notes": self.notes,
        }


@dataclass
class _Group:
    cuts: tuple[str, ...]
    episode: str | None
    files: dict[str, Path] = field(default_factory=dict)  # role -> path

    @property
    def bg_name(self) -> str:
        return self.cuts[0] if len(self.cuts) == 1 else f"{self.cuts[0]}-{self.cuts[-1]}"


@dataclass
class _Prepared:
    group: _Group
    width: int
    height: int
    lines: np.ndarray
    regions: np.ndarray  # class ids, UNLABELLED where unknown
    book: np.ndarray | None
    source_hash: str
    cleanup: dict[str, Any]
    rows: dict[str, CutSheetRow]


def _scan_folder(
    folder: Path, report: ImportReport, limits: Limits
) -> tuple[dict[tuple[str, ...], _Group], list[CutSheetRow]]:
    groups: dict[tuple[str, ...], _Group] = {}
    sheet: list[CutSheetRow] = []
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or not p.is_file():
            continue
        if p.name.lower() in CUT_SHEET_NAMES:
            sheet.extend(read_cut_sheet(p, limits))
            continue
        parsed, reason = explain_layout_name(p.name)
        if parsed is None:
            report.skipped.append((p.name, reason))
            continue
        _add_to_group(groups, parsed, p, report)
    return groups, sheet


def _add_to_group(
    groups: dict[tuple[str, ...], _Group], n: LayoutName, p: Path, report: ImportReport
) -> None:
    g = groups.setdefault(n.cuts, _Group(cuts=n.cuts, episode=n.episode))
    role = str(getattr(n.role, "value", n.role))
    if role in g.files:
        raise InputError(
            f"{p}: a second {role} file for {g.bg_name} ({g.files[role].name} is the first); keep one of them"
        )
    g.files[role] = p


def _bg_size(group: _Group, rows: dict[str, CutSheetRow], ctx: ServiceContext) -> tuple[int, int, str | None]:
    w, h = ctx.settings.production.width, ctx.settings.production.height
    pan_len: int | None = None
    pan_dir: str | None = None
    decided_by: CutSheetRow | None = None
    for cut in group.cuts:
        r = rows.get(cut)
        if r is None:
            continue
        if r.width and r.height:
            w, h = r.width, r.height
            decided_by = r
        if r.pan_length:
            pan_len = r.pan_length
            pan_dir = str(getattr(r.pan_direction, "value", r.pan_direction) or "left")
            decided_by = r
    if pan_len:
        w, h = (w, pan_len) if pan_dir in ("up", "down") else (pan_len, h)
    limits = ctx.settings.limits
    if w * h > limits.max_pixels:
        where = (
            f"{decided_by.sheet}: {decided_by.where}: cut {decided_by.cut}"
            if decided_by is not None
            else f"{group.bg_name} (the production's frame)"
        )
        raise InputError(
            f"{where}: the BG would be {w}x{h} ({w * h / 1e6:.1f} Mpx), over the "
            f"{limits.max_pixels / 1e6:g} Mpx limit; check the frame and PAN length "
            "(or raise [limits] max_pixels in haikei.toml)"
        )
    return w, h, pan_dir if pan_len else None


def _fit(
    arr: np.ndarray, w: int, h: int, path: Path, what: str, cleanup: dict[str, Any], nearest: bool
) -> np.ndarray:
    """Resample to the BG size when only the resolution differs (recorded); refuse another aspect ratio."""
    ah, aw = arr.shape[:2]
    if (aw, ah) == (w, h):
        return arr
    # a scan's frame crop is a few pixels off the drawn frame: allow it a little more
    tolerance = SCAN_ASPECT_TOLERANCE if "scan" in cleanup else ASPECT_TOLERANCE
    if abs(aw / ah - w / h) > tolerance * (w / h):
        raise ImageError(
            path,
            f"{what} is {aw}x{ah} but the BG is {w}x{h} (another aspect ratio)",
            "draw it at the frame's aspect ratio or fix the cut sheet's frame size / PAN length",
        )
    cleanup.setdefault("resampled", []).append({"what": what, "from": [aw, ah], "to": [w, h]})
    return resize(arr, w, h, labels=nearest)


def _prepare(ctx: ServiceContext, g: _Group, rows: dict[str, CutSheetRow]) -> _Prepared:
    from haikei.imaging.layout import clean_scan, is_scan

    w, h, _pan = _bg_size(g, rows, ctx)
    cleanup: dict[str, Any] = {}
    hasher = hashlib.sha256()
    regions_rgb: np.ndarray | None = None
    book: np.ndarray | None = None
    regions_path: Path | None = None
    if "psd" in g.files:
        from haikei.imaging.psd_layout import read_layout_psd

        p = g.files["psd"]
        hasher.update(p.read_bytes())
        layers = read_layout_psd(p)
        lines, regions_rgb, book = layers.lines, layers.regions_rgb, layers.book
        lines_path = regions_path = p
    elif "lines" in g.files:
        lines_path = g.files["lines"]
        hasher.update(lines_path.read_bytes())
        lines = load_gray(lines_path)
    else:
        first = next(iter(g.files.values()))
        raise InputError(
            f"{first}: {g.bg_name} has no line drawing (expected {g.bg_name}_lo.png or {g.bg_name}.psd)"
        )
    if "regions" in g.files:
        regions_path = g.files["regions"]
        hasher.update(regions_path.read_bytes())
    if "book" in g.files:
        hasher.update(g.files["book"].read_bytes())
        book = load_gray(g.files["book"]) >= 128
    # scanned paper layouts: clean lines, find and crop the frame
    if min(lines.shape) >= SCAN_MIN_SIDE and is_scan(lines, name=str(lines_path)):
        cleaned = clean_scan(lines, name=str(lines_path))
        lines = cleaned.lines
        cleanup["scan"] = {
            "threshold": float(cleaned.threshold),
            "angle_deg": float(cleaned.angle_deg),
            "crop_box": list(cleaned.crop_box) if cleaned.crop_box else None,
            "specks_removed": int(cleaned.specks_removed),
        }
    src_h, src_w = lines.shape
    lines = _fit(lines, w, h, lines_path, "the line drawing", cleanup, nearest=False)
    if regions_path is not None and regions_rgb is None:
        regions = load_region_map(regions_path, ctx.vocabulary)
    elif regions_rgb is not None:
        from haikei.imaging.io import decode_region_map

        regions = decode_region_map(regions_rgb, ctx.vocabulary, str(regions_path))
    else:
        regions = None
    if regions is not None:
        if "scan" in cleanup and regions.shape != (src_h, src_w):
            raise ImageError(
                regions_path,
                "region map does not match the cropped scan",
                "draw regions on the cleaned layout",
            )
        regions = _fit(regions, w, h, regions_path or lines_path, "the region map", cleanup, nearest=True)
    else:
        regions = np.full((h, w), UNLABELLED, np.uint8)
        cleanup["regions"] = "none given: label closed areas with 'haikei regions label'"
    if book is not None:
        book = (
            _fit(
                book.astype(np.uint8) * 255,
                w,
                h,
                g.files.get("book", lines_path),
                "the BOOK mask",
                cleanup,
                nearest=True,
            )
            >= 128
        )
    return _Prepared(g, w, h, lines, regions, book, hasher.hexdigest(), cleanup, rows)


def import_folder(ctx: ServiceContext, folder: str | Path, *, artist: str = "") -> ImportReport:
    """Import every layout in ``folder``. Nothing is written unless every file is good."""
    folder = Path(folder)
    if len(artist) > 200 or not artist.isprintable():
        raise InputError(
            f"--artist {artist[:40]!r}: a layout artist's name is 0..200 printable characters "
            "(no control characters); it is printed in credits and signed into deliveries"
        )
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; give the folder that holds the layout files")
    report = ImportReport()
    # 1. read and validate everything
    groups, sheet = _scan_folder(folder, report, ctx.settings.limits.limits())
    rows = {r.cut: r for r in sheet}
    cut_owner: dict[str, str] = {}
    for g in groups.values():
        for c in g.cuts:
            if c in cut_owner:
                raise InputError(
                    f"{folder}: cut {c} is in two layouts ({cut_owner[c]} and {g.bg_name}); keep one"
                )
            cut_owner[c] = g.bg_name
    prepared = [_prepare(ctx, g, rows) for g in sorted(groups.values(), key=lambda g: g.cuts)]
    # 2. decide what is new (read-only look at the database)
    todo: list[_Prepared] = []
    with ctx.db.session() as s:
        for p in prepared:
            bg = (
                s.scalars(select(BackgroundRow).where(BackgroundRow.name == p.group.bg_name)).unique().first()
            )
            if bg is not None:
                last = s.scalars(
                    select(LayoutRow)
                    .where(LayoutRow.background_id == bg.id)
                    .order_by(LayoutRow.revision.desc())
                ).first()
                if last is not None and last.source_hash == p.source_hash:
                    report.unchanged.append(p.group.bg_name)
                    continue
            for c in p.group.cuts:
                other = s.scalars(select(CutRow).where(CutRow.number == c)).first()
                if (
                    other is not None
                    and other.background is not None
                    and other.background.name != p.group.bg_name
                ):
                    raise InputError(
                        f"{folder}: cut {c} already belongs to BG {other.background.name}; "
                        f"rename the file or re-import the whole shared BG"
                    )
            todo.append(p)
    # 3. blobs (atomic, content-addressed), then 4. one transaction for every row
    blobs: list[tuple[_Prepared, str, str, str | None]] = []
    for p in todo:
        lines_key = ctx.blobs.put(png_bytes(p.lines))
        regions_key = ctx.blobs.put(png_bytes(encode_region_map(p.regions, ctx.vocabulary)))
        book_key = ctx.blobs.put(png_bytes(p.book.astype(np.uint8) * 255)) if p.book is not None else None
        blobs.append((p, lines_key, regions_key, book_key))
    with ctx.db.session() as s:
        todo_status = s.scalars(select(ReviewStatusRow).where(ReviewStatusRow.short_name == "todo")).one()
        for p, lines_key, regions_key, book_key in blobs:
            g = p.group
            bg = s.scalars(select(BackgroundRow).where(BackgroundRow.name == g.bg_name)).unique().first()
            if bg is None:
                bg = BackgroundRow(name=g.bg_name, width=p.width, height=p.height, status_id=todo_status.id)
                first_row = p.rows.get(g.cuts[0])
                bg.direction_text = first_row.direction if first_row is not None else ""
                s.add(bg)
                s.flush()
                report.added_backgrounds.append(g.bg_name)
            elif (bg.width, bg.height) != (p.width, p.height):
                bg.width, bg.height = p.width, p.height
            for c in g.cuts:
                r = p.rows.get(c)
                cut = s.scalars(select(CutRow).where(CutRow.number == c)).first()
                cw, ch = (
                    (r.width, r.height)
                    if r is not None and r.width and r.height
                    else (
                        ctx.settings.production.width,
                        ctx.settings.production.height,
                    )
                )
                if cut is None:
                    cut = CutRow(number=c, width=cw, height=ch)
                    s.add(cut)
                    report.added_cuts.append(c)
                cut.background_id = bg.id
                cut.episode = g.episode or (r.episode if r is not None and r.episode else "") or ""
                if r is not None:
                    cut.width, cut.height = cw, ch
                    cut.pan_length = r.pan_length
                    cut.pan_direction = (
                        str(getattr(r.pan_direction, "value", r.pan_direction)) if r.pan_direction else None
                    )
                    cut.notes = r.notes
                    if r.location:  # the cut sheet's location column (services/locations.py)
                        _sheet_location(s, bg, c, r.location, report)
            rev = (
                s.scalar(select(func.max(LayoutRow.revision)).where(LayoutRow.background_id == bg.id)) or 0
            ) + 1
            labelled = not bool((p.regions == UNLABELLED).any())
            s.add(
                LayoutRow(
                    background_id=bg.id,
                    revision=rev,
                    lines_blob=lines_key,
                    regions_blob=regions_key,
                    book_blob=book_key,
                    source_name=", ".join(sorted(f.name for f in g.files.values())),
                    source_hash=p.source_hash,
                    labelled=labelled,
                    artist=artist,
                    cleanup=p.cleanup,
                )
            )
            report.new_layouts.append((g.bg_name, rev))
            if not labelled:
                report.unlabelled.append(g.bg_name)
    return report


def _sheet_location(s: Any, bg: BackgroundRow, cut: str, name: str, report: Any) -> None:
    """A cut sheet's location for the cut's BG; a person's earlier choice is kept (with a note)."""
    from haikei.services.locations import ensure_location

    loc = ensure_location(s, name, "intake")
    if bg.location_id is None:
        bg.location_id = loc.id
    elif bg.location_id != loc.id:
        report.notes.append(
            f"{cut}: {bg.name} is at another location; the cut sheet says {loc.name!r}: kept "
            f"(move it with 'haikei location set {bg.name} {loc.name}')"
        )


def label_regions_at(
    ctx: ServiceContext, bg_ref: str, specs: list[str], *, actor: str = ""
) -> tuple[int, int]:
    """Paint-bucket labelling: each 'class@x,y' labels the closed area of the layout at (x, y).

    Adds a layout revision with the same lines and the new region map. Returns (revision,
    pixels still unlabelled).
    """
    from haikei.imaging.regions import derive_regions, parse_label_spec
    from haikei.services.rendering import find_background, latest_layout

    points = [parse_label_spec(sp, ctx.vocabulary) for sp in specs]
    with ctx.db.session() as s:
        bg = find_background(s, bg_ref)
        lay = latest_layout(s, bg.id)
        lines_blob, regions_blob, book_blob = lay.lines_blob, lay.regions_blob, lay.book_blob
        bg_id, source_name, source_hash, artist = bg.id, lay.source_name, lay.source_hash, lay.artist
    lines = load_gray(ctx.blobs.get(lines_blob))
    h, w = lines.shape
    ids = (
        load_region_map(ctx.blobs.get(regions_blob), ctx.vocabulary)
        if regions_blob
        else np.full((h, w), UNLABELLED, np.uint8)
    ).copy()
    components, _count = derive_regions(lines)
    for class_id, x, y in points:
        if not (0 <= x < w and 0 <= y < h):
            raise InputError(f"point {x},{y} is outside the {w}x{h} layout of {bg_ref}")
        ids[components == components[y, x]] = class_id
    regions_key = ctx.blobs.put(png_bytes(encode_region_map(ids, ctx.vocabulary)))
    remaining = int((ids == UNLABELLED).sum())
    with ctx.db.session() as s:
        rev = (
            s.scalar(select(func.max(LayoutRow.revision)).where(LayoutRow.background_id == bg_id)) or 0
        ) + 1
        s.add(
            LayoutRow(
                background_id=bg_id,
                revision=rev,
                lines_blob=lines_blob,
                regions_blob=regions_key,
                book_blob=book_blob,
                source_name=source_name,
                source_hash=source_hash,
                labelled=remaining == 0,
                artist=artist,
                cleanup={"labelled_by": actor, "points": specs},
            )
        )
    return rev, remaining

"""Delivery to compositing (撮影): flattened PNG + layered PSD per BG, signed provenance, credits.

Order of work, so that a refused export leaves nothing half-written:
1. choose what to deliver and check every rule (consent, engine allow-list, keys) — nothing written;
2. build every file in a private staging folder inside the destination;
3. move the finished files into place (rename), then remove the staging folder.
A BG shared by several cuts (兼用) is delivered once; ``cuts.csv`` lists the file for every cut.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from haikei.domain.spreadsheet import csv_text
from haikei.errors import ConfigError, ConsentError, HaikeiError, InputError, NotFoundError
from haikei.imaging.io import atomic_write_bytes, load_gray, load_rgb, png_bytes
from haikei.provenance.recipe import used_board_keys
from haikei.services.context import ServiceContext
from haikei.store.tables import ArtBoardRow, BackgroundRow, CutRow, LayoutRow, NoteRow, UserRow, VersionRow

__all__ = [
    "ExportResult",
    "clean_stale_staging",
    "credits_input",
    "delivery_plan",
    "export",
    "export_destinations",
]


@dataclass
class Step:
    """One version in the lineage of the delivered image (root first)."""

    version_id: int
    revision: int
    kind: str  # render | human | composite
    engine: str
    engine_version: str
    source_type: str
    who: str
    image_blob: str
    recipe: dict[str, Any]
    changed_share: float | None


@dataclass
class Delivery:
    bg: str
    bg_id: int
    cuts: list[str]
    episode: str
    version_id: int
    revision: int
    lineage: list[Step]
    layout: LayoutRow
    boards: list[ArtBoardRow]
    approved_by: str  # display name, "" when not approved
    stem: str = ""


@dataclass
class ExportResult:
    folder: Path
    files: list[Path] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # names of files that replaced earlier ones

    def as_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "files": [str(p) for p in self.files],
            "replaced": self.replaced,
            "delivered": self.delivered,
            "skipped": [{"bg": b, "reason": r} for b, r in self.skipped],
        }


# --------------------------------------------------------------------------- choosing


def _display_names(s: Any) -> dict[str, str]:
    return {u.name: (u.display_name or u.name) for u in s.scalars(select(UserRow))}


def _lineage(s: Any, v: VersionRow, names: dict[str, str]) -> list[Step]:
    chain: list[VersionRow] = []
    cur: VersionRow | None = v
    seen: set[int] = set()
    while cur is not None and cur.id not in seen:
        seen.add(cur.id)
        chain.append(cur)
        cur = s.get(VersionRow, cur.parent_id) if cur.parent_id else None
    steps = []
    for r in reversed(chain):
        steps.append(
            Step(
                version_id=r.id,
                revision=r.revision,
                kind=r.kind,
                engine=r.engine,
                engine_version=r.engine_version,
                source_type=str((r.recipe or {}).get("digital_source_type", "")),
                who=names.get(r.created_by, r.created_by),
                image_blob=r.image_blob,
                recipe=dict(r.recipe or {}),
                changed_share=r.changed_share,
            )
        )
    return steps


def _approver(s: Any, bg_id: int, version_id: int, names: dict[str, str]) -> str:
    note = s.scalars(
        select(NoteRow)
        .where(
            NoteRow.background_id == bg_id,
            NoteRow.version_id == version_id,
            NoteRow.status_change == "approved",
        )
        .order_by(NoteRow.id.desc())
    ).first()
    return names.get(note.author, note.author) if note else ""


def delivery_plan(
    ctx: ServiceContext, cuts: list[str] | None = None, *, only_approved: bool = False
) -> tuple[list[Delivery], list[tuple[str, str]]]:
    """What would be delivered (and what is skipped, with why). Checks consent and the allow-list."""
    from haikei.services.rendering import find_background, latest_layout

    out: list[Delivery] = []
    skipped: list[tuple[str, str]] = []
    allowed = set(ctx.settings.render.allowed_engines)
    with ctx.db.session() as s:
        names = _display_names(s)
        if cuts:
            bgs = []
            for ref in cuts:
                bg = find_background(s, ref)
                if bg not in bgs:
                    bgs.append(bg)
        else:
            bgs = list(s.scalars(select(BackgroundRow).order_by(BackgroundRow.name)).unique())
        boards_by_id = {b.id: b for b in s.scalars(select(ArtBoardRow))}
        for bg in bgs:
            vid = (
                bg.approved_version_id if only_approved else (bg.approved_version_id or bg.current_version_id)
            )
            if vid is None:
                skipped.append((bg.name, "not approved" if only_approved else "no version yet"))
                continue
            v = s.get(VersionRow, vid)
            assert v is not None
            lineage = _lineage(s, v, names)
            used: dict[int, ArtBoardRow] = {}
            for st in lineage:
                if st.kind != "human" and st.engine not in allowed:
                    raise ConsentError(
                        f"{bg.name} r{v.revision}: engine {st.engine!r} is not on the production's allow-list "
                        f"({', '.join(sorted(allowed))}); nothing was exported"
                    )
                used_keys = used_board_keys(st.recipe)
                for ab in st.recipe.get("inputs", {}).get("artboards", []):
                    if used_keys is not None and ab.get("hash") not in used_keys:
                        continue  # given to the engine, but it painted nothing from this board
                    board = boards_by_id.get(int(ab["id"]))
                    if board is None:
                        raise NotFoundError(
                            f"{bg.name}: art board {ab.get('name')} of r{st.revision} is gone"
                        )
                    if not board.consent:
                        raise ConsentError(
                            f"{bg.name} r{v.revision} was painted from art board {board.name!r} whose artist "
                            f"({board.artist or 'unknown'}) has not given consent; nothing was exported"
                        )
                    if board.location_id is not None:  # consent follows the chain (locations)
                        from haikei.services.locations import require_consent_chain

                        require_consent_chain(ctx, board.id, f"{bg.name} r{v.revision}")
                    used[board.id] = board
            layout = s.get(LayoutRow, v.layout_id) if v.layout_id else latest_layout(s, bg.id)
            assert layout is not None  # rows stay readable after the session (expire_on_commit=False)
            out.append(
                Delivery(
                    bg=bg.name,
                    bg_id=bg.id,
                    cuts=[c.number for c in bg.cuts],
                    episode=next((c.episode for c in bg.cuts if c.episode), ctx.settings.production.episode),
                    version_id=v.id,
                    revision=v.revision,
                    lineage=lineage,
                    layout=layout,
                    boards=list(used.values()),
                    approved_by=_approver(s, bg.id, v.id, names),
                )
            )
    return out, skipped


def _stem(ctx: ServiceContext, d: Delivery, pattern: str) -> str:
    fields = {
        "episode": d.episode or ctx.settings.production.episode or "ep",
        "bg": d.bg,
        "cut": d.cuts[0] if d.cuts else d.bg,
        "revision": d.revision,
        "production": ctx.settings.production.name,
    }
    try:
        stem = pattern.format(**fields)
    except (KeyError, ValueError, IndexError) as exc:
        raise ConfigError(
            f"haikei.toml [delivery] pattern {pattern!r} is not valid ({exc}); "
            "fields: episode, bg, cut, revision, production"
        ) from None
    stem = stem.strip("_- .")
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        raise ConfigError(f"haikei.toml [delivery] pattern {pattern!r} gives a bad file name {stem!r}")
    return stem


# --------------------------------------------------------------------------- building


def _manifest_spec(ctx: ServiceContext, d: Delivery, lines_png: bytes) -> Any:
    from haikei.provenance.c2pa_sign import EngineStep, HumanStep, IngredientSpec, ManifestSpec
    from haikei.services.locations import location_ingredient

    steps: list[Any] = []
    for st in d.lineage:
        if st.kind == "human":
            steps.append(
                HumanStep(
                    artist=st.who or "unknown",
                    changed_fraction=st.changed_share,
                    description=f"r{st.revision} paint-over",
                )
            )
        else:
            steps.append(
                EngineStep(
                    engine=st.engine,
                    version=st.engine_version,
                    digital_source_type=st.source_type,
                    seed=st.recipe.get("seed"),
                    render_key=str(st.recipe.get("render_key", "")),
                    requested_by=st.who,
                    description=f"r{st.revision} {st.recipe.get('kind', 'render')}",
                )
            )
    return ManifestSpec(
        title=f"{d.bg} BG r{d.revision}",
        steps=tuple(steps),
        layout=IngredientSpec(
            title=f"{d.bg}_lo.png", source=lines_png, artist=d.layout.artist or "unknown", role="layout"
        ),
        art_boards=tuple(board_ingredient(ctx, b) for b in d.boards if b.location_id is None)
        + tuple(  # a location board carries its own ingredients and steps (services/locations.py)
            location_ingredient(ctx, b, image_mime(ctx.blobs.get(b.image_blob)))
            for b in d.boards
            if b.location_id is not None
        ),
        approved_by=d.approved_by,
        facts={
            "production": ctx.settings.production.name,
            "bg": d.bg,
            "cuts": ",".join(d.cuts),
            "revision": d.revision,
        },
    )


def board_ingredient(ctx: ServiceContext, board: Any) -> Any:
    """An art board row as a C2PA ingredient (its painter and licence named)."""
    from haikei.provenance.c2pa_sign import IngredientSpec

    data = ctx.blobs.get(board.image_blob)
    return IngredientSpec(
        title=board.name,
        source=data,
        artist=board.artist or "unknown",
        role="art_board",
        licence=board.licence,
        format=image_mime(data),
    )


def image_mime(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return "application/octet-stream"


def _layers(ctx: ServiceContext, d: Delivery, final: np.ndarray, lines: np.ndarray) -> list[Any]:
    from haikei.imaging.psd import PsdLayer, book_layer, lines_layer, opaque_layer, paintover_layer

    layers: list[Any] = []
    if d.layout.regions_blob:
        layers.append(
            PsdLayer("regions", opaque_layer(load_rgb(ctx.blobs.get(d.layout.regions_blob))), visible=False)
        )
    prev: np.ndarray | None = None
    for st in d.lineage:
        img = load_rgb(ctx.blobs.get(st.image_blob))
        if prev is None:
            layers.append(PsdLayer(f"render {st.engine} {st.engine_version}".strip(), opaque_layer(img)))
        else:
            rgba, _share = paintover_layer(prev, img)
            name = (
                f"paint-over {st.who or 'unknown'}"
                if st.kind == "human"
                else f"retake {st.engine} r{st.revision}"
            )
            layers.append(PsdLayer(name, rgba))
        prev = img
    layers.append(PsdLayer("layout lines", lines_layer(lines), visible=False, blend="multiply"))
    if d.layout.book_blob:
        book = load_gray(ctx.blobs.get(d.layout.book_blob)) >= 128
        if book.any():
            layers.append(PsdLayer("BOOK", book_layer(final, book)))
    return layers


def _signer(ctx: ServiceContext) -> Any:
    from haikei.provenance.keys import load_credentials

    sig = ctx.settings.signing
    chain = Path(sig.cert_chain) if Path(sig.cert_chain).is_absolute() else ctx.root / sig.cert_chain
    key = Path(sig.private_key) if Path(sig.private_key).is_absolute() else ctx.root / sig.private_key
    if not chain.is_file() or not key.is_file():
        raise ConfigError(
            f"{chain}: no signing certificate; run 'haikei keys init -p {ctx.root}' for a studio test chain "
            "or point [signing] in haikei.toml at the studio's certificate"
        )
    return load_credentials(chain, key)


# --------------------------------------------------------------------------- destination

STAGING_PREFIX = ".haikei-export-"
LOCK_NAME = ".lock"
INDEX_FILES = ("cuts.csv", "delivery.json")  # describe the whole delivery folder: replaced each time
DESTINATIONS_FILE = ".haikei-export-destinations"  # in the production folder: where exports went
STALE_UNLOCKED_S = 60.0  # a staging folder without its lock file yet: killed before it took the lock


def _bg_extensions(sign: bool) -> tuple[str, ...]:
    return (".png", ".psd", ".recipe.json", ".c2pa") if sign else (".png", ".psd", ".recipe.json")


def _nearest_existing(p: Path) -> Path:
    cur = p
    while not cur.exists() and cur.parent != cur:
        cur = cur.parent
    return cur


def _check_destination(dest: Path, names: list[str], force: bool) -> set[str]:
    """Refuse before writing anything: not a folder, read-only, a non-file where a delivery file goes,
    or BG files delivered before (without ``force``). Returns the names that will be replaced."""
    if dest.exists() and not dest.is_dir():
        raise InputError(f"{dest}: exists and is not a folder; choose another --to")
    base = dest if dest.exists() else _nearest_existing(dest.parent)
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(
            f"{base}: the folder is read-only (no permission to write there); nothing was written; "
            "choose another --to or make it writable"
        )
    if not dest.exists():
        return set()
    in_the_way: list[str] = []
    existing: set[str] = set()
    for name in [*names, *INDEX_FILES]:
        target = dest / name
        if target.is_symlink() or target.is_file():
            existing.add(name)
        elif target.exists():
            in_the_way.append(name)
    if in_the_way:
        raise InputError(
            f"{dest}: {', '.join(in_the_way)} "
            f"{'is a folder (or another non-file)' if len(in_the_way) == 1 else 'are folders (or other non-files)'} "
            "where the delivery puts a file; nothing was written; move it away or choose another --to"
        )
    earlier = sorted(existing - set(INDEX_FILES))
    if earlier and not force:
        shown = ", ".join(earlier[:4]) + (f" and {len(earlier) - 4} more" if len(earlier) > 4 else "")
        raise InputError(
            f"{dest}: {len(earlier)} file{'s' if len(earlier) != 1 else ''} of this delivery "
            f"{'are' if len(earlier) != 1 else 'is'} already there ({shown}); nothing was written; "
            "replace them with --force, or choose another --to"
        )
    return existing


def _earlier_deliveries(dest: Path, plan: list[Delivery]) -> list[dict[str, Any]]:
    """What an earlier export listed in ``dest``'s delivery.json and is still there, for BGs and cuts
    this export does not deliver: kept in the indexes, so that delivering c002 after c001 to one folder
    leaves cuts.csv listing both. An unreadable or foreign delivery.json lists nothing."""
    try:
        doc = json.loads((dest / "delivery.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = doc.get("delivered") if isinstance(doc, dict) else None
    bgs = {d.bg for d in plan}
    cuts = {c for d in plan for c in d.cuts}
    out: list[dict[str, Any]] = []
    for e in entries if isinstance(entries, list) else []:
        if not isinstance(e, dict):
            continue
        file, bg, e_cuts = e.get("file"), e.get("bg"), e.get("cuts")
        if not (isinstance(file, str) and isinstance(bg, str) and isinstance(e_cuts, list)):
            continue
        if not file.endswith(".png") or "/" in file or "\\" in file or file.startswith("."):
            continue
        if bg in bgs or not (dest / file).is_file():
            continue
        kept = [str(c) for c in e_cuts if isinstance(c, str) and c not in cuts]
        if not kept:
            continue
        out.append(
            {
                "bg": bg,
                "cuts": kept,
                "revision": e.get("revision") if isinstance(e.get("revision"), int) else "",
                "file": file,
                "approved_by": str(e.get("approved_by") or ""),
            }
        )
    return out


def _write_error(dest: Path, exc: OSError, moved: int = 0) -> HaikeiError:
    where = exc.filename or dest
    done = (
        "nothing was delivered"
        if not moved
        else f"{moved} file(s) were already in place (each whole), the rest were not delivered"
    )
    return InputError(
        f"{where}: {exc.strerror or exc} (exporting to {dest}); {done}; fix it and export again"
    )


def _record_destination(ctx: ServiceContext, dest: Path) -> None:
    """Remember where exports go, so that ``haikei gc`` can find a killed export's staging folder.
    (One line appended per export: appends are atomic, so concurrent exports lose no line.)"""
    line = (str(dest.resolve()) + "\n").encode("utf-8")
    try:
        fd = os.open(
            ctx.root / DESTINATIONS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644
        )
    except OSError:  # a production folder mounted read-only: the next export to dest still cleans up
        return
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def export_destinations(ctx: ServiceContext) -> list[Path]:
    """Every folder this production has exported to (that still exists)."""
    f = ctx.root / DESTINATIONS_FILE
    if not f.is_file():
        return []
    seen: dict[str, None] = {}
    for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.strip():
            seen.setdefault(line.strip(), None)
    return [Path(p) for p in seen if Path(p).is_dir()]


def clean_stale_staging(dest: Path) -> list[Path]:
    """Remove the staging folders of exports that died (kill -9, power cut) in ``dest``.

    A live export holds an exclusive lock on its staging folder's lock file for as long as it runs;
    the kernel drops the lock when the process dies, however it dies. So a staging folder whose lock
    can be taken is a dead export's, and goes; a live one is left alone."""
    removed: list[Path] = []
    try:
        candidates = [p for p in dest.iterdir() if p.name.startswith(STAGING_PREFIX) and p.is_dir()]
    except OSError:
        return removed
    for stage in candidates:
        lock_path = stage / LOCK_NAME
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            try:
                young = time.time() - stage.stat().st_mtime < STALE_UNLOCKED_S
            except FileNotFoundError:
                continue
            if young:  # just made by a live export that has not taken its lock yet
                continue
            shutil.rmtree(stage, ignore_errors=True)
            removed.append(stage)
            continue
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live export
            shutil.rmtree(stage, ignore_errors=True)
            removed.append(stage)
        finally:
            os.close(fd)
    return removed


def _open_staging(ctx: ServiceContext, dest: Path) -> tuple[Path, int]:
    """The destination (made if missing), cleaned of dead exports' staging folders, and a new staging
    folder in it with its lock held: (folder, lock fd)."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
        _record_destination(ctx, dest)
        clean_stale_staging(dest)
        stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=dest))
    except OSError as exc:
        raise _write_error(dest, exc) from None
    try:
        fd = os.open(stage / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise _write_error(dest, exc) from None
    return stage, fd


def export(
    ctx: ServiceContext,
    to: str | Path,
    *,
    cuts: list[str] | None = None,
    only_approved: bool = False,
    sign: bool = True,
    force: bool = False,
) -> ExportResult:
    """Deliver BGs to ``to``: per BG ``<stem>.png`` (signed), ``<stem>.psd`` + ``<stem>.c2pa``,
    ``<stem>.recipe.json``; plus ``cuts.csv`` and ``delivery.json`` for the whole delivery.

    The whole destination is checked before anything is written: a folder (or anything but a file)
    where a delivery file goes, a read-only folder, or BG files delivered there before (unless
    ``force``) refuse the export and leave the destination as it was. Files are built in a staging
    folder beside them and each is renamed into place (atomic per file); ``result.replaced`` names
    the files that replaced earlier ones. Staging folders left by a killed export are removed by the
    next export to the same folder and by ``haikei gc``."""
    from haikei.imaging.psd import write_psd
    from haikei.provenance.c2pa_sign import sign_png, sign_sidecar

    dest = Path(to)
    # 1. choose and check (nothing written)
    plan, skipped = delivery_plan(ctx, cuts, only_approved=only_approved)
    if not plan:
        raise InputError(
            "nothing to deliver: "
            + (", ".join(f"{b} ({r})" for b, r in skipped) or "the production has no BGs")
        )
    signer = _signer(ctx) if sign else None
    pattern = ctx.settings.delivery.pattern
    stems = set()
    for d in plan:
        d.stem = _stem(ctx, d, pattern)
        if d.stem in stems:
            raise ConfigError(
                f"[delivery] pattern {pattern!r} gives two BGs the name {d.stem}; add {{bg}} to it"
            )
        stems.add(d.stem)
    names = [f"{d.stem}{ext}" for d in plan for ext in _bg_extensions(sign)]
    replaced = _check_destination(dest, names, force)
    # 2. build everything in a staging folder inside the destination (same file system: renames)
    stage, lock = _open_staging(ctx, dest)
    result = ExportResult(folder=dest, skipped=skipped)
    try:
        rows: list[list[str]] = []
        for d in plan:
            final_version = d.lineage[-1]
            final = load_rgb(ctx.blobs.get(final_version.image_blob))
            lines = load_gray(ctx.blobs.get(d.layout.lines_blob))
            if lines.shape != final.shape[:2]:
                raise InputError(f"{d.bg}: the layout and r{d.revision} differ in size; re-render it")
            recipe = {
                "bg": d.bg,
                "cuts": d.cuts,
                "revision": d.revision,
                "version_id": d.version_id,
                "approved_by": d.approved_by,
                "lineage": [
                    {
                        "revision": st.revision,
                        "kind": st.kind,
                        "engine": st.engine,
                        "engine_version": st.engine_version,
                        "who": st.who,
                        "changed_share": st.changed_share,
                        "recipe": st.recipe,
                    }
                    for st in d.lineage
                ],
            }
            recipe_json = json.dumps(recipe, ensure_ascii=False, sort_keys=True, indent=1, default=str)
            png_path = stage / f"{d.stem}.png"
            atomic_write_bytes(
                png_path, png_bytes(final, {"haikei:recipe": json.dumps(recipe, sort_keys=True, default=str)})
            )
            psd_path = stage / f"{d.stem}.psd"
            write_psd(psd_path, final.shape[1], final.shape[0], _layers(ctx, d, final, lines))
            atomic_write_bytes(stage / f"{d.stem}.recipe.json", recipe_json.encode("utf-8"))
            if signer is not None:
                spec = _manifest_spec(ctx, d, ctx.blobs.get(d.layout.lines_blob))
                sign_png(png_path, png_path, spec, signer)
                sign_sidecar(psd_path, stage / f"{d.stem}.c2pa", spec, signer)
            for c in d.cuts:
                rows.append([c, d.bg, f"{d.stem}.png", f"{d.stem}.psd", str(d.revision), d.approved_by])
            result.delivered.append(
                {
                    "bg": d.bg,
                    "cuts": d.cuts,
                    "revision": d.revision,
                    "file": f"{d.stem}.png",
                    "approved_by": d.approved_by,
                }
            )
        # the indexes list the whole folder: earlier deliveries of other BGs stay listed
        earlier = _earlier_deliveries(dest, plan)
        for e in earlier:
            for c in e["cuts"]:
                rows.append(
                    [
                        c,
                        e["bg"],
                        e["file"],
                        e["file"][: -len(".png")] + ".psd",
                        str(e["revision"]),
                        e["approved_by"],
                    ]
                )
        cuts_csv = csv_text(["cut", "bg", "png", "psd", "revision", "approved_by"], sorted(rows))
        atomic_write_bytes(stage / "cuts.csv", cuts_csv.encode("utf-8"))
        atomic_write_bytes(
            stage / "delivery.json",
            json.dumps(
                {
                    "production": ctx.settings.production.name,
                    "delivered": earlier + result.delivered,
                    "skipped": [{"bg": b, "reason": r} for b, r in skipped],
                },
                ensure_ascii=False,
                indent=1,
            ).encode("utf-8"),
        )
        built = sorted(f.name for f in stage.iterdir() if f.name != LOCK_NAME)
        if built != sorted([*names, *INDEX_FILES]):  # pragma: no cover - a bug, not a user's doing
            raise RuntimeError(f"export built {built}, planned {sorted(names)}")
        # 3. move into place, file by file (each rename is atomic); the BG files first, the
        #    indexes that list them last
        for name in [*names, *INDEX_FILES]:
            target = dest / name
            os.replace(stage / name, target)
            result.files.append(target)
        result.replaced = [n for n in [*names, *INDEX_FILES] if n in replaced]
    except OSError as exc:
        raise _write_error(dest, exc, len(result.files)) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        os.close(lock)
    from haikei.services.states import mark_delivered  # delivered states (review loop)

    mark_delivered(ctx, plan, dest)
    return result


# --------------------------------------------------------------------------- credits


def credits_input(ctx: ServiceContext, cuts: list[str] | None = None) -> Any:
    """The facts the end-roll list is made of, from the delivered (approved, else current) versions."""
    from haikei.provenance.credits import (
        Approval,
        BoardUse,
        CreditsInput,
        EngineUse,
        LayoutWork,
        PaintOverWork,
    )
    from haikei.services.locations import location_board_uses

    plan, _skipped = delivery_plan(ctx, cuts)
    layouts, boards, paint, approvals, engines = [], [], [], [], []
    for d in plan:
        for cut in d.cuts:
            if d.layout.artist:
                layouts.append(LayoutWork(cut=cut, artist=d.layout.artist))
            for b in d.boards:
                if b.location_id is not None:  # everyone in its chain (services/locations.py)
                    boards.extend(location_board_uses(b, cut))
                    continue
                boards.append(
                    BoardUse(board=b.name, artist=b.artist or "unknown", cut=cut, licence=b.licence)
                )
            total = None
            for st in d.lineage:
                if st.kind == "human":
                    if total is None:
                        img = load_rgb(ctx.blobs.get(st.image_blob))
                        total = int(img.shape[0] * img.shape[1])
                    share = st.changed_share or 0.0
                    paint.append(
                        PaintOverWork(
                            cut=cut,
                            artist=st.who or "unknown",
                            changed_pixels=round(share * total),
                            total_pixels=total,
                        )
                    )
                elif st.engine:
                    engines.append(
                        EngineUse(
                            cut=cut,
                            engine=st.engine,
                            version=st.engine_version,
                            digital_source_type=st.source_type,
                        )
                    )
            if d.approved_by:
                approvals.append(Approval(cut=cut, director=d.approved_by))
    with ctx.db.session() as s:
        cut_rows = list(s.scalars(select(CutRow)))
        del cut_rows
    return CreditsInput(
        production=ctx.settings.production.name,
        layouts=layouts,
        boards=boards,
        paint_overs=paint,
        approvals=approvals,
        engines=engines,
    )

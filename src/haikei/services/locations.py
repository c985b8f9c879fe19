"""Locations (舞台): cuts of one place share a location; its approved BGs become its location boards.

The model (see specs/locations.md):

- A location is a named place; a BG belongs to at most one (``backgrounds.location_id``), set from
  the cut sheet's ``location`` / ``場所`` column at intake, by ``haikei location set CUT NAME``, or
  through :func:`set_location`.
- Approving a version of a located BG (:func:`on_approve`, called once from
  ``review.approve`` inside its transaction) makes that version a **location board**: an art-board
  row whose image is the approved pixels (paint-over included, the version's own blob), whose labels
  are its layout's region map without the layout's ink (one small new blob), tagged with the BG's
  direction (season, time of day, weather, light), crediting the paint-over artists and the
  painters of every board it was painted from (its *chain*). A new approval of the same BG replaces
  its board: a new row, the old one retired (renders that used it keep pointing at it).
- Consent follows the chain: the board is made only if every board in its chain has consent and
  allows derived use, and, when people painted over it, the approving director confirms that they
  agree (``confirm_painters``; who and when are recorded). Otherwise the BG is approved all the
  same, no board is made, and the record says why (``haikei location show``).
- Renders of a located BG paint the classes its location boards show from them first
  (:func:`location_first` / :func:`location_board_inputs`, used by ``services.rendering``): the
  location boards come first in the request and the production's boards are handed to the engine
  whole, with those classes marked as left to the location boards (``BoardInput.withheld``): an
  engine paints them from the location boards, and from the production's boards only where the
  location boards show too little of a class to copy (the exemplar engine finds that at its coarse
  levels: a thin far forest on the approved BG).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from haikei.domain.direction import parse_direction
from haikei.domain.models import ArtBoard, User
from haikei.domain.vocabulary import UNLABELLED
from haikei.engines.base import BoardInput
from haikei.errors import ConsentError, InputError, NotFoundError
from haikei.imaging.io import load_region_map, load_rgb
from haikei.services.context import ServiceContext
from haikei.store.convert import to_artboard
from haikei.store.tables import (
    ArtBoardRow,
    BackgroundRow,
    LayoutRow,
    LocationBoardRecordRow,
    LocationRow,
    NoteRow,
    UserRow,
    VersionRow,
    utcnow,
)

__all__ = [
    "LOCATION_MAX_REUSE",
    "BgAtLocation",
    "LocationDetail",
    "LocationSummary",
    "board_chain",
    "check_location_name",
    "confirm_painters",
    "get_location",
    "list_locations",
    "location_board_inputs",
    "location_board_sources",
    "location_detail",
    "location_first",
    "on_approve",
    "on_left_approved",
    "on_variant_approved",
    "require_consent_chain",
    "set_derived_use",
    "set_location",
]

NAME_MAX = 100
_NAME_RE = re.compile(r"^[^\x00-\x1f/\\]{1,100}$")
# a class is painted from the location boards when their paint of it, re-used at most this many
# times over, fills the class's area in the cut (else the production's boards paint it as today)
LOCATION_MAX_REUSE = 2.0
# ... and they show at least this many pixels of it (a few stray pixels are not a surface)
LOCATION_MIN_PIXELS = 64


# -- names and rows ---------------------------------------------------------------------------


def check_location_name(name: str) -> str:
    """A location name as stored (NFC, trimmed), or InputError saying how to write it."""
    import unicodedata

    clean = unicodedata.normalize("NFC", name or "").strip()
    if not clean:
        raise InputError("the location name is empty; write the place, e.g. 'station' or '駅前'")
    if len(clean) > NAME_MAX or not _NAME_RE.match(clean):
        raise InputError(
            f"location name {clean[:40]!r} must be 1..{NAME_MAX} characters without / \\ or control characters"
        )
    return clean


def _location_row(s: Any, name: str) -> LocationRow | None:
    return s.scalars(select(LocationRow).where(LocationRow.name == name)).first()


def _display_names(s: Any) -> dict[str, str]:
    return {u.name: (u.display_name or u.name) for u in s.scalars(select(UserRow))}


def ensure_location(s: Any, name: str, actor: str = "") -> LocationRow:
    """The location row named ``name``, made when there is none (inside the caller's transaction)."""
    clean = check_location_name(name)
    row = _location_row(s, clean)
    if row is None:
        row = LocationRow(name=clean, description="", created_by=actor)
        s.add(row)
        s.flush()
    return row


def set_location(ctx: ServiceContext, ref: str, name: str | None, *, actor: str = "") -> str | None:
    """Put the BG serving ``ref`` (a cut or BG name) at location ``name`` (made if new), or take it
    off its location (``None``). Returns the location's name (or None). Its existing location board,
    if any, stays with the old location (a board is what the place looked like)."""
    from haikei.services.rendering import find_background

    clean = check_location_name(name) if name is not None else None
    with ctx.db.immediate() as s:
        bg = find_background(s, ref)
        old = s.get(LocationRow, bg.location_id) if bg.location_id else None
        if clean is None:
            if old is None:
                raise InputError(f"{bg.name} is not at any location")
            bg.location_id = None
            s.add(NoteRow(background_id=bg.id, author=actor or "haikei", text=f"location {old.name} cleared"))
            return None
        loc = ensure_location(s, clean, actor)
        if old is not None and old.id == loc.id:
            return loc.name
        bg.location_id = loc.id
        said = f"location {loc.name}" + (f" (was {old.name})" if old is not None else "")
        s.add(NoteRow(background_id=bg.id, author=actor or "haikei", text=said))
        return loc.name


def set_locations_from_sheet(s: Any, bg: BackgroundRow, name: str, actor: str = "") -> None:
    """Intake: the cut sheet's location column (inside intake's transaction). A BG already at
    another location is moved only by a person (``haikei location set``): refuse the sheet's."""
    loc = ensure_location(s, name, actor)
    if bg.location_id is not None and bg.location_id != loc.id:
        old = s.get(LocationRow, bg.location_id)
        raise InputError(
            f"{bg.name} is at location {old.name if old else bg.location_id!r}, the cut sheet says {loc.name!r}; "
            f"move it with 'haikei location set {bg.name} {loc.name}' or fix the sheet"
        )
    bg.location_id = loc.id


def set_derived_use(ctx: ServiceContext, ref: str | int, allowed: bool) -> ArtBoard:
    """Record (or withdraw) the painter's permission that a painting made from the board may
    become an art board itself (a location board). Recorded with its time, like the consent."""
    from haikei.services.artboards import get_artboard

    board = get_artboard(ctx, ref)
    with ctx.db.session() as s:
        row = s.get(ArtBoardRow, board.id)
        assert row is not None
        if row.location_id is not None:
            raise InputError(
                f"{row.name} is a location board: derived use follows its chain; "
                "set it on the boards it was painted from"
            )
        row.allows_derived_use = bool(allowed)
        row.derived_use_recorded_at = utcnow()
        s.flush()
        return to_artboard(row)


# -- chains: what a version was painted from, and who painted it ------------------------------


@dataclass
class Chain:
    """The boards a version was painted from (flattened through location boards) and the people
    whose paint is in it (paint-over artists, by login name), root first."""

    boards: list[ArtBoardRow] = field(default_factory=list)
    location_boards: list[ArtBoardRow] = field(default_factory=list)  # location boards it used
    painters: list[str] = field(default_factory=list)  # paint-over artists (login names)
    inherited_painters: list[dict[str, Any]] = field(default_factory=list)  # from location boards


def _used_keys(recipe: dict[str, Any]) -> set[str] | None:
    """The board keys an engine says it painted from (None: it does not say: all it was given)."""
    er = recipe.get("engine_recipe") or {}
    if isinstance(er.get("boards_used"), list):
        return {str(k) for k in er["boards_used"]}
    classes = er.get("classes")
    if isinstance(classes, dict) and classes:
        return {str(k) for c in classes.values() if isinstance(c, dict) for k in c.get("boards", [])}
    return None


def _lineage(s: Any, v: VersionRow) -> list[VersionRow]:
    chain: list[VersionRow] = []
    cur: VersionRow | None = v
    seen: set[int] = set()
    while cur is not None and cur.id not in seen:
        seen.add(cur.id)
        chain.append(cur)
        cur = s.get(VersionRow, cur.parent_id) if cur.parent_id else None
    return list(reversed(chain))


def board_chain(s: Any, v: VersionRow) -> Chain:
    """Every board ``v`` was painted from, through its lineage (renders, retakes, paint-overs) and
    through the location boards it used (their own chains), and its paint-over artists."""
    out = Chain()
    seen: set[int] = set()
    for step in _lineage(s, v):
        if step.kind == "human":
            if step.created_by and step.created_by not in out.painters:
                out.painters.append(step.created_by)
            continue
        recipe = dict(step.recipe or {})
        used = _used_keys(recipe)
        for ab in (recipe.get("inputs") or {}).get("artboards", []):
            if not isinstance(ab, dict) or "id" not in ab:
                continue
            if used is not None and ab.get("hash") not in used:
                continue
            row = s.get(ArtBoardRow, int(ab["id"]))
            if row is None or row.id in seen:
                continue
            seen.add(row.id)
            if row.location_id is not None:
                out.location_boards.append(row)
                for link in row.chain or []:
                    sub = s.get(ArtBoardRow, int(link["id"]))
                    if sub is not None and sub.id not in seen:
                        seen.add(sub.id)
                        out.boards.append(sub)
                for p in row.painters or []:
                    if p.get("role") == "paint_over" and p not in out.inherited_painters:
                        out.inherited_painters.append(dict(p, via=row.name))
            else:
                out.boards.append(row)
    return out


def _chain_refusal(chain: Chain) -> str:
    """Why the chain forbids a derived board ('' when it allows one)."""
    if not chain.boards and not chain.location_boards:
        return "no art board is recorded in its recipe, so its chain cannot be checked"
    bad = [b for b in chain.boards if not b.consent]
    if bad:
        return "art board(s) " + ", ".join(repr(b.name) for b in bad) + " have no recorded consent"
    bad = [b for b in chain.boards if not b.allows_derived_use]
    if bad:
        who = ", ".join(f"{b.name!r} ({b.artist or 'unknown'})" for b in bad)
        return (
            f"it was painted from art board(s) {who} whose painters have not allowed derived use; "
            "record it with 'haikei location derived-use BOARD --yes' when they agree"
        )
    gone = [b for b in chain.location_boards if not b.consent]
    if gone:
        return "location board(s) " + ", ".join(repr(b.name) for b in gone) + " lost their consent"
    return ""


def _chain_usable(s: Any, row: ArtBoardRow, *, retired_ok: bool = False) -> str:
    """'' when a location board may be used now (its chain still consents), else why not;
    ``retired_ok``: a retired board still delivers the renders that used it."""
    if row.retired_at is not None and not retired_ok:
        return "retired"
    if not row.consent:
        return "no consent"
    for link in row.chain or []:
        b = s.get(ArtBoardRow, int(link["id"]))
        if b is None:
            return f"board {link.get('name')!r} of its chain is gone"
        if not b.consent or not b.allows_derived_use:
            return f"{b.name!r} of its chain no longer allows derived use (or lost consent)"
    return ""


# -- approval: the approved version becomes the location's board ------------------------------


def _board_name(s: Any, loc: LocationRow, bg: BackgroundRow, v: VersionRow) -> str:
    base = f"{loc.name[:90]}/{bg.name[:90]}-r{v.revision}"  # within artboards.name's 200 characters
    name, n = base, 1
    while s.scalars(select(ArtBoardRow.id).where(ArtBoardRow.name == name)).first() is not None:
        n += 1
        name = f"{base}-{n}"
    return name


def _approved_variants(s: Any, bg: BackgroundRow, v: VersionRow) -> dict[str, str]:
    """Approved variants made from ``v`` (aligned repaints of it by construction): tag -> image."""
    out: dict[str, str] = {}
    rows = s.scalars(
        select(VersionRow)
        .where(
            VersionRow.background_id == bg.id, VersionRow.parent_id == v.id, VersionRow.variant.is_not(None)
        )
        .order_by(VersionRow.id)
    )
    for r in rows:
        last = s.scalars(
            select(NoteRow)
            .where(NoteRow.version_id == r.id, NoteRow.status_change.is_not(None))
            .order_by(NoteRow.id.desc())
        ).first()
        if last is not None and last.status_change == "approved" and r.variant:
            out[str(r.variant)] = r.image_blob
    return out


def _board_labels(ctx: ServiceContext, ids: np.ndarray, lines_blob: str) -> str:
    """The location board's label map: its layout's region map without the layout's ink (the
    lines drawn into the painting are not paint of the class they cross; copied as paint they
    come back as dark streaks in the cuts painted from the board). The blob is written here, before
    the row that names it (an unreferenced blob at worst, which 'haikei gc' removes)."""
    from scipy import ndimage

    from haikei.imaging.io import encode_region_map, load_gray, png_bytes

    lines = load_gray(ctx.blobs.get(lines_blob), name="layout lines")
    out = ids.copy()
    if lines.shape == ids.shape:
        out[ndimage.binary_dilation(lines < 128, iterations=1)] = UNLABELLED
    return ctx.blobs.put(png_bytes(encode_region_map(out, ctx.vocabulary)))


def on_approve(
    ctx: ServiceContext,
    s: Any,
    bg: BackgroundRow,
    v: VersionRow,
    user: User,
    *,
    confirm_painters: bool = False,
) -> LocationBoardRecordRow | None:
    """Called by ``review.approve`` inside its write transaction: when the BG has a location, the
    approved version becomes its location board (or the record says why not). Writes one blob
    (the board's labels) before its row."""
    if bg.location_id is None:
        return None
    loc = s.get(LocationRow, bg.location_id)
    assert loc is not None
    return _make_board(ctx, s, loc, bg, v, user, confirm_painters)


def _make_board(
    ctx: ServiceContext,
    s: Any,
    loc: LocationRow,
    bg: BackgroundRow,
    v: VersionRow,
    user: User,
    confirm_painters: bool,
) -> LocationBoardRecordRow:
    now = utcnow()
    names = _display_names(s)
    chain = board_chain(s, v)
    painters = list(chain.painters)
    record = LocationBoardRecordRow(
        location_id=loc.id,
        background_id=bg.id,
        version_id=v.id,
        painters=painters,
        approved_by=user.name,
        outcome="refused",
        reason="",
    )
    if painters and confirm_painters:
        record.painters_confirmed_by = user.name
        record.painters_confirmed_at = now
    active = list(
        s.scalars(
            select(ArtBoardRow).where(
                ArtBoardRow.location_id == loc.id,
                ArtBoardRow.retired_at.is_(None),
                ArtBoardRow.source_version_id.in_(
                    select(VersionRow.id).where(VersionRow.background_id == bg.id)
                ),
            )
        )
    )
    same = [b for b in active if b.source_version_id == v.id]
    reason = _chain_refusal(chain)
    if not reason and same:  # approved again: its board (and the confirmation it was made with) stands
        record.outcome, record.artboard_id = "board", same[0].id
        record.reason = "already the location board"
        made = s.scalars(
            select(LocationBoardRecordRow)
            .where(
                LocationBoardRecordRow.artboard_id == same[0].id, LocationBoardRecordRow.outcome == "board"
            )
            .order_by(LocationBoardRecordRow.id)
        ).first()
        if made is not None and record.painters_confirmed_by is None:
            record.painters_confirmed_by = made.painters_confirmed_by
            record.painters_confirmed_at = made.painters_confirmed_at
        s.add(record)
        s.flush()
        return record
    if not reason and painters and not confirm_painters:
        who = ", ".join(names.get(p, p) for p in painters)
        reason = (
            f"painted over by {who}: the director did not confirm on approval that they agree to it "
            f"becoming a location board (approve with confirm_painters, or 'haikei location confirm {bg.name} --as DIRECTOR')"
        )
    if reason:
        record.reason = reason
        for b in active:  # the BG's approved painting changed: its old board no longer shows the place
            if b.source_version_id != v.id:
                b.retired_at = now
        s.add(record)
        s.flush()
        return record
    layout = s.get(LayoutRow, v.layout_id) if v.layout_id else None
    if layout is None or layout.regions_blob is None or not layout.labelled:
        record.reason = "its layout has no complete region map to label the board with"
        s.add(record)
        s.flush()
        return record
    ids = load_region_map(ctx.blobs.get(layout.regions_blob), ctx.vocabulary, name=f"region map of {bg.name}")
    labels_blob = _board_labels(ctx, ids, layout.lines_blob)
    classes = sorted({ctx.vocabulary.name_of(int(c)) for c in np.unique(ids) if c != UNLABELLED})
    text = bg.direction_text or ""
    tags = sorted(parse_direction(text).tags()) if text.strip() else []
    credited: list[dict[str, Any]] = [
        {"name": names.get(p, p), "login": p, "role": "paint_over", "board": ""} for p in painters
    ]
    for p in chain.inherited_painters:
        entry = {"name": p["name"], "login": p.get("login", ""), "role": "paint_over", "board": p["via"]}
        if entry not in credited:
            credited.append(entry)
    for b in chain.boards:
        entry = {"name": b.artist or "unknown", "login": "", "role": "art_board", "board": b.name}
        if entry not in credited:
            credited.append(entry)
    people = list(dict.fromkeys(c["name"] for c in credited))
    chain_json = [
        {"id": b.id, "name": b.name, "artist": b.artist, "licence": b.licence, "hash": b.image_blob}
        for b in chain.boards
    ]
    via = [b.name for b in chain.location_boards]
    confirm = (
        f"; paint-over artists' agreement confirmed by {names.get(user.name, user.name)} at {now:%Y-%m-%d %H:%M} UTC"
        if painters
        else ""
    )
    licence = (
        f"location board of {loc.name}: {bg.name} r{v.revision} approved by {names.get(user.name, user.name)}; "
        f"painted from {', '.join(b.name for b in chain.boards)}"
        + (f" (through {', '.join(via)})" if via else "")
        + "; derived use allowed by every board of its chain"
        + confirm
    )
    board = ArtBoardRow(
        name=_board_name(s, loc, bg, v),
        image_blob=v.image_blob,
        labels_blob=labels_blob,
        width=int(bg.width),
        height=int(bg.height),
        artist=", ".join(people)[:200],
        licence=licence,
        consent=True,
        tags=tags,
        variants=_approved_variants(s, bg, v),
        classes=classes,
        allows_derived_use=True,
        derived_use_recorded_at=now,
        location_id=loc.id,
        source_version_id=v.id,
        chain=chain_json,
        painters=credited,
    )
    s.add(board)
    s.flush()
    for b in active:
        b.retired_at = now
    record.outcome, record.artboard_id, record.reason = "board", board.id, ""
    s.add(record)
    s.flush()
    return record


def on_variant_approved(s: Any, bg: BackgroundRow, v: VersionRow) -> None:
    """Called by ``review.approve_variant`` in its transaction: an approved variant of the version a
    location board is made from is an aligned repaint of that board (same layout, and for a re-vote
    the same correspondences), so the board carries it as its variant for that tag. Every other BG
    painted from the board can then get the same season by re-voting over it (seasons carry across
    the location). The board's image and labels stay as they were."""
    if bg.location_id is None or v.parent_id is None or not v.variant:
        return
    for b in s.scalars(
        select(ArtBoardRow).where(
            ArtBoardRow.source_version_id == v.parent_id, ArtBoardRow.retired_at.is_(None)
        )
    ):
        b.variants = {**(b.variants or {}), str(v.variant): v.image_blob}


def on_left_approved(s: Any, bg: BackgroundRow, actor: str, why: str) -> list[str]:
    """Called by ``review`` in the transaction that moves a BG out of approved (a retake note, a
    rejection that withdraws the approval, a paint-over uploaded for review): while its approved
    painting is being changed it no longer shows the place as approved, so its location boards
    are retired (rows kept: renders that used them keep pointing at them) and a record per board
    says why, who and when. Returns the names of the boards retired (none when it had none or the
    BG is still approved)."""
    if bg.status is not None and bg.status.is_approved:
        return []
    active = list(
        s.scalars(
            select(ArtBoardRow)
            .where(
                ArtBoardRow.location_id.is_not(None),
                ArtBoardRow.retired_at.is_(None),
                ArtBoardRow.source_version_id.in_(
                    select(VersionRow.id).where(VersionRow.background_id == bg.id)
                ),
            )
            .order_by(ArtBoardRow.id)
        )
    )
    if not active:
        return []
    now = utcnow()
    who = _display_names(s).get(actor, actor) or "haikei"
    for b in active:
        b.retired_at = now
        s.add(
            LocationBoardRecordRow(
                location_id=b.location_id,
                background_id=bg.id,
                version_id=b.source_version_id,
                artboard_id=b.id,
                outcome="retired",
                reason=f"{bg.name} {why} by {who} at {now:%Y-%m-%d %H:%M} UTC",
                painters=[],
                approved_by="",
            )
        )
    s.flush()
    return [b.name for b in active]


def _retired_why(s: Any, board_ids: Sequence[int]) -> dict[int, str]:
    """Why each retired board was retired: its BG left approved (the record's reason), else (no
    such record) a later approval of its BG replaced it."""
    if not board_ids:
        return {}
    out = {
        int(r.artboard_id): r.reason
        for r in s.scalars(
            select(LocationBoardRecordRow)
            .where(
                LocationBoardRecordRow.artboard_id.in_(list(board_ids)),
                LocationBoardRecordRow.outcome == "retired",
            )
            .order_by(LocationBoardRecordRow.id)
        )
    }
    return {i: out.get(i, "its BG was approved again") for i in board_ids}


def confirm_painters(ctx: ServiceContext, user: User, ref: str) -> LocationBoardRecordRow:
    """After approval: the director confirms that the paint-over artists of the BG's approved
    version agree to it becoming a location board; the board is made if the chain allows it."""
    from haikei.services.rendering import find_background
    from haikei.services.users import require

    require(user, "approve")
    with ctx.db.immediate() as s:
        bg = find_background(s, ref)
        s.execute(select(BackgroundRow.id).where(BackgroundRow.id == bg.id).with_for_update())
        if bg.location_id is None:
            raise InputError(
                f"{bg.name} is not at any location; set one with 'haikei location set {bg.name} NAME'"
            )
        if bg.approved_version_id is None:
            raise InputError(f"{bg.name} has no approved version; approve one first")
        v = s.get(VersionRow, bg.approved_version_id)
        loc = s.get(LocationRow, bg.location_id)
        assert v is not None and loc is not None
        rec = _make_board(ctx, s, loc, bg, v, user, True)
        s.add(
            NoteRow(
                background_id=bg.id,
                version_id=v.id,
                author=user.name,
                text=(
                    f"confirmed the paint-over artists agree: r{v.revision} is a board of {loc.name}"
                    if rec.outcome == "board"
                    else f"location board of r{v.revision} refused: {rec.reason}"
                ),
            )
        )
        s.flush()
        s.expunge(rec)
        return rec


# -- rendering: location boards first ---------------------------------------------------------


def _active_boards(s: Any, location_id: int, exclude_bg: int) -> list[ArtBoardRow]:
    rows = list(
        s.scalars(
            select(ArtBoardRow)
            .where(ArtBoardRow.location_id == location_id, ArtBoardRow.retired_at.is_(None))
            .order_by(ArtBoardRow.id)
        )
    )
    out = []
    for r in rows:
        src = s.get(VersionRow, r.source_version_id) if r.source_version_id else None
        if src is not None and src.background_id == exclude_bg:
            continue  # a BG is not its own reference
        if _chain_usable(s, r):
            continue
        out.append(r)
    return out


def location_first(
    ctx: ServiceContext,
    bg_id: int,
    boards: list[ArtBoard],
    regions_blob: str,
    *,
    kind: str = "render",
    parent_version_id: int | None = None,
) -> tuple[list[ArtBoard], dict[str, Any] | None]:
    """For a located BG with usable location boards: (location boards + the production boards
    that still paint something, the recipe's ``location`` entry). Otherwise (boards, None) and
    the render is exactly as without locations (same boards, same render key).

    A retake, refine or variant works from its parent's correspondences, so it takes the location
    boards its parent was painted from (kept even when retired since), not today's: approving
    another cut of the place must not change the boards under a BG's retake."""
    with ctx.db.session() as s:
        bg = s.get(BackgroundRow, bg_id)
        if bg is None:
            return boards, None
        from_parent = kind in ("retake", "refine", "variant") and parent_version_id is not None
        if from_parent:
            parent = s.get(VersionRow, parent_version_id)
            entry = (
                ((parent.recipe or {}).get("inputs") or {}).get("location") if parent is not None else None
            )
            if not entry:
                return boards, None
            loc = s.scalars(select(LocationRow).where(LocationRow.name == entry.get("name"))).first()
            rows = [
                r
                for r in (s.get(ArtBoardRow, int(b["id"])) for b in entry.get("boards", []))
                if r is not None and not _chain_usable(s, r, retired_ok=True)
            ]
        else:
            if bg.location_id is None:
                return boards, None
            loc = s.get(LocationRow, bg.location_id)
            rows = _active_boards(s, bg.location_id, bg.id)
        if loc is None or not rows:
            return boards, None
        loc_boards = [to_artboard(r) for r in rows]
        detail = {
            r.id: {
                "chain": [dict(c) for c in r.chain or []],
                "painters": [dict(p) for p in r.painters or []],
                "source_version_id": r.source_version_id,
                "classes": list(r.classes or []),
            }
            for r in rows
        }
        prod_classes = {
            r.id: list(r.classes or [])
            for r in s.scalars(select(ArtBoardRow).where(ArtBoardRow.id.in_([b.id for b in boards])))
        }
        loc_name = loc.name
    # which classes the location boards paint: enough of their paint for the cut's area (class
    # maps from the production's disk cache of decoded region maps: a plan stays cheap)
    from haikei.services.review_labels import _class_map

    target = np.bincount(_class_map(ctx, regions_blob).ravel(), minlength=256)
    h_w = float(target[:UNLABELLED].sum())
    paint = np.zeros(256)
    for b in loc_boards:
        labels = _class_map(ctx, b.labels_blob)
        scale2 = min(1.0, h_w / float(labels.size))  # never enlarged: a same-size frame is 1
        paint += np.bincount(labels.ravel(), minlength=256) * scale2
    reserved = sorted(
        ctx.vocabulary.name_of(c)
        for c in range(UNLABELLED)
        if target[c] > 0 and paint[c] >= LOCATION_MIN_PIXELS and paint[c] * LOCATION_MAX_REUSE >= target[c]
    )
    loc_ids = {b.id for b in loc_boards}
    rest: list[ArtBoard] = []
    without: dict[str, list[str]] = {}
    for b in boards:
        if b.id in loc_ids:
            continue
        shows = set(prod_classes.get(b.id, []))
        if shows and shows <= set(reserved):
            continue  # everything it shows comes from the location: not needed
        cut = sorted(shows & set(reserved))
        if cut:
            without[str(b.id)] = cut
        rest.append(b)
    entry = {
        "name": loc_name,
        "boards": [{"id": b.id, "name": b.name, "hash": b.image_blob, **detail[b.id]} for b in loc_boards],
        "classes": reserved,
        "production_boards_without": without,
    }
    return loc_boards + rest, entry


def with_location(inputs: dict[str, Any], entry: dict[str, Any] | None) -> dict[str, Any]:
    """The render's recipe inputs with the location entry; a production board that leaves classes
    to the location boards lists them (``withheld``)."""
    if entry is None:
        return inputs
    without = entry.get("production_boards_without") or {}
    boards = []
    for ab in inputs.get("artboards", []):
        cut = without.get(str(ab.get("id")))
        if cut:
            ab = {**ab, "withheld": list(cut)}
        boards.append(ab)
    return {**inputs, "artboards": boards, "location": entry}


def location_board_inputs(
    ctx: ServiceContext, boards: Sequence[ArtBoard], entry: dict[str, Any] | None
) -> tuple[BoardInput, ...]:
    """The boards as the engine gets them: location boards whole and marked with their location's
    name (``BoardInput.location``: the engine paints the classes they show in their tones),
    production boards whole, with the classes they leave to the location boards
    (``BoardInput.withheld``: the engine paints those from them only where the location boards'
    paint of them is too little to copy)."""
    from haikei.services.artboards import load_board_input

    without = (entry or {}).get("production_boards_without") or {}
    located = {int(lb["id"]) for lb in (entry or {}).get("boards", [])}
    out: list[BoardInput] = []
    for b in boards:
        bi = load_board_input(ctx, b)
        cut = without.get(str(b.id))
        if b.id in located and entry:
            paints = frozenset(ctx.vocabulary.id_of(name) for name in entry.get("classes", []))
            bi = replace(bi, location=str(entry["name"]), paints=paints)
        elif cut:
            bi = replace(bi, withheld=frozenset(ctx.vocabulary.id_of(name) for name in cut))
        out.append(bi)
    return tuple(out)


# -- reading ----------------------------------------------------------------------------------


@dataclass
class LocationSummary:
    name: str
    bgs: list[str]
    boards: int  # active location boards
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bgs": self.bgs,
            "boards": self.boards,
            "created_at": self.created_at.isoformat(),
        }


@dataclass
class BgAtLocation:
    name: str
    cuts: list[str]
    status: str
    approved_revision: int | None
    board: str | None  # the active location board made from it
    why_no_board: str  # '' when it has a board, else the reason (or that it is not approved)
    painters_confirmed_by: str | None = None
    painters_confirmed_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cuts": self.cuts,
            "status": self.status,
            "approved_revision": self.approved_revision,
            "board": self.board,
            "why_no_board": self.why_no_board,
            "painters_confirmed_by": self.painters_confirmed_by,
            "painters_confirmed_at": self.painters_confirmed_at.isoformat()
            if self.painters_confirmed_at
            else None,
        }


@dataclass
class LocationDetail:
    name: str
    bgs: list[BgAtLocation]
    boards: list[dict[str, Any]]  # every location board (active and retired), newest first
    consistency: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bgs": [b.as_json() for b in self.bgs],
            "boards": self.boards,
            "consistency": self.consistency,
        }


def list_locations(ctx: ServiceContext) -> list[LocationSummary]:
    with ctx.db.session() as s:
        out = []
        for loc in s.scalars(select(LocationRow).order_by(LocationRow.name)):
            bgs = list(
                s.scalars(
                    select(BackgroundRow.name)
                    .where(BackgroundRow.location_id == loc.id)
                    .order_by(BackgroundRow.name)
                )
            )
            n = len(_active_boards(s, loc.id, -1))
            out.append(LocationSummary(loc.name, bgs, n, loc.created_at))
        return out


def get_location(ctx: ServiceContext, name: str) -> str:
    with ctx.db.session() as s:
        row = _location_row(s, check_location_name(name))
        if row is None:
            raise NotFoundError(f"no location {name!r}; see 'haikei location list'")
        return row.name


def location_detail(ctx: ServiceContext, name: str, *, consistency: bool = False) -> LocationDetail:
    """A location's BGs side by side with their states and boards (or why they have none); with
    ``consistency``, the location-consistency figure between every two approved BGs."""
    clean = check_location_name(name)
    with ctx.db.session() as s:
        loc = _location_row(s, clean)
        if loc is None:
            raise NotFoundError(f"no location {clean!r}; see 'haikei location list'")
        names = _display_names(s)
        bgs: list[BgAtLocation] = []
        paintings: list[tuple[str, str, str]] = []  # (bg, image blob, regions blob) of approved versions
        for bg in s.scalars(
            select(BackgroundRow).where(BackgroundRow.location_id == loc.id).order_by(BackgroundRow.name)
        ).unique():
            approved = s.get(VersionRow, bg.approved_version_id) if bg.approved_version_id else None
            board = None
            why = "not approved yet"
            confirmed_by = confirmed_at = None
            last = s.scalars(
                select(LocationBoardRecordRow)
                .where(LocationBoardRecordRow.background_id == bg.id)
                .order_by(LocationBoardRecordRow.id.desc())
            ).first()
            left = last is not None and last.outcome == "retired" and not bg.status.is_approved
            if left:  # it left approved: its board was retired then (and no approval since)
                assert last is not None
                gone = s.get(ArtBoardRow, last.artboard_id) if last.artboard_id else None
                why = f"board {gone.name if gone else last.artboard_id} retired: {last.reason}"
            if approved is not None:
                rec = s.scalars(
                    select(LocationBoardRecordRow)
                    .where(
                        LocationBoardRecordRow.background_id == bg.id,
                        LocationBoardRecordRow.version_id == approved.id,
                        LocationBoardRecordRow.outcome != "retired",
                    )
                    .order_by(LocationBoardRecordRow.id.desc())
                ).first()
                if left:
                    pass
                elif rec is None:
                    why = f"r{approved.revision} was approved before {bg.name} was at {loc.name}; approve it again"
                else:
                    confirmed_by = names.get(rec.painters_confirmed_by or "", rec.painters_confirmed_by)
                    confirmed_at = rec.painters_confirmed_at
                    row = s.get(ArtBoardRow, rec.artboard_id) if rec.artboard_id else None
                    if row is not None and row.location_id == loc.id:
                        problem = _chain_usable(s, row)
                        board, why = (
                            row.name,
                            ("" if not problem else f"board {row.name} not usable: {problem}"),
                        )
                    else:
                        why = rec.reason or "no board"
                layout = s.get(LayoutRow, approved.layout_id) if approved.layout_id else None
                if layout is not None and layout.regions_blob:
                    paintings.append((bg.name, approved.image_blob, layout.regions_blob))
            bgs.append(
                BgAtLocation(
                    bg.name,
                    [c.number for c in bg.cuts],
                    bg.status.short_name,
                    approved.revision if approved is not None else None,
                    board,
                    why,
                    confirmed_by,
                    confirmed_at,
                )
            )
        boards = []
        rows = list(
            s.scalars(
                select(ArtBoardRow).where(ArtBoardRow.location_id == loc.id).order_by(ArtBoardRow.id.desc())
            )
        )
        retired_why = _retired_why(s, [r.id for r in rows if r.retired_at is not None])
        for r in rows:
            problem = _chain_usable(s, r)
            boards.append(
                {
                    "id": r.id,
                    "name": r.name,
                    "source_version_id": r.source_version_id,
                    "usable": not problem,
                    "why_not": problem,
                    "retired_at": r.retired_at.isoformat() if r.retired_at else None,
                    "retired_why": retired_why.get(r.id, ""),
                    "tags": list(r.tags or []),
                    "classes": list(r.classes or []),
                    "chain": [dict(c) for c in r.chain or []],
                    "painters": [dict(p) for p in r.painters or []],
                    "variants": sorted(r.variants or {}),
                }
            )
    detail = LocationDetail(loc.name, bgs, boards)
    if consistency and len(paintings) >= 2:
        from haikei.quality.location import location_consistency

        decoded = [
            (
                n,
                load_rgb(ctx.blobs.get(img), name=f"approved {n}"),
                load_region_map(ctx.blobs.get(reg), ctx.vocabulary, name=f"region map of {n}"),
            )
            for n, img, reg in paintings
        ]
        for i in range(len(decoded)):
            for j in range(i + 1, len(decoded)):
                a, b = decoded[i], decoded[j]
                fig = location_consistency(a[1], a[2], b[1], b[2], ctx.vocabulary)
                detail.consistency.append({"a": a[0], "b": b[0], **fig.as_json()})
    return detail


def location_board_sources(ctx: ServiceContext) -> dict[int, dict[str, Any]]:
    """{board id: where it comes from} for every location board: its location, the BG and cuts
    whose approved version it is, that version's revision and id, and whether it is retired (and
    why). Production boards are not in it."""
    with ctx.db.session() as s:
        rows = list(
            s.scalars(
                select(ArtBoardRow).where(ArtBoardRow.location_id.is_not(None)).order_by(ArtBoardRow.id)
            )
        )
        why = _retired_why(s, [r.id for r in rows if r.retired_at is not None])
        out: dict[int, dict[str, Any]] = {}
        for r in rows:
            loc = s.get(LocationRow, r.location_id)
            v = s.get(VersionRow, r.source_version_id) if r.source_version_id else None
            bg = s.get(BackgroundRow, v.background_id) if v is not None else None
            out[r.id] = {
                "location": loc.name if loc is not None else None,
                "bg": bg.name if bg is not None else None,
                "cuts": [c.number for c in bg.cuts] if bg is not None else [],
                "revision": v.revision if v is not None else None,
                "version_id": r.source_version_id,
                "retired": r.retired_at is not None,
                "retired_why": why.get(r.id, ""),
            }
        return out


def require_consent_chain(ctx: ServiceContext, board_id: int, what: str) -> None:
    """ConsentError unless every board of the location board ``board_id``'s chain still
    consents to derived use (a delivery of a render that used it checks this: ``what`` says which)."""
    with ctx.db.session() as s:
        row = s.get(ArtBoardRow, board_id)
        if row is None:
            raise NotFoundError(f"art board id {board_id} does not exist")
        problem = _chain_usable(s, row, retired_ok=True)
        if problem:
            raise ConsentError(
                f"{what} was painted from location board {row.name!r}: {problem}; nothing was exported"
            )


# -- delivery: credits and C2PA name everyone in the chain ------------------------------------


def location_board_uses(board: ArtBoardRow, cut: str) -> list[Any]:
    """Credits rows for a location board used for ``cut``: the painters of every board of its
    chain (with those boards and their licences) and the people who painted over it (with the
    location board itself)."""
    from haikei.provenance.credits import BoardUse

    out = [
        BoardUse(
            board=str(c["name"]),
            artist=str(c.get("artist") or "unknown"),
            cut=cut,
            licence=str(c.get("licence", "")),
        )
        for c in board.chain or []
    ]
    for p in board.painters or []:
        if p.get("role") == "paint_over":
            out.append(
                BoardUse(
                    board=p.get("board") or board.name, artist=str(p["name"]), cut=cut, licence=board.licence
                )
            )
    return out


def location_ingredient(ctx: ServiceContext, board: ArtBoardRow, mime: str) -> Any:
    """The C2PA ingredient of a location board: its image, with its own manifest (the steps that
    made the approved BG it is, and the boards of its chain as that manifest's ingredients)."""
    from haikei.provenance.c2pa_sign import EngineStep, HumanStep, IngredientSpec, ManifestSpec

    with ctx.db.session() as s:
        names = _display_names(s)
        v = s.get(VersionRow, board.source_version_id) if board.source_version_id else None
        steps: list[Any] = []
        for st in _lineage(s, v) if v is not None else []:
            if st.kind == "human":
                who = names.get(st.created_by, st.created_by) or "unknown"
                steps.append(
                    HumanStep(
                        artist=who,
                        changed_fraction=st.changed_share,
                        description=f"r{st.revision} paint-over",
                    )
                )
            else:
                r = dict(st.recipe or {})
                steps.append(
                    EngineStep(
                        engine=st.engine,
                        version=st.engine_version,
                        digital_source_type=str(r.get("digital_source_type", "")),
                        seed=r.get("seed"),
                        render_key=str(r.get("render_key", "")),
                        requested_by=names.get(st.created_by, st.created_by),
                        description=f"r{st.revision} {r.get('kind', 'render')}",
                    )
                )
        chain_rows = [s.get(ArtBoardRow, int(c["id"])) for c in board.chain or []]
        bg = s.get(BackgroundRow, v.background_id) if v is not None else None
        loc = s.get(LocationRow, board.location_id) if board.location_id else None
    from haikei.services.delivery import board_ingredient

    chain = tuple(board_ingredient(ctx, r) for r in chain_rows if r is not None)
    made_by = tuple(dict.fromkeys(str(p["name"]) for p in board.painters or []))
    own = ManifestSpec(
        title=board.name,
        steps=tuple(steps) or (HumanStep(artist=board.artist or "unknown"),),
        art_boards=chain,
        facts={
            "location": loc.name if loc is not None else "",
            "bg": bg.name if bg is not None else "",
            "revision": v.revision if v is not None else 0,
            "location_board": board.name,
        },
    )
    return IngredientSpec(
        title=board.name,
        source=ctx.blobs.get(board.image_blob),
        artist=board.artist or "unknown",
        role="art_board",
        licence=board.licence,
        format=mime,
        manifest=own,
        made_by=made_by,
    )

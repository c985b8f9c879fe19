"""What the review pages read and change about locations (舞台).

Reading for the overview's location filter, the cut page (its location, which versions carry a
paint-over whose painters must agree, which variant offers come from another cut's approved
variant) and the location page. The one change, putting a BG at a location or taking it off, goes
through :func:`haikei.services.locations.set_location` (one transaction); the rules live there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from haikei.domain.models import Role, User
from haikei.errors import PermissionDenied
from haikei.services.context import ServiceContext
from haikei.services.locations import _display_names, _lineage, set_location
from haikei.services.rendering import find_background
from haikei.services.review_variants import VariantOption
from haikei.store.tables import ArtBoardRow, BackgroundRow, LocationRow, VersionRow

__all__ = [
    "NO_LOCATION",
    "BgLocation",
    "bg_locations",
    "location_counts",
    "location_of",
    "paint_over_artists",
    "set_bg_location",
    "variant_sources",
]

NO_LOCATION = "-"  # the overview's filter value for BGs at no location


@dataclass(frozen=True)
class BgLocation:
    """A BG's location as its page shows it: the name, and every location's name to choose from."""

    name: str | None
    names: list[str]


def bg_locations(ctx: ServiceContext) -> dict[str, str]:
    """{BG name: its location's name} for every BG that has one."""
    with ctx.db.session() as s:
        rows = s.execute(
            select(BackgroundRow.name, LocationRow.name).join(
                LocationRow, LocationRow.id == BackgroundRow.location_id
            )
        )
        return {str(bg): str(loc) for bg, loc in rows}


def location_counts(bgs: list[str], where: dict[str, str]) -> dict[str, int]:
    """{location name: number of ``bgs`` there} (sorted by name), plus NO_LOCATION for the rest."""
    counts: dict[str, int] = {}
    for bg in bgs:
        key = where.get(bg, NO_LOCATION)
        counts[key] = counts.get(key, 0) + 1
    located = {k: counts[k] for k in sorted(counts) if k != NO_LOCATION}
    return {**located, NO_LOCATION: counts.get(NO_LOCATION, 0)}


def location_of(ctx: ServiceContext, ref: str) -> BgLocation:
    with ctx.db.session() as s:
        bg = find_background(s, ref)
        loc = s.get(LocationRow, bg.location_id) if bg.location_id else None
        names = list(s.scalars(select(LocationRow.name).order_by(LocationRow.name)))
        return BgLocation(loc.name if loc is not None else None, names)


def set_bg_location(ctx: ServiceContext, user: User, ref: str, name: str | None) -> str | None:
    """A person (artist or director) puts the BG at ``name`` (made if new) or takes it off its
    location (``None`` or blank); one transaction, a note in the BG's history."""
    if user.role not in (Role.artist, Role.director):
        raise PermissionDenied(
            f"{user.name} is a {user.role.value}: an artist or a director sets a BG's location"
        )
    clean = (name or "").strip()
    return set_location(ctx, ref, clean or None, actor=user.name)


def paint_over_artists(ctx: ServiceContext, version_ids: list[int]) -> dict[int, list[str]]:
    """{version id: display names of the people who painted over it or its ancestors} for the
    versions that carry a paint-over (the director confirms they agree when approving one of a
    located BG, see services/locations.py)."""
    out: dict[int, list[str]] = {}
    with ctx.db.session() as s:
        names = _display_names(s)
        for vid in version_ids:
            v = s.get(VersionRow, vid)
            if v is None:
                continue
            who: list[str] = []
            for step in _lineage(s, v):
                if step.kind == "human":
                    shown = names.get(step.created_by or "", step.created_by or "someone")
                    if shown not in who:
                        who.append(shown)
            if who:
                out[vid] = who
    return out


def variant_sources(ctx: ServiceContext, options: dict[str, VariantOption]) -> dict[str, str]:
    """{tag: words} for variant offers that re-vote over a location board's approved variant:
    "winter from c012's approved winter" (the season another cut of the place was given)."""
    out: dict[str, str] = {}
    with ctx.db.session() as s:
        for tag, o in options.items():
            if o.method != "revote" or not o.boards:
                continue
            froms: list[str] = []
            others: list[str] = []
            for board_name in o.boards:
                row = s.scalars(select(ArtBoardRow).where(ArtBoardRow.name == board_name)).first()
                if row is None or row.location_id is None or row.source_version_id is None:
                    others.append(board_name)
                    continue
                src = s.get(VersionRow, row.source_version_id)
                bg = s.get(BackgroundRow, src.background_id) if src is not None else None
                if bg is None:
                    others.append(board_name)
                    continue
                cut = bg.cuts[0].number if bg.cuts else bg.name
                froms.append(f"{cut}'s")
            if not froms:
                continue
            said = f"{tag} from {' and '.join(froms)} approved {tag}"
            if others:
                said += f" (and the {', '.join(repr(b) for b in others)} board's {tag} repaint)"
            out[tag] = said
    return out

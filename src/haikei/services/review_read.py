"""What the review pages read: cut cards for the overview, one BG's detail for its page.

Read models only; every change lives in :mod:`haikei.services.review`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from haikei.domain.models import Job, Note, Role, User, Version
from haikei.errors import InputError
from haikei.services.context import ServiceContext
from haikei.services.production import retake_counts
from haikei.services.rendering import find_background
from haikei.services.review_variants import VariantOption, tag_order, variant_options
from haikei.store.convert import to_background, to_job, to_layout, to_note, to_user, to_version
from haikei.store.tables import BackgroundRow, CutRow, JobRow, LayoutRow, NoteRow, UserRow, VersionRow

__all__ = ["UNASSIGNED", "BgDetail", "CutCard", "assignable_users", "bg_detail", "cut_cards", "variant_tags"]

SORTS = ("cut", "status", "retakes", "assignee")
UNASSIGNED = "-"  # the assignee filter value for cuts nobody is assigned to


@dataclass(frozen=True)
class CutCard:
    cut: str
    bg: str
    status: str
    status_name: str
    colour: str
    retakes: int
    assignee: str  # display name ("" when unassigned)
    assignee_name: str  # login name ("" when unassigned)
    lock_version: int
    layout_id: int | None
    labelled: bool
    current_version_id: int | None
    approved_version_id: int | None


@dataclass
class BgDetail:
    bg: Any  # domain Background
    status_name: str
    colour: str
    assignee: str
    assignee_name: str
    layout: Any | None  # domain Layout
    versions: list[Version] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    approved_variants: dict[int, Note] = field(default_factory=dict)  # variant version id -> approval note
    variant_options: dict[str, VariantOption] = field(default_factory=dict)

    @property
    def variant_tags(self) -> list[str]:
        return list(self.variant_options)

    @property
    def main_versions(self) -> list[Version]:
        return [v for v in self.versions if v.variant is None]

    @property
    def variants(self) -> list[Version]:
        """Variant versions as a set reads: seasons, then times of day; newest first per tag."""
        out = [v for v in self.versions if v.variant is not None]
        return sorted(out, key=lambda v: (tag_order(v.variant or ""), -v.revision))


def cut_cards(
    ctx: ServiceContext, *, status: str | None = None, sort: str = "cut", assignee: str | None = None
) -> list[CutCard]:
    """Every cut as a card for the overview. ``status`` filters by short name, ``assignee`` by
    login name ('-' for unassigned cuts); sort by cut, status, retakes or assignee."""
    if sort not in SORTS:
        raise InputError(f"sort {sort!r} is not one of {', '.join(SORTS)}")
    with ctx.db.session() as s:
        retakes = retake_counts(s)
        latest = {
            r.background_id: r
            for r in s.scalars(select(LayoutRow).order_by(LayoutRow.background_id, LayoutRow.revision))
        }
        users = {u.id: u for u in s.scalars(select(UserRow))}
        out = []
        for cut in s.scalars(select(CutRow).order_by(CutRow.number)):
            bg = s.get(BackgroundRow, cut.background_id) if cut.background_id else None
            if bg is None:
                continue
            if status and bg.status.short_name != status:
                continue
            who = users.get(bg.assignee_id) if bg.assignee_id else None
            if assignee and (who.name if who else UNASSIGNED) != assignee:
                continue
            lay = latest.get(bg.id)
            out.append(
                CutCard(
                    cut=cut.number,
                    bg=bg.name,
                    status=bg.status.short_name,
                    status_name=bg.status.name,
                    colour=bg.status.colour,
                    retakes=int(retakes.get(bg.id, 0)),
                    assignee=(who.display_name or who.name) if who else "",
                    assignee_name=who.name if who else "",
                    lock_version=bg.lock_version,
                    layout_id=lay.id if lay else None,
                    labelled=bool(lay and lay.labelled),
                    current_version_id=bg.current_version_id,
                    approved_version_id=bg.approved_version_id,
                )
            )
    if sort == "status":
        out.sort(key=lambda c: (c.status, c.cut))
    elif sort == "retakes":
        out.sort(key=lambda c: (-c.retakes, c.cut))
    elif sort == "assignee":
        out.sort(key=lambda c: (c.assignee_name == "", c.assignee.lower(), c.cut))
    return out


def assignable_users(ctx: ServiceContext) -> list[User]:
    """The people a BG can be assigned to: active artists and directors."""
    with ctx.db.session() as s:
        rows = s.scalars(
            select(UserRow)
            .where(UserRow.active, UserRow.role.in_((Role.artist.value, Role.director.value)))
            .order_by(UserRow.name)
        )
        return [to_user(r) for r in rows]


def variant_tags(ctx: ServiceContext, ref: str) -> dict[str, str]:
    """The tags a variant of BG ``ref`` can be made for, each with the method's words."""
    return {t: o.label for t, o in variant_options(ctx, ref).items()}


def bg_detail(ctx: ServiceContext, ref: str) -> BgDetail:
    with ctx.db.session() as s:
        bg = find_background(s, ref)
        lay = s.scalars(
            select(LayoutRow).where(LayoutRow.background_id == bg.id).order_by(LayoutRow.revision.desc())
        ).first()
        who = s.get(UserRow, bg.assignee_id) if bg.assignee_id else None
        versions = [
            to_version(v)
            for v in s.scalars(
                select(VersionRow)
                .where(VersionRow.background_id == bg.id)
                .order_by(VersionRow.revision.desc())
            )
        ]
        notes = [
            to_note(n)
            for n in s.scalars(
                select(NoteRow).where(NoteRow.background_id == bg.id).order_by(NoteRow.id.desc())
            )
        ]
        jobs = [
            to_job(j)
            for j in s.scalars(
                select(JobRow).where(JobRow.background_id == bg.id).order_by(JobRow.id.desc()).limit(20)
            )
        ]
        detail = BgDetail(
            bg=to_background(bg),
            status_name=bg.status.name,
            colour=bg.status.colour,
            assignee=(who.display_name or who.name) if who else "",
            assignee_name=who.name if who else "",
            layout=to_layout(lay) if lay else None,
            versions=versions,
            notes=notes,
            jobs=jobs,
        )
    variant_ids = {v.id for v in detail.variants}
    for n in reversed(detail.notes):  # oldest first: the latest verdict wins
        if n.version_id in variant_ids and n.status_change in ("approved", "retake"):
            if n.status_change == "approved":
                detail.approved_variants[n.version_id] = n
            else:
                detail.approved_variants.pop(n.version_id, None)
    if detail.bg.approved_version_id is not None:
        detail.variant_options = variant_options(ctx, detail.bg.name)
    return detail

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

__all__ = [
    "UNASSIGNED",
    "BgDetail",
    "CutCard",
    "all_cards",
    "assignable_users",
    "bg_detail",
    "cut_cards",
    "status_counts",
    "variant_tags",
]

SORTS = ("cut", "status", "retakes", "assignee", "changed")
UNASSIGNED = "-"  # the assignee filter value for cuts nobody is assigned to


@dataclass(frozen=True)
class CutCard:
    """One BG on the overview, with every cut it serves (a shared BG, 兼用, is one card)."""

    cut: str  # the first cut (the card's link)
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
    cuts: tuple[str, ...] = ()
    changed_at: str = ""  # ISO time of the last change (note, version or comment)
    delivery: str = ""  # "delivered r3" / "... needs re-delivery" / ""
    needs_redelivery: bool = False


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
    comments: list[Any] = field(default_factory=list)  # services.comments.Comment, oldest first
    delivery: Any | None = None  # services.states.DeliveryState of the last delivery
    status_names: dict[str, str] = field(default_factory=dict)  # short name -> name

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


def _all_cards(ctx: ServiceContext) -> list[CutCard]:
    from haikei.services.states import delivery_states, last_changes

    with ctx.db.session() as s:
        retakes = retake_counts(s)
        latest = {
            r.background_id: r
            for r in s.scalars(select(LayoutRow).order_by(LayoutRow.background_id, LayoutRow.revision))
        }
        users = {u.id: u for u in s.scalars(select(UserRow))}
        changed = last_changes(s)
        delivered = delivery_states(s)
        seen: set[int] = set()
        out = []
        for cut in s.scalars(select(CutRow).order_by(CutRow.number)):
            bg = s.get(BackgroundRow, cut.background_id) if cut.background_id else None
            if bg is None or bg.id in seen:
                continue
            seen.add(bg.id)
            who = users.get(bg.assignee_id) if bg.assignee_id else None
            lay = latest.get(bg.id)
            dl = delivered.get(bg.id)
            when = changed.get(bg.id)
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
                    cuts=tuple(c.number for c in bg.cuts),
                    changed_at=when.isoformat(timespec="seconds") if when else "",
                    delivery=dl.words if dl else "",
                    needs_redelivery=bool(dl and dl.needs_redelivery),
                )
            )
    return out


def status_counts(
    ctx: ServiceContext, *, assignee: str | None = None, cards: list[CutCard] | None = None
) -> dict[str, int]:
    """{status short name: number of BGs in it} (every status row, zero included), for the
    overview's filter chips; ``assignee`` narrows it like the overview's filter."""
    from haikei.services.states import status_names

    counts = dict.fromkeys(status_names(ctx), 0)
    for c in cards if cards is not None else _all_cards(ctx):
        if assignee and (c.assignee_name or UNASSIGNED) != assignee:
            continue
        counts[c.status] = counts.get(c.status, 0) + 1
    return counts


def cut_cards(
    ctx: ServiceContext,
    *,
    status: str | None = None,
    sort: str = "cut",
    assignee: str | None = None,
    cards: list[CutCard] | None = None,
) -> list[CutCard]:
    """Every BG as a card for the overview (one card per BG, listing its cuts). ``status``
    filters by short name, ``assignee`` by login name ('-' for unassigned BGs); sort by cut,
    status, retakes, assignee or changed (last change first)."""
    if sort not in SORTS:
        raise InputError(f"sort {sort!r} is not one of {', '.join(SORTS)}")
    out = [
        c
        for c in (cards if cards is not None else _all_cards(ctx))
        if (not status or c.status == status)
        and (not assignee or (c.assignee_name or UNASSIGNED) == assignee)
    ]
    if sort == "status":
        out.sort(key=lambda c: (c.status, c.cut))
    elif sort == "retakes":
        out.sort(key=lambda c: (-c.retakes, c.cut))
    elif sort == "assignee":
        out.sort(key=lambda c: (c.assignee_name == "", c.assignee.lower(), c.cut))
    elif sort == "changed":
        out.sort(key=lambda c: c.cut)
        out.sort(key=lambda c: c.changed_at, reverse=True)
    return out


def all_cards(ctx: ServiceContext) -> list[CutCard]:
    """Every BG's card, unfiltered (read once, then filter and count with cut_cards / status_counts)."""
    return _all_cards(ctx)


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
    from haikei.services.comments import comments_of
    from haikei.services.states import delivery_states, status_names

    detail.comments = comments_of(ctx, detail.bg.name)
    detail.status_names = status_names(ctx)
    with ctx.db.session() as s:
        detail.delivery = delivery_states(s, [detail.bg.id]).get(detail.bg.id)
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

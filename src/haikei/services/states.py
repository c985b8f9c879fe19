"""BG states that follow the work: rendered candidates wait for review, a new version waits
again, an export of the approved version is a delivery, and a later change shows that the BG
needs delivering again.

Statuses stay data (rows of ``review_statuses``); which row each event moves a BG to is the
production's ``[review]`` section of haikei.toml (``rendered``, ``new_version``, ``delivered``).
Every move is recorded as a note (who, when, on which version) in the same transaction as the
change that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from haikei.errors import ConfigError
from haikei.services.context import ServiceContext
from haikei.store.tables import (
    BackgroundRow,
    CommentRow,
    DeliveryRow,
    NoteRow,
    ReviewStatusRow,
    VersionRow,
)

__all__ = [
    "DeliveryState",
    "delivery_states",
    "last_changes",
    "mark_delivered",
    "status_names",
    "status_row",
    "version_arrived",
]


def status_row(s: Any, short: str, setting: str = "") -> ReviewStatusRow:
    """The status row with short name ``short``; a missing one is a configuration error that
    names the haikei.toml field it came from."""
    row = s.scalars(select(ReviewStatusRow).where(ReviewStatusRow.short_name == short)).first()
    if row is None:
        have = ", ".join(s.scalars(select(ReviewStatusRow.short_name).order_by(ReviewStatusRow.id)))
        where = f"haikei.toml [review] {setting} = {short!r}" if setting else f"status {short!r}"
        raise ConfigError(f"{where}: no such review status (defined: {have}); use one of those")
    return row


def status_names(ctx: ServiceContext) -> dict[str, str]:
    """{short name: name} of every status, for showing status codes as words."""
    with ctx.db.session() as s:
        return {r.short_name: r.name for r in s.scalars(select(ReviewStatusRow).order_by(ReviewStatusRow.id))}


def _move(
    s: Any,
    bg: BackgroundRow,
    row: ReviewStatusRow,
    author: str,
    text: str,
    version_id: int,
    *,
    bump: bool = True,
) -> None:
    bg.status_id = row.id
    bg.status = row
    if bump:
        bg.lock_version += 1
    s.add(
        NoteRow(
            background_id=bg.id,
            version_id=version_id,
            author=author or "haikei",
            text=text,
            status_change=row.short_name,
        )
    )


def version_arrived(
    ctx: ServiceContext, s: Any, bg: BackgroundRow, row: VersionRow, kind: str, actor: str
) -> None:
    """Called inside the transaction that stores a rendered version (services.rendering.commit).

    - candidates (kind ``render``, not a variant) of a BG still to do / in progress: the BG now
      waits for review (``[review] rendered``);
    - a retake or refine that arrived: the BG waits for review again (``[review] new_version``),
      unless it already is in that state."""
    conf = ctx.settings.review
    st = bg.status
    if row.variant is not None:
        return
    if kind == "render":
        if st.is_feedback_request or st.is_retake or st.is_approved or st.is_done:
            return
        target = status_row(s, conf.rendered, "rendered")
        if target.id != bg.status_id:
            # no lock bump: arriving candidates overwrite no one's decision (a page opened before
            # still picks or approves what it showed)
            _move(
                s,
                bg,
                target,
                actor,
                f"candidates rendered (r{row.revision}): waiting for review",
                row.id,
                bump=False,
            )
    elif kind in ("retake", "refine"):
        target = status_row(s, conf.new_version, "new_version")
        if target.id != bg.status_id:
            _move(s, bg, target, actor, f"{kind} rendered as r{row.revision}: waiting for review", row.id)
            from haikei.services.locations import on_left_approved  # a refine of an approved BG reopens it

            on_left_approved(s, bg, actor, f"was reopened by a {kind} (r{row.revision})")


def mark_delivered(ctx: ServiceContext, plan: Iterable[Any], folder: str | Path) -> None:
    """Called by services.delivery.export once its files are in place: one delivery row per BG;
    a BG whose approved version was delivered moves to ``[review] delivered``."""
    items = list(plan)
    if not items:
        return
    with ctx.db.immediate() as s:
        target = status_row(s, ctx.settings.review.delivered, "delivered")
        for d in items:
            bg = s.get(BackgroundRow, int(d.bg_id))
            if bg is None:
                continue
            approved = bg.approved_version_id is not None and bg.approved_version_id == int(d.version_id)
            s.add(
                DeliveryRow(
                    background_id=bg.id,
                    version_id=int(d.version_id),
                    folder=str(Path(folder).resolve()),
                    file=f"{d.stem}.png",
                    approved=approved,
                )
            )
            if approved and bg.status_id != target.id:
                _move(s, bg, target, "export", f"delivered r{d.revision} as {d.stem}.png", int(d.version_id))


@dataclass(frozen=True)
class DeliveryState:
    """The last delivery of a BG and whether the BG changed since."""

    version_id: int
    revision: int
    file: str
    folder: str
    at: datetime
    approved: bool
    needs_redelivery: bool  # delivered, but the approved/current version or the state moved on

    @property
    def words(self) -> str:
        if self.needs_redelivery:
            return f"delivered r{self.revision}, changed since: needs re-delivery"
        return f"delivered r{self.revision}" + ("" if self.approved else " (not approved)")


def delivery_states(s: Any, bg_ids: Iterable[int] | None = None) -> dict[int, DeliveryState]:
    """{BG id: its last delivery} for BGs that were ever delivered."""
    q = select(DeliveryRow).order_by(DeliveryRow.id)
    ids = list(bg_ids) if bg_ids is not None else None
    if ids is not None:
        if not ids:
            return {}
        q = q.where(DeliveryRow.background_id.in_(ids))
    last: dict[int, DeliveryRow] = {}
    for r in s.scalars(q):
        last[r.background_id] = r
    out: dict[int, DeliveryState] = {}
    for bg_id, r in last.items():
        bg = s.get(BackgroundRow, bg_id)
        v = s.get(VersionRow, r.version_id)
        if bg is None or v is None:
            continue
        now_id = bg.approved_version_id or bg.current_version_id
        # the version that would be delivered now is another one, or an approved delivery's BG left
        # approved/delivered (a retake); a delivery of an unapproved version moves only with its version
        moved = now_id != r.version_id or (r.approved and not (bg.status.is_approved or bg.status.is_done))
        out[bg_id] = DeliveryState(
            version_id=r.version_id,
            revision=v.revision,
            file=r.file,
            folder=r.folder,
            at=r.created_at,
            approved=r.approved,
            needs_redelivery=bool(moved),
        )
    return out


def last_changes(s: Any) -> dict[int, datetime]:
    """{BG id: time of its last change}: the latest note, version or comment."""
    out: dict[int, datetime] = {}
    for table in (NoteRow, VersionRow, CommentRow):
        rows = s.execute(
            select(table.background_id, func.max(table.created_at)).group_by(table.background_id)
        ).all()
        for bg_id, when in rows:
            if when is not None and (bg_id not in out or when > out[bg_id]):
                out[int(bg_id)] = when
    for bg_id, when in s.execute(select(BackgroundRow.id, BackgroundRow.created_at)).all():
        out.setdefault(int(bg_id), when)
    return out

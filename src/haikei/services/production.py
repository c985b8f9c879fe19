"""Creating a production folder and summarising its state."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from haikei.domain.models import DEFAULT_STATUSES
from haikei.services.context import ServiceContext
from haikei.store.tables import (
    ArtBoardRow,
    BackgroundRow,
    CutRow,
    JobRow,
    NoteRow,
    ProductionRow,
    ReviewStatusRow,
    VersionRow,
)

__all__ = ["production_status", "seed_production"]


def seed_production(ctx: ServiceContext) -> None:
    """Migrate the schema and add the production row and the default review statuses (idempotent)."""
    ctx.db.migrate()
    p = ctx.settings.production
    with ctx.db.session() as s:
        if s.scalar(select(func.count()).select_from(ProductionRow)) == 0:
            s.add(ProductionRow(name=p.name, width=p.width, height=p.height, episode=p.episode))
        have = set(s.scalars(select(ReviewStatusRow.short_name)))
        for st in DEFAULT_STATUSES:
            if st.short_name not in have:
                s.add(
                    ReviewStatusRow(
                        short_name=st.short_name,
                        name=st.name,
                        is_wip=st.is_wip,
                        is_retake=st.is_retake,
                        is_feedback_request=st.is_feedback_request,
                        is_approved=st.is_approved,
                        is_done=st.is_done,
                        colour=st.colour,
                    )
                )
    ctx.blobs.root.mkdir(parents=True, exist_ok=True)


def retake_counts(s: Any) -> dict[int, int]:
    """{background id: number of retakes asked for} (notes that moved a BG to 'retake')."""
    rows = s.execute(
        select(NoteRow.background_id, func.count())
        .where(NoteRow.status_change == "retake")
        .group_by(NoteRow.background_id)
    ).all()
    return {int(bg): int(n) for bg, n in rows}


def production_status(ctx: ServiceContext) -> dict[str, Any]:
    """Counts and per-BG state, for `haikei status` and the overview page."""
    with ctx.db.session() as s:
        prod = s.scalars(select(ProductionRow)).first()
        bgs = s.scalars(select(BackgroundRow).order_by(BackgroundRow.name)).unique().all()
        version_counts = dict(
            s.execute(select(VersionRow.background_id, func.count()).group_by(VersionRow.background_id)).all()
        )
        retakes = retake_counts(s)
        job_states = dict(s.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all())
        from haikei.services.states import delivery_states  # review states (review loop)

        delivered = delivery_states(s)
        from haikei.services.review_variants import needs_paint_over_again

        redo = needs_paint_over_again(s)
        # what the engine flagged on each current version ("tree: no board shows it; painted from a
        # derived palette"): the engine recipe's "flags"
        current_ids = [bg.current_version_id for bg in bgs if bg.current_version_id is not None]
        flags: dict[int, dict[str, str]] = {
            vid: dict(((recipe or {}).get("engine_recipe") or {}).get("flags") or {})
            for vid, recipe in s.execute(
                select(VersionRow.id, VersionRow.recipe).where(VersionRow.id.in_(current_ids))
            )
        }
        rows = []
        for bg in bgs:
            rows.append(
                {
                    "bg": bg.name,
                    "cuts": [c.number for c in bg.cuts],
                    "size": f"{bg.width}x{bg.height}",
                    "status": bg.status.short_name,
                    "status_name": bg.status.name,
                    "delivery": delivered[bg.id].words if bg.id in delivered else "",
                    "needs_redelivery": bool(bg.id in delivered and delivered[bg.id].needs_redelivery),
                    "variants_needing_paint_over": redo.get(bg.id, []),
                    "versions": int(version_counts.get(bg.id, 0)),
                    "retakes": int(retakes.get(bg.id, 0)),
                    "current_version_id": bg.current_version_id,
                    "approved_version_id": bg.approved_version_id,
                    "direction": bg.direction_text,
                    "flags": flags.get(bg.current_version_id or 0, {}),
                }
            )
        return {
            "production": {
                "name": prod.name if prod else ctx.settings.production.name,
                "frame": f"{ctx.settings.production.width}x{ctx.settings.production.height}",
                "episode": ctx.settings.production.episode,
                "root": str(ctx.root),
                "database": ctx.db.dialect,
            },
            "counts": {
                "cuts": int(s.scalar(select(func.count()).select_from(CutRow)) or 0),
                "backgrounds": len(bgs),
                "artboards": int(s.scalar(select(func.count()).select_from(ArtBoardRow)) or 0),
                "versions": int(sum(version_counts.values())),
                "jobs": {str(k): int(v) for k, v in job_states.items()},
            },
            "backgrounds": rows,
        }

"""Delivery from the review page: an export as a job (the same :func:`services.delivery.export`
that ``haikei export`` runs), what was delivered with a way to verify each file, and the credits
(the same data as ``haikei credits``).

An export job is a row (``export_jobs``): asked for (pending), running, then done with the files
it wrote, or failed with the one-line reason. The web app runs it after answering (a background
task), so the page can show its progress; a server that stops mid-export leaves it 'running', and
:func:`export_job` reports such a job as failed once it is older than ``STALE_AFTER``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from haikei.domain.models import User
from haikei.errors import HaikeiError, InputError, NotFoundError
from haikei.services.context import ServiceContext
from haikei.services.users import require
from haikei.store.tables import BackgroundRow, DeliveryRow, ExportJobRow, VersionRow, utcnow

__all__ = [
    "DeliveredFile",
    "credits_text",
    "delivered_files",
    "delivery_folder",
    "export_job",
    "run_export",
    "start_export",
    "verify_delivered",
]

STALE_AFTER = timedelta(hours=2)
_PLAIN = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def delivery_folder(ctx: ServiceContext) -> Path:
    """The production's delivery folder for exports from the page (haikei.toml [review] delivery_folder)."""
    p = Path(ctx.settings.review.delivery_folder)
    return p if p.is_absolute() else ctx.root / p


def _job_json(r: ExportJobRow) -> dict[str, Any]:
    state = r.state
    error = r.error
    if state == "running" and r.created_at and utcnow() - r.created_at > STALE_AFTER:
        state, error = "failed", "the server stopped during this export; export again"
    return {
        "id": r.id,
        "state": state,
        "final": state in ("done", "failed"),
        "progress": 1.0 if state == "done" else r.progress,
        "message": r.message,
        "error": error,
        "cuts": list(r.params.get("cuts") or []),
        "only_approved": bool(r.params.get("only_approved")),
        "folder": str(r.params.get("folder", "")),
        "requested_by": r.requested_by,
        "delivered": list(r.result.get("delivered") or []),
        "skipped": list(r.result.get("skipped") or []),
        "files": list(r.result.get("files") or []),
        "created_at": r.created_at.isoformat(timespec="seconds") if r.created_at else None,
        "finished_at": r.finished_at.isoformat(timespec="seconds") if r.finished_at else None,
    }


def start_export(
    ctx: ServiceContext, user: User, cuts: list[str] | None = None, *, only_approved: bool = True
) -> dict[str, Any]:
    """Ask for an export of ``cuts`` (default: every BG; approved ones only unless told) to the
    delivery folder. Checked now (the same plan the export makes: something to deliver, consent,
    engines), so a request that cannot succeed stores nothing."""
    from haikei.services.delivery import delivery_plan

    require(user, "deliver")
    refs = [c.strip() for c in cuts or [] if c.strip()] or None
    plan, skipped = delivery_plan(ctx, refs, only_approved=only_approved)
    if not plan:
        raise InputError(
            "nothing to deliver: "
            + (", ".join(f"{b} ({r})" for b, r in skipped) or "the production has no BGs")
        )
    with ctx.db.session() as s:
        row = ExportJobRow(
            state="pending",
            params={
                "cuts": refs or [],
                "only_approved": only_approved,
                "folder": str(delivery_folder(ctx)),
                "bgs": [d.bg for d in plan],
            },
            message=f"waiting to export {len(plan)} BG{'s' if len(plan) != 1 else ''}",
            requested_by=user.name,
        )
        s.add(row)
        s.flush()
        return _job_json(row)


def run_export(ctx: ServiceContext, job_id: int) -> dict[str, Any]:
    """Run an asked-for export (once: a job that is not pending is left alone)."""
    from haikei.services.delivery import export

    with ctx.db.immediate() as s:
        row = s.get(ExportJobRow, int(job_id))
        if row is None:
            raise NotFoundError(f"export {job_id} does not exist")
        if row.state != "pending":
            return _job_json(row)
        row.state = "running"
        row.progress = 0.1
        n = len(row.params.get("bgs") or [])
        row.message = f"exporting {n} BG{'s' if n != 1 else ''}: PNG + PSD, signed"
        params = dict(row.params)
        actor = row.requested_by
    with ctx.db.session() as s:
        before = s.scalar(select(DeliveryRow.id).order_by(DeliveryRow.id.desc()).limit(1)) or 0
    try:
        res = export(
            ctx,
            params["folder"],
            cuts=list(params.get("cuts") or []) or None,
            only_approved=bool(params["only_approved"]),
        )
    except HaikeiError as exc:
        with ctx.db.session() as s:
            row = s.get(ExportJobRow, int(job_id))
            assert row is not None
            row.state, row.error, row.finished_at = "failed", str(exc), utcnow()
            row.message = "export failed; nothing was moved into the delivery folder"
            return _job_json(row)
    except Exception as exc:  # an unexpected failure still ends the job, with what it was
        with ctx.db.session() as s:
            row = s.get(ExportJobRow, int(job_id))
            assert row is not None
            row.state, row.error, row.finished_at = "failed", f"{type(exc).__name__}: {exc}", utcnow()
            return _job_json(row)
    with ctx.db.session() as s:
        for d in s.scalars(
            select(DeliveryRow).where(DeliveryRow.id > before, DeliveryRow.delivered_by == "")
        ):
            d.delivered_by = actor
        row = s.get(ExportJobRow, int(job_id))
        assert row is not None
        row.state, row.progress, row.finished_at = "done", 1.0, utcnow()
        row.message = f"delivered {len(res.delivered)} BGs ({len(res.files)} files)"
        row.result = {
            "delivered": [dict(d) for d in res.delivered],
            "skipped": [{"bg": b, "reason": r} for b, r in res.skipped],
            "files": [p.name for p in res.files],
        }
        return _job_json(row)


def export_job(ctx: ServiceContext, job_id: int) -> dict[str, Any]:
    with ctx.db.session() as s:
        row = s.get(ExportJobRow, int(job_id))
        if row is None:
            raise NotFoundError(f"export {job_id} does not exist")
        return _job_json(row)


def export_jobs(ctx: ServiceContext, limit: int = 10) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        return [
            _job_json(r)
            for r in s.scalars(select(ExportJobRow).order_by(ExportJobRow.id.desc()).limit(limit))
        ]


@dataclass(frozen=True)
class DeliveredFile:
    id: int
    bg: str
    revision: int
    file: str
    folder: str
    approved: bool
    delivered_by: str
    at: datetime | None
    current: bool  # the BG's latest delivery
    needs_redelivery: bool
    exists: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "bg": self.bg,
            "revision": self.revision,
            "file": self.file,
            "folder": self.folder,
            "approved": self.approved,
            "delivered_by": self.delivered_by,
            "at": self.at.isoformat(timespec="seconds") if self.at else None,
            "current": self.current,
            "needs_redelivery": self.needs_redelivery,
            "exists": self.exists,
            "file_url": f"/delivery/{self.id}/file",
            "verify_url": f"/api/deliveries/{self.id}/verify",
        }


def delivered_files(ctx: ServiceContext, limit: int = 500) -> list[DeliveredFile]:
    """What was delivered, newest first, each with whether the BG changed since."""
    from haikei.services.states import delivery_states

    with ctx.db.session() as s:
        states = delivery_states(s)
        rows = list(s.scalars(select(DeliveryRow).order_by(DeliveryRow.id.desc()).limit(limit)))
        latest: dict[int, int] = {}
        for r in rows:
            latest.setdefault(r.background_id, r.id)
        out = []
        for r in rows:
            bg = s.get(BackgroundRow, r.background_id)
            v = s.get(VersionRow, r.version_id)
            st = states.get(r.background_id)
            out.append(
                DeliveredFile(
                    id=r.id,
                    bg=bg.name if bg else "?",
                    revision=v.revision if v else 0,
                    file=r.file,
                    folder=r.folder,
                    approved=r.approved,
                    delivered_by=r.delivered_by or "haikei export",
                    at=r.created_at,
                    current=latest.get(r.background_id) == r.id,
                    needs_redelivery=bool(st and st.needs_redelivery and latest.get(r.background_id) == r.id),
                    exists=(Path(r.folder) / r.file).is_file(),
                )
            )
        return out


def delivered_path(ctx: ServiceContext, delivery_id: int) -> Path:
    """The file of a delivery row (only files that rows name are ever served)."""
    with ctx.db.session() as s:
        r = s.get(DeliveryRow, int(delivery_id))
        if r is None:
            raise NotFoundError(f"delivery {delivery_id} does not exist")
        folder, name = r.folder, r.file
    if not name or not set(name) <= _PLAIN or name.startswith("."):
        raise NotFoundError(f"delivery {delivery_id}: {name!r} is not a plain file name")
    p = Path(folder) / name
    if not p.is_file():
        raise NotFoundError(f"{p} is no longer there; export again")
    return p


def verify_delivered(ctx: ServiceContext, delivery_id: int) -> dict[str, Any]:
    """Check a delivered PNG's Content Credentials with the production's root certificate
    (as ``haikei verify`` does): ``{"valid": bool, "text": ..., "report": {...}}``."""
    from haikei.provenance.c2pa_sign import verify
    from haikei.provenance.keys import ROOT_CERT_FILE

    p = delivered_path(ctx, delivery_id)
    root = ctx.root / "keys" / ROOT_CERT_FILE
    report = verify(p, trust_anchors=root.read_bytes() if root.is_file() else None)
    return {
        "file": p.name,
        "valid": bool(report.valid),
        "text": report.format_text(),
        "report": report.to_dict(),
    }


def credits_text(ctx: ServiceContext, fmt: str = "text", cuts: list[str] | None = None) -> str:
    """The credits as ``haikei credits --format FMT`` prints them."""
    from haikei.provenance.credits import build_credits, format_credits
    from haikei.services.delivery import credits_input

    if fmt not in ("text", "csv", "json"):
        raise InputError(f"format {fmt!r}: use text, csv or json")
    return format_credits(build_credits(credits_input(ctx, cuts)), fmt)

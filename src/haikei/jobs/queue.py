"""The durable render queue: jobs are rows in the production database, nothing lives in memory.

States: ``pending`` -> ``running`` -> ``done`` | ``failed`` | ``canceled`` (``running`` goes back
to ``pending`` when its worker stops heartbeating and attempts are left).

- **Claiming is atomic.** SQLite: the claim is one ``BEGIN IMMEDIATE`` transaction (one writer at
  a time); PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``, so claimers never wait on each other
  and never take the same row. Each claim counts an attempt; the attempt number fences the
  claim (a worker whose job was re-queued can no longer finish it).
- **Order.** Higher ``priority`` first, then retakes, then the earliest cut due date (copied from
  the BG's cuts at submit), then submission order.
- **Liveness.** A running job's worker writes ``heartbeat_at`` every few seconds;
  :func:`requeue_stale` puts jobs whose heartbeat is older than a timeout back to ``pending``
  (or ``failed`` once ``max_attempts`` is spent). Clocks of the workers must agree to within a
  small part of that timeout (NTP).
- **No duplicates.** :func:`submit` returns the existing job when the same render key is already
  pending, running or done; a unique index on (BG, render key) makes a second version impossible.
- **Finishing** happens inside :func:`haikei.services.rendering.commit`'s transaction (see
  :func:`finish_in`), after the blob is written: a job is done exactly when its version exists.

See specs/queue.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import case, func, select, text, update
from sqlalchemy.engine import CursorResult

from haikei.domain.models import Job, JobState, Version
from haikei.errors import ConflictError, NotFoundError
from haikei.services.context import ServiceContext
from haikei.services.rendering import RenderSpec, find_background, plan
from haikei.store.convert import to_job
from haikei.store.tables import BackgroundRow, CutRow, JobRow, VersionRow, utcnow

__all__ = [
    "ACTIVE_STATES",
    "DEFAULT_MAX_ATTEMPTS",
    "FINAL_STATES",
    "LeaseLost",
    "cancel",
    "cancel_all",
    "claim",
    "claim_batch",
    "counts",
    "fail",
    "finish_in",
    "get_job",
    "heartbeat",
    "job_rows",
    "list_jobs",
    "mark_canceled",
    "release",
    "requeue_stale",
    "retry",
    "submit",
]

ACTIVE_STATES = (JobState.pending.value, JobState.running.value)
FINAL_STATES = (JobState.done.value, JobState.failed.value, JobState.canceled.value)
DEFAULT_MAX_ATTEMPTS = 3


class LeaseLost(ConflictError):
    """The job is no longer this worker's (re-queued after a missed heartbeat, or canceled)."""


def _claim_order() -> list[Any]:
    return [
        JobRow.priority.desc(),
        case((JobRow.kind == "retake", 0), else_=1),
        case((JobRow.due_at.is_(None), 1), else_=0),
        JobRow.due_at.asc(),
        JobRow.id.asc(),
    ]


def _lock_render_key(s: Any, key: str) -> None:
    """Serialise submits of the same render key (PostgreSQL; SQLite's immediate tx already does)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": key})


# -- submitting -------------------------------------------------------------------------------


def submit(
    ctx: ServiceContext,
    spec: RenderSpec,
    *,
    priority: int = 0,
    requested_by: str = "",
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Job:
    """Queue one render. Refuses a request the service would refuse (unlabelled layout, an engine
    off the allow-list ...) now rather than on a worker. The same render key already pending,
    running or done returns that job; an already stored version makes a job that is done at once."""
    # 1. validate against the database and compute the render key (decodes no image)
    prep = plan(ctx, spec)
    # 2. one transaction: dedupe, then insert
    with ctx.db.immediate() as s:
        _lock_render_key(s, prep.render_key)
        same = s.scalars(
            select(JobRow)
            .where(
                JobRow.background_id == prep.background_id,
                JobRow.render_key == prep.render_key,
                JobRow.state.in_((*ACTIVE_STATES, JobState.done.value)),
            )
            .order_by(JobRow.id.desc())
        ).first()
        if same is not None:
            return to_job(same)
        version_id = s.scalar(
            select(VersionRow.id).where(
                VersionRow.background_id == prep.background_id, VersionRow.render_key == prep.render_key
            )
        )
        due = s.scalar(select(func.min(CutRow.due_date)).where(CutRow.background_id == prep.background_id))
        now = utcnow()
        row = JobRow(
            kind=spec.kind,
            background_id=prep.background_id,
            state=JobState.done.value if version_id else JobState.pending.value,
            priority=int(priority),
            attempts=0,
            max_attempts=int(max_attempts),
            params=spec.to_params(),
            render_key=prep.render_key,
            engine=spec.engine,
            due_at=due,
            progress=1.0 if version_id else 0.0,
            message=f"already rendered as version {version_id}" if version_id else "queued",
            result_version_ids=[version_id] if version_id else [],
            requested_by=requested_by,
            created_at=now,
            finished_at=now if version_id else None,
        )
        s.add(row)
        s.flush()
        return to_job(row)


# -- reading ----------------------------------------------------------------------------------


def get_job(ctx: ServiceContext, job_id: int) -> Job:
    with ctx.db.session() as s:
        row = s.get(JobRow, job_id)
        if row is None:
            raise NotFoundError(f"no job {job_id}; see 'haikei jobs'")
        return to_job(row)


def _filtered(s: Any, states: Iterable[str] | None, background: str | None, ids: Iterable[int] | None) -> Any:
    q = select(JobRow)
    if states is not None:
        q = q.where(JobRow.state.in_([JobState(x).value for x in states]))
    if background is not None:
        q = q.where(JobRow.background_id == find_background(s, background).id)
    if ids is not None:
        q = q.where(JobRow.id.in_(list(ids)))
    return q.order_by(JobRow.id)


def list_jobs(
    ctx: ServiceContext,
    states: Iterable[str] | None = None,
    background: str | None = None,
    *,
    ids: Iterable[int] | None = None,
) -> list[Job]:
    """Jobs in submission order, optionally only some states, one BG (or cut), or given ids."""
    with ctx.db.session() as s:
        return [to_job(r) for r in s.scalars(_filtered(s, states, background, ids))]


def job_rows(
    ctx: ServiceContext,
    states: Iterable[str] | None = None,
    background: str | None = None,
    *,
    ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Like :func:`list_jobs` with every column a person or script may want (``haikei jobs``)."""
    with ctx.db.session() as s:
        names = dict(s.execute(select(BackgroundRow.id, BackgroundRow.name)).all())
        out = []
        for r in s.scalars(_filtered(s, states, background, ids)):
            out.append(
                {
                    "id": r.id,
                    "kind": r.kind,
                    "bg": names.get(r.background_id, str(r.background_id)),
                    "engine": r.engine,
                    "candidate": (r.params or {}).get("candidate"),
                    "seed": (r.params or {}).get("seed"),
                    "state": r.state,
                    "priority": r.priority,
                    "due_at": r.due_at,
                    "attempts": r.attempts,
                    "max_attempts": r.max_attempts,
                    "claimed_by": r.claimed_by,
                    "heartbeat_at": r.heartbeat_at,
                    "progress": r.progress,
                    "message": r.message,
                    "error": r.error,
                    "cancel_requested": r.cancel_requested,
                    "result_version_ids": list(r.result_version_ids or []),
                    "requested_by": r.requested_by,
                    "created_at": r.created_at,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                }
            )
        return out


def counts(ctx: ServiceContext, ids: Iterable[int] | None = None) -> dict[str, int]:
    """{state: number of jobs} (of the given ids, or all)."""
    with ctx.db.session() as s:
        q = select(JobRow.state, func.count()).group_by(JobRow.state)
        if ids is not None:
            q = q.where(JobRow.id.in_(list(ids)))
        return {state: int(n) for state, n in s.execute(q).all()}


# -- control ----------------------------------------------------------------------------------


def cancel(ctx: ServiceContext, job_id: int) -> Job:
    """A pending job is canceled at once; a running one is asked to stop (its worker's next
    heartbeat sets the engine's cancel event). A finished job cannot be canceled."""
    with ctx.db.immediate() as s:
        row = s.scalars(select(JobRow).where(JobRow.id == job_id).with_for_update()).first()
        if row is None:
            raise NotFoundError(f"no job {job_id}; see 'haikei jobs'")
        if row.state in FINAL_STATES:
            raise ConflictError(f"job {job_id} is already {row.state}; nothing to cancel")
        _cancel_row(row)
        return to_job(row)


def cancel_all(ctx: ServiceContext) -> list[Job]:
    """Cancel every pending and running job; returns them."""
    with ctx.db.immediate() as s:
        rows = s.scalars(select(JobRow).where(JobRow.state.in_(ACTIVE_STATES)).with_for_update()).all()
        for row in rows:
            _cancel_row(row)
        return [to_job(r) for r in rows]


def _cancel_row(row: JobRow) -> None:
    row.cancel_requested = True
    if row.state == JobState.pending.value:
        row.state = JobState.canceled.value
        row.finished_at = utcnow()
        row.message = "canceled before it started"
    else:
        row.message = "cancel requested"


def retry(ctx: ServiceContext, job_id: int) -> Job:
    """Put a failed or canceled job back in the queue with fresh attempts. If the same render is
    already pending, running or done in another job, that job is returned instead."""
    with ctx.db.immediate() as s:
        row = s.scalars(select(JobRow).where(JobRow.id == job_id).with_for_update()).first()
        if row is None:
            raise NotFoundError(f"no job {job_id}; see 'haikei jobs'")
        if row.state not in (JobState.failed.value, JobState.canceled.value):
            raise ConflictError(f"job {job_id} is {row.state}; only failed or canceled jobs can be retried")
        _lock_render_key(s, row.render_key)
        other = s.scalars(
            select(JobRow).where(
                JobRow.id != row.id,
                JobRow.background_id == row.background_id,
                JobRow.render_key == row.render_key,
                JobRow.state.in_((*ACTIVE_STATES, JobState.done.value)),
            )
        ).first()
        if other is not None:
            return to_job(other)
        row.state = JobState.pending.value
        row.attempts = 0
        row.cancel_requested = False
        row.claimed_by = None
        row.heartbeat_at = None
        row.progress = 0.0
        row.error = ""
        row.message = "queued again (retry)"
        row.finished_at = None
        return to_job(row)


# -- workers ----------------------------------------------------------------------------------


def claim(ctx: ServiceContext, worker_id: str, *, engines: Iterable[str] | None = None) -> Job | None:
    """Take the next pending job (for one of ``engines``, or any); None when there is none."""
    jobs = claim_batch(ctx, worker_id, engines=engines, limit=1)
    return jobs[0] if jobs else None


def claim_batch(
    ctx: ServiceContext, worker_id: str, *, engines: Iterable[str] | None = None, limit: int = 1
) -> list[Job]:
    """Take up to ``limit`` pending jobs that use the same engine as the first one in claim order
    (a GPU actor renders them back to back with its model loaded). Atomic: no job is ever
    claimed by two workers."""
    engine_list = list(engines) if engines is not None else None
    with ctx.db.immediate() as s:
        q = select(JobRow).where(JobRow.state == JobState.pending.value)
        if engine_list is not None:
            q = q.where(JobRow.engine.in_(engine_list))
        head = s.scalars(q.order_by(*_claim_order()).limit(1).with_for_update(skip_locked=True)).first()
        if head is None:
            return []
        rows = [head]
        if limit > 1:
            more = s.scalars(
                select(JobRow)
                .where(
                    JobRow.state == JobState.pending.value, JobRow.engine == head.engine, JobRow.id != head.id
                )
                .order_by(*_claim_order())
                .limit(limit - 1)
                .with_for_update(skip_locked=True)
            ).all()
            rows.extend(more)
        now = utcnow()
        for r in rows:
            r.state = JobState.running.value
            r.claimed_by = worker_id
            r.attempts = r.attempts + 1
            r.heartbeat_at = now
            r.started_at = now
            r.progress = 0.0
            r.message = f"attempt {r.attempts} on {worker_id}"
        s.flush()
        return [to_job(r) for r in rows]


def _owned(job_id: int, worker_id: str, attempt: int | None) -> list[Any]:
    cond = [JobRow.id == job_id, JobRow.claimed_by == worker_id, JobRow.state == JobState.running.value]
    if attempt is not None:
        cond.append(JobRow.attempts == attempt)
    return cond


def heartbeat(
    ctx: ServiceContext,
    job_id: int,
    worker_id: str,
    progress: float,
    message: str = "",
    *,
    attempt: int | None = None,
) -> bool:
    """Record that the worker is alive and how far it is. Returns True when the worker should
    stop: cancel was requested, or the job is no longer its own (re-queued, finished elsewhere)."""
    with ctx.db.session() as s:
        res = s.execute(
            update(JobRow)
            .where(*_owned(job_id, worker_id, attempt))
            .values(
                heartbeat_at=utcnow(), progress=max(0.0, min(1.0, float(progress))), message=message[:500]
            )
        )
        if cast(CursorResult[Any], res).rowcount == 0:
            return True
        return bool(s.scalar(select(JobRow.cancel_requested).where(JobRow.id == job_id)))


def finish_in(job_id: int, worker_id: str, attempt: int) -> Callable[[Any, Version], None]:
    """A hook for :func:`haikei.services.rendering.commit`: inside the version's transaction,
    mark the job done with that version, or raise :class:`LeaseLost` (rolling the version back)
    when the job is no longer this worker's attempt."""

    def hook(s: Any, version: Version) -> None:
        row = s.scalars(select(JobRow).where(*_owned(job_id, worker_id, attempt)).with_for_update()).first()
        if row is None:
            raise LeaseLost(f"job {job_id} is no longer claimed by {worker_id} (attempt {attempt})")
        if row.cancel_requested:
            raise LeaseLost(f"job {job_id} was canceled while it rendered")
        row.state = JobState.done.value
        row.result_version_ids = [version.id]
        row.render_key = version.render_key or row.render_key
        row.progress = 1.0
        row.message = f"version {version.revision} (id {version.id})"
        row.error = ""
        row.finished_at = utcnow()
        row.heartbeat_at = row.finished_at

    return hook


def fail(
    ctx: ServiceContext, job_id: int, worker_id: str, error: str, *, attempt: int, retryable: bool
) -> Job | None:
    """Record a failed attempt: back to pending when ``retryable`` and attempts are left, else
    failed with the error line. None when the job is no longer this worker's."""
    with ctx.db.immediate() as s:
        row = s.scalars(select(JobRow).where(*_owned(job_id, worker_id, attempt)).with_for_update()).first()
        if row is None:
            return None
        line = error.strip().splitlines()[0][:1000] if error.strip() else "unknown error"
        if row.cancel_requested:
            _set_canceled(row)
        elif retryable and row.attempts < row.max_attempts:
            row.state = JobState.pending.value
            row.claimed_by = None
            row.message = f"attempt {row.attempts} failed, queued again: {line}"
            row.error = line
        else:
            row.state = JobState.failed.value
            row.error = line
            row.message = f"failed after {row.attempts} attempt(s)"
            row.finished_at = utcnow()
        return to_job(row)


def _set_canceled(row: JobRow) -> None:
    row.state = JobState.canceled.value
    row.message = "canceled while running" if row.started_at else "canceled"
    row.finished_at = utcnow()


def mark_canceled(ctx: ServiceContext, job_id: int, worker_id: str, *, attempt: int) -> Job | None:
    """The worker stopped the render because cancel was asked for."""
    with ctx.db.immediate() as s:
        row = s.scalars(select(JobRow).where(*_owned(job_id, worker_id, attempt)).with_for_update()).first()
        if row is None:
            return None
        _set_canceled(row)
        return to_job(row)


def release(ctx: ServiceContext, job_id: int, worker_id: str, *, attempt: int) -> bool:
    """A worker that is shutting down hands its job back (the attempt is not counted)."""
    with ctx.db.immediate() as s:
        row = s.scalars(select(JobRow).where(*_owned(job_id, worker_id, attempt)).with_for_update()).first()
        if row is None:
            return False
        if row.cancel_requested:
            _set_canceled(row)
            return True
        row.state = JobState.pending.value
        row.claimed_by = None
        row.attempts = max(0, row.attempts - 1)
        row.message = f"handed back by {worker_id} (shutting down)"
        return True


def requeue_stale(ctx: ServiceContext, timeout_s: float) -> list[Job]:
    """Running jobs whose worker has not heartbeaten for ``timeout_s`` go back to pending (or to
    failed once their attempts are spent, or to canceled if that was asked). Returns them."""
    cutoff = utcnow() - timedelta(seconds=float(timeout_s))
    with ctx.db.immediate() as s:
        rows = s.scalars(
            select(JobRow)
            .where(JobRow.state == JobState.running.value, JobRow.heartbeat_at < cutoff)
            .with_for_update(skip_locked=True)
        ).all()
        for r in rows:
            lost = f"worker {r.claimed_by} stopped heartbeating (no sign for over {timeout_s:g} s)"
            if r.cancel_requested:
                _set_canceled(r)
            elif r.attempts >= r.max_attempts:
                r.state = JobState.failed.value
                r.error = f"{lost} on attempt {r.attempts} of {r.max_attempts}"
                r.message = f"failed after {r.attempts} attempt(s)"
                r.finished_at = utcnow()
            else:
                r.state = JobState.pending.value
                r.claimed_by = None
                r.message = f"re-queued: {lost}"
                r.error = lost
        s.flush()
        return [to_job(r) for r in rows]

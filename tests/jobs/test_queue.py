"""The queue's rules, on SQLite and PostgreSQL: dedupe, order, atomic claims, heartbeats,
re-queue with attempts, fencing of lost jobs, cancel, retry, one version per render key."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from haikei.domain.models import JobState
from haikei.errors import ConflictError, NotFoundError
from haikei.imaging.io import png_bytes
from haikei.jobs import queue
from haikei.jobs.worker import Worker, WorkerOptions
from haikei.services.artboards import set_consent
from haikei.services.rendering import RenderSpec, commit, prepare
from haikei.store.tables import CutRow, JobRow, VersionRow

FAST = WorkerOptions(heartbeat_s=0.1, stale_s=0.5, poll_s=0.05)


def spec(bg: str, seed: int = 0, **kw: object) -> RenderSpec:
    return RenderSpec(bg=bg, engine="baseline", seed=seed, candidate=seed, **kw)  # type: ignore[arg-type]


def version_count(ctx, bg_id: int | None = None) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.session() as s:
        q = select(func.count()).select_from(VersionRow)
        if bg_id is not None:
            q = q.where(VersionRow.background_id == bg_id)
        return int(s.scalar(q))


def test_submit_dedupes_same_render_key(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(2)
    a = queue.submit(ctx, spec("c001"))
    b = queue.submit(ctx, spec("c001"))
    c = queue.submit(ctx, spec("c001", seed=1))
    assert a.id == b.id and c.id != a.id
    assert a.state is JobState.pending
    Worker(ctx, "w", FAST).run(until_empty=True)
    done = queue.get_job(ctx, a.id)
    assert done.state is JobState.done and len(done.result_version_ids) == 1
    # done counts as "already there": no new job, no new version
    assert queue.submit(ctx, spec("c001")).id == a.id
    assert version_count(ctx) == 2
    # the same request by cut number instead of BG name is the same render
    assert queue.submit(ctx, spec("c002")).state is JobState.pending


def test_claim_order_priority_then_retake_then_due_date(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(3)
    # give c003 the earliest due date, c001 the latest
    with ctx.db.session() as s:
        for n, day in (("c001", 20), ("c002", 10), ("c003", 5)):
            s.scalars(select(CutRow).where(CutRow.number == n)).one().due_date = __import__(
                "datetime"
            ).datetime(2027, 2, day)
    first = queue.submit(ctx, spec("c002"))  # rendered first so a retake has a parent
    Worker(ctx, "w", FAST).run(until_empty=True)
    parent = queue.get_job(ctx, first.id).result_version_ids[0]
    mask = np.zeros((64, 96), np.uint8)
    mask[10:30, 10:50] = 255
    mask_key = ctx.blobs.put(png_bytes(mask))
    j1 = queue.submit(ctx, spec("c001"))
    j3 = queue.submit(ctx, spec("c003"))
    retake = queue.submit(
        ctx, spec("c002", seed=5, kind="retake", parent_version_id=parent, mask_blob=mask_key)
    )
    urgent = queue.submit(ctx, spec("c001", seed=9), priority=10)
    order = [queue.claim(ctx, "w").id for _ in range(4)]  # type: ignore[union-attr]
    assert order == [urgent.id, retake.id, j3.id, j1.id]
    assert queue.claim(ctx, "w") is None


def test_claims_are_atomic_under_concurrency(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(4)
    ids = {queue.submit(ctx, spec(f"c00{1 + i % 4}", seed=i)).id for i in range(40)}
    got: dict[str, list[int]] = {}

    def claimer(name: str) -> None:
        mine = got.setdefault(name, [])
        while (job := queue.claim(ctx, name)) is not None:
            mine.append(job.id)

    threads = [threading.Thread(target=claimer, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [j for lst in got.values() for j in lst]
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    assert all(j.claimed_by and j.attempts == 1 for j in queue.list_jobs(ctx, states=["running"]))


def test_stale_jobs_are_requeued_until_attempts_run_out(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(1)
    job = queue.submit(ctx, spec("c001"), max_attempts=2)
    for attempt in (1, 2):
        got = queue.claim(ctx, f"dead{attempt}")
        assert got is not None and got.id == job.id and got.attempts == attempt
        time.sleep(0.05)
        assert [j.id for j in queue.requeue_stale(ctx, 0.01)] == [job.id]
    final = queue.get_job(ctx, job.id)
    assert final.state is JobState.failed
    assert "dead2 stopped heartbeating" in final.error and "attempt 2 of 2" in final.error
    # a live heartbeat keeps a job from being re-queued
    other = queue.submit(ctx, spec("c001", seed=1))
    got = queue.claim(ctx, "alive")
    assert got is not None and got.id == other.id
    assert queue.heartbeat(ctx, other.id, "alive", 0.5, "half way") is False
    assert queue.requeue_stale(ctx, 5.0) == []
    assert queue.get_job(ctx, other.id).progress == pytest.approx(0.5)


def test_a_requeued_job_cannot_be_finished_by_its_old_worker(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(1)
    job = queue.submit(ctx, spec("c001"))
    old = queue.claim(ctx, "old")
    assert old is not None
    prep = prepare(ctx, RenderSpec.from_params(old.params))
    from haikei.engines.base import EngineContext

    result = prep.engine.render(prep.request, EngineContext())
    time.sleep(0.05)
    queue.requeue_stale(ctx, 0.01)
    new = queue.claim(ctx, "new")
    assert new is not None and new.attempts == 2
    # the old worker wakes up and tries to finish: refused, and its version is rolled back
    assert queue.heartbeat(ctx, job.id, "old", 0.9, "", attempt=1) is True
    with pytest.raises(queue.LeaseLost):
        commit(ctx, prep, result, job_id=job.id, in_transaction=queue.finish_in(job.id, "old", 1))
    assert version_count(ctx) == 0
    v = commit(ctx, prep, result, job_id=job.id, in_transaction=queue.finish_in(job.id, "new", 2))
    done = queue.get_job(ctx, job.id)
    assert done.state is JobState.done and done.result_version_ids == (v.id,)
    assert version_count(ctx) == 1


def test_one_version_per_render_key_is_enforced_by_the_database(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(1)
    job = queue.submit(ctx, spec("c001"))
    Worker(ctx, "w", FAST).run(until_empty=True)
    vid = queue.get_job(ctx, job.id).result_version_ids[0]
    with pytest.raises(IntegrityError), ctx.db.session() as s:
        v = s.get(VersionRow, vid)
        s.add(
            VersionRow(
                background_id=v.background_id,
                revision=99,
                kind="render",
                image_blob=v.image_blob,
                render_key=v.render_key,
            )
        )
        s.flush()
    with ctx.db.session() as s:  # human versions (empty key) are not limited
        v = s.get(VersionRow, vid)
        for rev in (50, 51):
            s.add(
                VersionRow(background_id=v.background_id, revision=rev, kind="human", image_blob=v.image_blob)
            )


def test_cancel_retry_and_cancel_all(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(2)
    a = queue.submit(ctx, spec("c001"))
    b = queue.submit(ctx, spec("c002"))
    c = queue.submit(ctx, spec("c002", seed=1))
    assert queue.cancel(ctx, a.id).state is JobState.canceled
    with pytest.raises(ConflictError, match="already canceled"):
        queue.cancel(ctx, a.id)
    with pytest.raises(NotFoundError):
        queue.cancel(ctx, 999)
    running = queue.claim(ctx, "w")
    assert running is not None and running.id == b.id
    assert queue.heartbeat(ctx, b.id, "w", 0.1) is False
    assert queue.cancel(ctx, b.id).state is JobState.running  # asked; the worker stops it
    assert queue.heartbeat(ctx, b.id, "w", 0.2) is True
    assert queue.mark_canceled(ctx, b.id, "w", attempt=1).state is JobState.canceled  # type: ignore[union-attr]
    assert [j.id for j in queue.cancel_all(ctx)] == [c.id]
    with pytest.raises(ConflictError, match="only failed or canceled"):
        queue.retry(ctx, queue.submit(ctx, spec("c001", seed=7)).id)
    again = queue.retry(ctx, a.id)
    assert again.id == a.id and again.state is JobState.pending and again.attempts == 0
    # a canceled job whose render is queued again by a new submit: retry returns that job
    d = queue.submit(ctx, spec("c002"))
    assert d.id != b.id and queue.retry(ctx, b.id).id == d.id


def test_user_errors_fail_at_once_with_their_message(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(1)
    job = queue.submit(ctx, spec("c001"))
    for board in ("safelanding", "altai"):
        set_consent(ctx, board, False)  # consent withdrawn after the job was queued
    Worker(ctx, "w", FAST).run(until_empty=True)
    failed = queue.get_job(ctx, job.id)
    assert failed.state is JobState.failed and failed.attempts == 1
    assert "consent" in failed.error
    with ctx.db.session() as s:
        assert s.get(JobRow, job.id).finished_at is not None

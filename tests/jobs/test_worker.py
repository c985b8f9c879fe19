"""Workers: a job canceled mid-render stops (through the engine's cancel event) and leaves no
version; the thread-mode executor (the web app's) renders and reports progress."""

from __future__ import annotations

import time

from haikei.domain.models import JobState
from haikei.jobs import queue
from haikei.jobs.local import LocalExecutor
from haikei.jobs.worker import WorkerOptions
from haikei.services.rendering import RenderSpec

from .test_queue import version_count

FAST = WorkerOptions(heartbeat_s=0.1, stale_s=2.0, poll_s=0.05)


def test_cancel_is_honoured_mid_render(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(1, size=(1920, 1080))  # the baseline takes seconds at this size
    job = queue.submit(ctx, RenderSpec(bg="c001", engine="baseline", seed=3))
    ex = LocalExecutor(ctx, workers=1, mode="thread", options=FAST)
    ex.start()
    try:
        deadline = time.monotonic() + 120
        while True:  # wait until the engine itself has reported progress: it is painting
            j = queue.get_job(ctx, job.id)
            if j.state is JobState.running and 0 < j.progress < 1:
                break
            assert j.state in (JobState.pending, JobState.running) and time.monotonic() < deadline, j
            time.sleep(0.02)
        asked = time.monotonic()
        queue.cancel(ctx, job.id)
        while not queue.get_job(ctx, job.id).state.is_final:
            assert time.monotonic() - asked < 10, "cancel not honoured"
            time.sleep(0.05)
        stopped_after = time.monotonic() - asked
    finally:
        ex.stop()
    final = queue.get_job(ctx, job.id)
    assert final.state is JobState.canceled, final
    assert version_count(ctx) == 0
    assert stopped_after < 5


def test_thread_executor_runs_jobs_and_reports_progress(make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(2)
    ids = [queue.submit(ctx, RenderSpec(bg=b, engine="baseline", candidate=0)).id for b in ("c001", "c002")]
    seen: list[float] = []
    jobs = LocalExecutor(ctx, workers=1, mode="thread", options=FAST).run_until_empty(
        ids, on_update=lambda js: seen.extend(j.progress for j in js), poll_s=0.05, timeout_s=120
    )
    assert [j.state for j in jobs] == [JobState.done, JobState.done]
    assert seen and max(seen) == 1.0
    assert version_count(ctx) == 2

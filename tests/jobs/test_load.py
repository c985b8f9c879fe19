"""Load: 1,000 queued jobs claimed by 4 worker processes at once; each is claimed exactly once
(SQLite: immediate transactions; PostgreSQL: FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest

from haikei.jobs import queue
from haikei.jobs.local import ProductionRef
from haikei.services.rendering import RenderSpec, plan
from haikei.store.tables import JobRow

N_JOBS = 1000
N_PROCS = 4


def _claimer(ref: ProductionRef, name: str, start_at: float) -> list[int]:
    ctx = ref()
    try:
        while time.time() < start_at:  # all four start together
            time.sleep(0.005)
        got = []
        while (job := queue.claim(ctx, name)) is not None:
            got.append(job.id)
        return got
    finally:
        ctx.close()


@pytest.mark.slow
def test_thousand_jobs_four_processes_each_claimed_once(make_prod, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(4)
    # queue 1,000 distinct renders (rows written in bulk; submit() is covered elsewhere)
    base = plan(ctx, RenderSpec(bg="c001", engine="baseline"))
    with ctx.db.session() as s:
        s.add_all(
            JobRow(
                kind="render",
                background_id=base.background_id,
                engine="baseline",
                render_key=f"load-{i}",
                params=RenderSpec(bg="c001", engine="baseline", seed=i).to_params(),
            )
            for i in range(N_JOBS)
        )
    spawn = mp.get_context("spawn")
    ref = ProductionRef.of(ctx)
    start_at = time.time() + 4.0
    t0 = time.perf_counter()
    with spawn.Pool(N_PROCS) as pool:
        results = pool.starmap(_claimer, [(ref, f"p{i}", start_at) for i in range(N_PROCS)])
    elapsed = time.perf_counter() - t0 - max(0.0, start_at - time.time())
    claimed = [j for r in results for j in r]
    assert len(claimed) == N_JOBS and len(set(claimed)) == N_JOBS
    assert all(len(r) > 0 for r in results), [len(r) for r in results]  # all four took part
    rows = queue.list_jobs(ctx, states=["running"])
    assert len(rows) == N_JOBS and all(j.attempts == 1 for j in rows)
    print(
        f"\n{ctx.db.dialect}: {N_JOBS} claims by {N_PROCS} processes, per process {[len(r) for r in results]}, "
        f"~{elapsed:.1f} s wall"
    )

"""The queue's own cost per job (target: under 50 ms on SQLite), measured with pytest-benchmark:
submit (validate + render key + dedupe + insert), claim, one heartbeat, and the finishing commit
(PNG blob write + version row + job done in one transaction) of an already rendered tiny image.
The render and the decoding of its inputs are the engine's and the service's cost, not the
queue's, and are left out. Run: pytest tests/jobs/test_bench_queue.py --benchmark-only -s"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from haikei.engines.base import EngineContext
from haikei.jobs import queue
from haikei.services.rendering import RenderSpec, commit, prepare
from haikei.store.tables import JobRow


@pytest.mark.parametrize(
    "db_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_queue_overhead_per_job(benchmark, make_prod) -> None:  # type: ignore[no-untyped-def]
    ctx = make_prod(1)
    prep = prepare(ctx, RenderSpec(bg="c001", engine="baseline"))
    result = prep.engine.render(prep.request, EngineContext())
    seeds = itertools.count(1)

    def one_job() -> None:
        spec = RenderSpec(bg="c001", engine="baseline", seed=next(seeds))
        job = queue.submit(ctx, spec)
        got = queue.claim(ctx, "bench")
        assert got is not None and got.id == job.id
        assert queue.heartbeat(ctx, job.id, "bench", 0.5, "half", attempt=got.attempts) is False
        with ctx.db.session() as s:
            key = s.get(JobRow, job.id).render_key
        mine = replace(prep, spec=spec, render_key=key)
        commit(
            ctx, mine, result, job_id=job.id, in_transaction=queue.finish_in(job.id, "bench", got.attempts)
        )

    benchmark.pedantic(one_job, rounds=40, iterations=1, warmup_rounds=3)
    assert len(queue.list_jobs(ctx, states=["done"])) == 43
    mean_ms = benchmark.stats.stats.mean * 1000
    print(
        f"\n{ctx.db.dialect}: queue overhead {mean_ms:.1f} ms/job (median {benchmark.stats.stats.median * 1000:.1f})"
    )
    assert mean_ms < 250, f"{mean_ms:.1f} ms per job"  # a loose bound: these machines are shared and noisy

"""A render batch through the queue: submit candidates for many BGs, then watch them finish.

This is what ``haikei render`` does; the executor (local pool or Ray) only decides where the
workers run. The batch itself is the list of job ids: re-running the same command after a crash
submits the same render keys, so it picks up the very same jobs instead of duplicating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from haikei.domain.models import Job, JobState
from haikei.jobs import queue
from haikei.services.context import ServiceContext
from haikei.services.rendering import candidate_specs

__all__ = ["BatchSummary", "submit_batch", "summarise"]


def submit_batch(
    ctx: ServiceContext,
    refs: list[str] | None,
    *,
    engine: str | None = None,
    candidates: int | None = None,
    seed: int = 0,
    actor: str = "",
    priority: int = 0,
) -> list[Job]:
    """One job per (BG, candidate); candidate i uses seed+i. Everything is validated first."""
    specs = candidate_specs(ctx, refs, engine=engine, candidates=candidates, seed=seed, actor=actor)
    return [queue.submit(ctx, sp, priority=priority, requested_by=actor) for sp in specs]


@dataclass
class BatchSummary:
    total: int
    done: int
    failed: list[Job] = field(default_factory=list)
    canceled: list[Job] = field(default_factory=list)
    version_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.canceled and self.done == self.total


def summarise(jobs: list[Job]) -> BatchSummary:
    out = BatchSummary(total=len(jobs), done=0)
    for j in jobs:
        if j.state is JobState.done:
            out.done += 1
            out.version_ids.extend(j.result_version_ids)
        elif j.state is JobState.failed:
            out.failed.append(j)
        elif j.state is JobState.canceled:
            out.canceled.append(j)
    return out

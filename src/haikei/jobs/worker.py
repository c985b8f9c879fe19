"""One worker: claim a job, render it with a heartbeat beside it, commit version and job together.

The same :class:`Worker` runs in a local process or thread (:mod:`haikei.jobs.local`), inside a
Ray actor (:mod:`haikei.jobs.ray_executor`) and under ``haikei worker``. It keeps nothing that
the database does not also know: kill it at any instant and the job is re-run by someone else
after the heartbeat timeout, with at worst an unreferenced blob left for ``haikei gc``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from haikei.domain.models import Job
from haikei.engines.base import EngineContext
from haikei.errors import EngineError, HaikeiError, RenderCanceled
from haikei.jobs import queue
from haikei.services.context import ServiceContext
from haikei.services.rendering import RenderSpec, commit, prepare

__all__ = ["Worker", "WorkerOptions", "is_retryable", "worker_name"]

log = logging.getLogger("haikei.jobs")


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker paces itself. The stale timeout must be several heartbeats long."""

    heartbeat_s: float = 2.0  # how often a running job's heartbeat and progress are written
    stale_s: float = 30.0  # a running job without heartbeat for this long is re-queued
    poll_s: float = 0.5  # wait between claims when the queue is empty
    engines: tuple[str, ...] | None = None  # only claim jobs for these engines (None: any)
    batch: int = 1  # claim up to this many jobs of one engine at a time

    def __post_init__(self) -> None:
        if self.heartbeat_s <= 0 or self.stale_s < 3 * self.heartbeat_s:
            raise ValueError("stale_s must be at least three heartbeats (heartbeat_s > 0)")
        if self.batch < 1:
            raise ValueError("batch must be at least 1")


def worker_name(suffix: str = "") -> str:
    """host/pid[/suffix]: unique among live workers, readable in 'haikei jobs'."""
    base = f"{socket.gethostname()}/{os.getpid()}"
    return f"{base}/{suffix}" if suffix else base


def is_retryable(exc: BaseException) -> bool:
    """User-caused errors (bad input, refused request, missing consent) fail at once; an engine
    that broke while rendering and unexpected errors (I/O, memory) get another attempt."""
    if isinstance(exc, HaikeiError):
        return type(exc) is EngineError
    return isinstance(exc, Exception)


class _Beat(threading.Thread):
    """Writes heartbeat + latest progress every ``every`` seconds; stops the render (through the
    engine's cancel event) when cancel is asked, the job is lost, or the worker shuts down."""

    def __init__(self, worker: Worker, job: Job, cancel: threading.Event) -> None:
        super().__init__(name=f"heartbeat-{job.id}", daemon=True)
        self.worker, self.job, self.cancel = worker, job, cancel
        self.done = threading.Event()
        self.fraction, self.text = 0.0, "started"
        self.reason: str | None = None  # cancel | lost | shutdown

    def progress(self, fraction: float, message: str) -> None:
        self.fraction, self.text = fraction, message

    def run(self) -> None:
        w = self.worker
        while not self.done.wait(w.options.heartbeat_s):
            if w.stop_event.is_set():
                self.reason = "shutdown"
                self.cancel.set()
                return
            try:
                stop = queue.heartbeat(
                    w.ctx, self.job.id, w.worker_id, self.fraction, self.text, attempt=self.job.attempts
                )
            except Exception as exc:  # database briefly away: keep rendering, try again
                log.warning("heartbeat for job %s failed: %s", self.job.id, exc)
                continue
            if stop:
                current = queue.get_job(w.ctx, self.job.id)
                owned = current.claimed_by == w.worker_id and current.state.value == "running"
                self.reason = "cancel" if owned else "lost"
                self.cancel.set()
                return


class Worker:
    """Claims and runs jobs until ``stop_event`` is set (or the queue is empty, if asked)."""

    def __init__(
        self,
        ctx: ServiceContext,
        worker_id: str | None = None,
        options: WorkerOptions | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.ctx = ctx
        self.worker_id = worker_id or worker_name()
        self.options = options or WorkerOptions()
        self.stop_event = stop_event or threading.Event()
        self.current: Job | None = None
        self.processed = 0
        self._last_sweep = 0.0

    def sweep(self) -> None:
        """Re-queue jobs of dead workers (any live worker may do it; it is idempotent)."""
        now = time.monotonic()
        if now - self._last_sweep >= self.options.heartbeat_s:
            self._last_sweep = now
            for job in queue.requeue_stale(self.ctx, self.options.stale_s):
                log.warning("job %s: %s -> %s", job.id, job.message or job.error, job.state.value)

    def run(self, *, until_empty: bool = False, should_continue: Any = None) -> int:
        """Loop: sweep, claim, run. Returns the number of jobs this worker finished.

        ``until_empty``: return once nothing is pending or running. ``should_continue``: an
        optional callable checked between jobs (a local worker process stops when its parent dies).
        """
        while not self.stop_event.is_set():
            if should_continue is not None and not should_continue():
                break
            self.sweep()
            jobs = queue.claim_batch(
                self.ctx, self.worker_id, engines=self.options.engines, limit=self.options.batch
            )
            if not jobs:
                if until_empty and not queue.list_jobs(self.ctx, states=queue.ACTIVE_STATES):
                    break
                self.stop_event.wait(self.options.poll_s)
                continue
            for i, job in enumerate(jobs):
                if self.stop_event.is_set():  # hand the rest of the batch back untouched
                    for rest in jobs[i:]:
                        queue.release(self.ctx, rest.id, self.worker_id, attempt=rest.attempts)
                    break
                self.run_job(job)
        return self.processed

    def run_job(self, job: Job) -> None:
        """Render one claimed job and record its outcome. Never raises for a job's own failure."""
        self.current = job
        cancel = threading.Event()
        beat = _Beat(self, job, cancel)
        try:
            # 1. heartbeat from the moment of the claim (loading inputs can take a while)
            beat.start()
            # 2. rebuild the request from the job's parameters (latest layout, boards by consent)
            spec = RenderSpec.from_params(job.params)
            prep = prepare(self.ctx, spec)
            if cancel.is_set():
                raise RenderCanceled("stopped before rendering")
            # 3. render with the heartbeat running beside it
            t0 = time.perf_counter()
            result = prep.engine.render(prep.request, EngineContext(progress=beat.progress, cancel=cancel))
            result.timings.setdefault("seconds_job", time.perf_counter() - t0)
            beat.done.set()
            beat.join()
            if beat.reason is not None:
                raise RenderCanceled(f"render stopped ({beat.reason})")
            # 4. blob first, then version + job done in one transaction
            commit(
                self.ctx,
                prep,
                result,
                job_id=job.id,
                in_transaction=queue.finish_in(job.id, self.worker_id, job.attempts),
            )
            self.processed += 1
        except RenderCanceled:
            self._stopped(job, beat.reason or "cancel")
        except queue.LeaseLost as exc:
            log.warning("job %s: %s; result dropped", job.id, exc)
            if "canceled" in str(exc):
                queue.mark_canceled(self.ctx, job.id, self.worker_id, attempt=job.attempts)
        except Exception as exc:
            log.error("job %s failed: %s", job.id, exc)
            text = str(exc) if isinstance(exc, HaikeiError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, HaikeiError):
                log.debug("%s", traceback.format_exc())
            queue.fail(
                self.ctx, job.id, self.worker_id, text, attempt=job.attempts, retryable=is_retryable(exc)
            )
        finally:
            beat.done.set()
            if beat.is_alive():
                beat.join()
            self.current = None

    def _stopped(self, job: Job, reason: str) -> None:
        if reason == "shutdown":
            queue.release(self.ctx, job.id, self.worker_id, attempt=job.attempts)
        elif reason == "cancel":
            queue.mark_canceled(self.ctx, job.id, self.worker_id, attempt=job.attempts)
        # lost: the job belongs to someone else now; nothing to write

"""The local executor: a pool of workers on this machine that claim jobs from the database.

``mode="thread"`` (default) runs workers as threads of this process, each with its own context:
the engines' numba kernels release the GIL, and on a 2-core machine threads rendered 4 exemplar
BGs at 1080p in 23 s with two workers against 53 s for two processes, which pay start-up and
kernel loading each (scripts/bench_throughput.py; specs/queue.md). ``mode="process"`` runs each
worker in its own spawned process: a worker that crashes takes only its own job down (the job is
re-queued after the heartbeat timeout); use it when an engine may crash its interpreter.

Nothing here is the source of truth: the coordinator only watches the database. Kill it and the
worker processes notice (their parent is gone), hand back their jobs and exit.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from haikei.domain.models import Job
from haikei.errors import EngineError, InputError
from haikei.jobs import queue
from haikei.jobs.worker import Worker, WorkerOptions, worker_name
from haikei.services.context import ServiceContext

__all__ = ["LocalExecutor", "ProductionRef", "wait_for"]

log = logging.getLogger("haikei.jobs")


@dataclass(frozen=True)
class ProductionRef:
    """What a worker needs to open the production itself: picklable, so it crosses processes."""

    root: str
    db_url: str | None = None

    @classmethod
    def of(cls, ctx: ServiceContext) -> ProductionRef:
        return cls(str(ctx.root), ctx.db.url)

    def __call__(self) -> ServiceContext:
        from haikei.app import open_production

        return open_production(self.root, self.db_url)


CtxFactory = Callable[[], ServiceContext]


def _numba_threads(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _process_main(
    factory: CtxFactory, name: str, options: WorkerOptions, stop: Any, parent_pid: int, numba_threads: int
) -> None:
    """Entry point of a worker process."""
    os.environ.setdefault("NUMBA_NUM_THREADS", str(numba_threads))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ctx = factory()
    local_stop = threading.Event()

    def watch() -> None:  # mirror the parent's stop flag (and the parent's death) into the worker
        while not local_stop.wait(0.2):
            if stop.value or os.getppid() != parent_pid:
                local_stop.set()

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()
    try:
        Worker(ctx, worker_name(name), options, local_stop).run()
    finally:
        ctx.close()


def _thread_main(factory: CtxFactory, name: str, options: WorkerOptions, stop: threading.Event) -> None:
    ctx = factory()
    try:
        Worker(ctx, worker_name(name), options, stop).run()
    except Exception:  # a broken database must not kill the host silently
        log.exception("worker %s stopped", name)
    finally:
        ctx.close()


class LocalExecutor:
    """``LocalExecutor(ctx_or_factory, workers=N).start()`` ... ``stop()``; or ``run_until_empty()``."""

    def __init__(
        self,
        ctx: ServiceContext | CtxFactory,
        workers: int = 1,
        *,
        mode: str = "thread",
        options: WorkerOptions | None = None,
    ) -> None:
        if workers < 1:
            raise InputError("workers must be at least 1")
        if mode not in ("process", "thread"):
            raise InputError(f"executor mode {mode!r} is neither 'process' nor 'thread'")
        self.factory: CtxFactory = ProductionRef.of(ctx) if isinstance(ctx, ServiceContext) else ctx
        self._watch_ctx = ctx if isinstance(ctx, ServiceContext) else None
        self.workers = workers
        self.mode = mode
        self.options = options or WorkerOptions()
        self._procs: list[Any] = []
        self._threads: list[threading.Thread] = []
        self._stop: Any = None
        self._spawned = 0
        self.restarts = 0

    @property
    def running(self) -> bool:
        return bool(self._procs or self._threads)

    def start(self) -> None:
        """Start the workers; they claim and run jobs until :meth:`stop`."""
        if self.running:
            return
        tag = f"{os.getpid()}-{int(time.time() * 1000) % 100000}"
        if self.mode == "process":
            # a lock-free flag: a worker killed while holding an Event's lock would block everyone
            self._stop = mp.get_context("spawn").RawValue("b", 0)
            self._procs = [self._spawn(i) for i in range(self.workers)]
        else:
            self._stop = threading.Event()
            for i in range(self.workers):
                t = threading.Thread(
                    target=_thread_main,
                    args=(self.factory, f"t{i}", self.options, self._stop),
                    name=f"haikei-worker-{tag}-{i}",
                    daemon=True,
                )
                t.start()
                self._threads.append(t)

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def alive(self) -> int:
        return sum(p.is_alive() for p in self._procs) + sum(t.is_alive() for t in self._threads)

    def tend(self) -> int:
        """Replace worker processes that died (killed, out of memory ...) while not stopping;
        returns how many workers are alive. At most ``2 * workers`` replacements per executor,
        so a worker that dies at start-up does not loop forever."""
        if self._stop is None or self._stopping() or self.mode != "process":
            return self.alive()
        for i, p in enumerate(self._procs):
            if not p.is_alive() and self.restarts < 2 * self.workers:
                log.warning("worker process %s exited with %s; starting a new one", p.pid, p.exitcode)
                self.restarts += 1
                self._procs[i] = self._spawn(i)
        return self.alive()

    def _stopping(self) -> bool:
        return self._stop.is_set() if isinstance(self._stop, threading.Event) else bool(self._stop.value)

    def _spawn(self, i: int) -> Any:
        spawn = mp.get_context("spawn")
        self._spawned += 1
        p = spawn.Process(
            target=_process_main,
            args=(
                self.factory,
                f"w{self._spawned - 1}",
                self.options,
                self._stop,
                os.getpid(),
                _numba_threads(self.workers),
            ),
            name=f"haikei-worker-{os.getpid()}-{i}",
            daemon=False,
        )
        p.start()
        return p

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the workers to stop: a running render is interrupted and its job handed back."""
        if isinstance(self._stop, threading.Event):
            self._stop.set()
        elif self._stop is not None:
            self._stop.value = 1
        deadline = time.monotonic() + timeout_s
        for p in self._procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join(5)
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._procs, self._threads = [], []

    def run_until_empty(
        self,
        job_ids: Iterable[int] | None = None,
        *,
        on_update: Callable[[list[Job]], None] | None = None,
        poll_s: float = 0.5,
        timeout_s: float | None = None,
    ) -> list[Job]:
        """Start (if needed), wait until the given jobs (default: all) are finished, stop the
        workers this call started; returns the jobs' final states."""
        started_here = not self.running
        self.start()
        ctx = self._watch_ctx or self.factory()
        try:
            return wait_for(
                ctx,
                job_ids,
                on_update=on_update,
                poll_s=poll_s,
                timeout_s=timeout_s,
                stale_s=self.options.stale_s,
                alive=self.tend,
            )
        finally:
            if self._watch_ctx is None:
                ctx.close()
            if started_here:
                self.stop()


def wait_for(
    ctx: ServiceContext,
    job_ids: Iterable[int] | None = None,
    *,
    on_update: Callable[[list[Job]], None] | None = None,
    poll_s: float = 0.5,
    timeout_s: float | None = None,
    stale_s: float = 30.0,
    alive: Callable[[], int] | None = None,
) -> list[Job]:
    """Poll the database until the jobs are final. Re-queues stale jobs as it goes (so a batch
    whose workers died is picked up again); refuses to wait forever on workers that are gone."""
    ids = list(job_ids) if job_ids is not None else None
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    last_sweep = 0.0
    while True:
        if time.monotonic() - last_sweep >= min(5.0, stale_s / 3):
            queue.requeue_stale(ctx, stale_s)
            last_sweep = time.monotonic()
        jobs = (
            queue.list_jobs(ctx, ids=ids)
            if ids is not None
            else queue.list_jobs(ctx, states=queue.ACTIVE_STATES)
        )
        if on_update is not None:
            on_update(jobs)
        if all(j.state.is_final for j in jobs):
            return jobs
        if alive is not None and alive() == 0:
            raise EngineError(
                "every worker has exited while jobs were left; see 'haikei jobs' and the worker log"
            )
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"jobs still unfinished after {timeout_s} s")
        time.sleep(poll_s)

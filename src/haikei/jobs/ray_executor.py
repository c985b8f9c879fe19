"""The Ray executor: workers as Ray actors spread over a cluster (``haikei render --executor ray``).

The database queue stays the source of truth; Ray only places long-lived workers:

- one actor per GPU in the cluster (``num_gpus=1``): it keeps its engine (and model) loaded for
  its whole life and claims jobs in same-engine batches (``WorkerOptions.batch``), so a model is
  loaded once and reused back to back;
- ``cpu_actors`` CPU actors, spread over the nodes, that only claim CPU engines (exemplar,
  baseline): CPU-only nodes paint with the exemplar engine.

Every actor runs the same :class:`~haikei.jobs.worker.Worker` loop as a local worker (claim,
heartbeat, commit with the job in one transaction), so a lost actor or node loses nothing: its
job is re-queued after the heartbeat timeout. Progress is what the workers write to the job rows.
Every node must reach the production's database (PostgreSQL for more than one machine) and its
blob folder at the same path (see specs/queue.md). Ray is imported lazily (``haikei[ray]``).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from haikei.domain.models import Job
from haikei.errors import EngineError, MissingExtraError
from haikei.jobs.local import ProductionRef, wait_for
from haikei.jobs.worker import Worker, WorkerOptions, worker_name

__all__ = ["CPU_ENGINES", "RayExecutor", "RenderActor", "join_cluster"]

log = logging.getLogger("haikei.jobs")

# engines a CPU actor may run: the painters, and comfyui (its GPUs are the ComfyUI servers')
CPU_ENGINES = ("exemplar", "baseline", "comfyui")


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingExtraError("ray", "the Ray executor") from None
    return ray


class RenderActor:
    """Body of a Ray actor: one worker with its own production context and loaded engines."""

    def __init__(self, ref: ProductionRef, name: str, options: WorkerOptions) -> None:
        self.ctx = ref()
        self.stop_event = threading.Event()
        self.worker = Worker(self.ctx, worker_name(name), options, self.stop_event)

    def run(self) -> int:
        """Claim and render until :meth:`stop`; returns the number of jobs finished."""
        try:
            return self.worker.run()
        finally:
            self.ctx.close()

    def status(self) -> dict[str, Any]:
        cur = self.worker.current
        return {
            "worker": self.worker.worker_id,
            "job": cur.id if cur else None,
            "processed": self.worker.processed,
        }

    def stop(self) -> None:
        self.stop_event.set()


class RayExecutor:
    """Start actors on a Ray cluster (``address``; None starts a private local one), wait for the
    given jobs, stop the actors. ``run`` may be called once per executor."""

    def __init__(
        self,
        ref: ProductionRef,
        address: str | None = None,
        *,
        cpu_actors: int = 1,
        gpu_actors: int | None = None,
        options: WorkerOptions | None = None,
        gpu_batch: int = 4,
    ) -> None:
        self.ref = ref
        self.address = address
        self.cpu_actors = cpu_actors
        self.gpu_actors = gpu_actors  # None: one per GPU the cluster has
        self.options = options or WorkerOptions()
        self.gpu_batch = gpu_batch
        self.actors: list[Any] = []
        self.runs: list[Any] = []

    def _init(self, ray: Any) -> None:
        if ray.is_initialized():
            return
        kwargs: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
        if self.address:
            ray.init(address=self.address, **kwargs)
        else:
            ray.init(num_cpus=max(1, self.cpu_actors), include_dashboard=False, **kwargs)

    def start(self) -> None:
        ray = _ray()
        self._init(ray)
        actor_cls = ray.remote(RenderActor)
        gpus = int(ray.cluster_resources().get("GPU", 0)) if self.gpu_actors is None else self.gpu_actors
        gpu_opts = WorkerOptions(
            heartbeat_s=self.options.heartbeat_s,
            stale_s=self.options.stale_s,
            poll_s=self.options.poll_s,
            engines=None,
            batch=self.gpu_batch,
        )
        cpu_opts = WorkerOptions(
            heartbeat_s=self.options.heartbeat_s,
            stale_s=self.options.stale_s,
            poll_s=self.options.poll_s,
            engines=self.options.engines or CPU_ENGINES,
            batch=1,
        )
        for i in range(gpus):
            self.actors.append(
                actor_cls.options(num_gpus=1, num_cpus=1, max_concurrency=2).remote(
                    self.ref, f"gpu{i}", gpu_opts
                )
            )
        for i in range(self.cpu_actors):
            self.actors.append(
                actor_cls.options(num_cpus=1, max_concurrency=2, scheduling_strategy="SPREAD").remote(
                    self.ref, f"cpu{i}", cpu_opts
                )
            )
        self.runs = [a.run.remote() for a in self.actors]

    def alive(self) -> int:
        ray = _ray()
        _, pending = ray.wait(self.runs, num_returns=len(self.runs), timeout=0)
        return len(pending)

    def status(self) -> list[dict[str, Any]]:
        ray = _ray()
        return list(ray.get([a.status.remote() for a in self.actors], timeout=10))

    def stop(self, timeout_s: float = 30.0) -> None:
        ray = _ray()
        for a in self.actors:
            with contextlib.suppress(Exception):  # the actor may be gone already
                a.stop.remote()
        _ready, _ = ray.wait(self.runs, num_returns=len(self.runs), timeout=timeout_s)
        for a in self.actors:
            ray.kill(a)
        self.actors, self.runs = [], []
        ray.shutdown()

    def run(
        self,
        job_ids: Iterable[int] | None = None,
        *,
        on_update: Callable[[list[Job]], None] | None = None,
        poll_s: float = 0.5,
        timeout_s: float | None = None,
    ) -> list[Job]:
        self.start()
        ctx = self.ref()
        try:
            if not self.actors:
                raise EngineError("the Ray cluster offers no CPU or GPU for a render actor")
            return wait_for(
                ctx,
                job_ids,
                on_update=on_update,
                poll_s=poll_s,
                timeout_s=timeout_s,
                stale_s=self.options.stale_s,
                alive=self.alive,
            )
        finally:
            ctx.close()
            self.stop()


def join_cluster(address: str, *, num_gpus: int | None = None, node_ip: str | None = None) -> int:
    """Make this machine a node of the Ray cluster at ``address`` (``ray start --block``) so the
    coordinator can place render actors here. Returns the exit status when the node stops."""
    _ray()
    exe = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
    cmd = [exe, "start", f"--address={address}", "--block", "--disable-usage-stats"]
    if num_gpus is not None:
        cmd.append(f"--num-gpus={num_gpus}")
    if node_ip:
        cmd.append(f"--node-ip-address={node_ip}")
    log.info("joining Ray cluster: %s", " ".join(cmd))
    t0 = time.monotonic()
    rc = subprocess.call(cmd)
    log.info("Ray node stopped after %.0f s", time.monotonic() - t0)
    return rc

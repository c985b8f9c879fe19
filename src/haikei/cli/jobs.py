"""haikei jobs / worker / gc: look at and steer the render queue, run workers, collect garbage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haikei.cli.common import MAX_ROW_ID, DbOpt, JsonOpt, ProductionOpt, console, print_json, production
from haikei.domain.models import JobState
from haikei.errors import InputError

__all__ = ["register", "worker_options"]

jobs_app = typer.Typer(help="The render queue: list, cancel and retry jobs.", invoke_without_command=True)

StatesOpt = Annotated[
    str | None, typer.Option("--state", help="comma-separated states: pending,running,done,failed,canceled")
]
HeartbeatOpt = Annotated[
    float, typer.Option("--heartbeat-s", min=0.05, help="seconds between worker heartbeats")
]
StaleOpt = Annotated[
    float,
    typer.Option("--stale-s", min=0.2, help="re-queue a running job after this long without a heartbeat"),
]


def worker_options(heartbeat_s: float, stale_s: float, engines: str | None = None, batch: int = 1):  # type: ignore[no-untyped-def]
    from haikei.jobs.worker import WorkerOptions

    try:
        return WorkerOptions(
            heartbeat_s=heartbeat_s,
            stale_s=stale_s,
            engines=tuple(e.strip() for e in engines.split(",") if e.strip()) if engines else None,
            batch=batch,
        )
    except ValueError as exc:
        raise InputError(f"{exc}; e.g. --heartbeat-s 2 --stale-s 30") from None


@jobs_app.callback()
def jobs_list(
    ctx: typer.Context,
    state: StatesOpt = None,
    bg: Annotated[str | None, typer.Option("--bg", help="only jobs of this BG or cut")] = None,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the jobs (all, or some states / one BG)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from haikei.jobs.queue import job_rows

    states = [s.strip() for s in state.split(",") if s.strip()] if state else None
    known = [s.value for s in JobState]
    unknown = [s for s in states or [] if s not in known]
    if unknown:
        raise InputError(f"--state {', '.join(unknown)}: not a job state; use {', '.join(known)}")
    with production(production_path, db) as pctx:
        rows = job_rows(pctx, states=states, background=bg)
    if as_json:
        print_json(rows)
        return
    table = Table(
        "id", "kind", "bg", "#", "engine", "state", "progress", "tries", "worker", "message / error"
    )
    colours = {"done": "green", "failed": "red", "canceled": "yellow", "running": "cyan", "pending": "white"}
    for r in rows:
        note = r["error"] if r["state"] == "failed" else r["message"]
        table.add_row(
            str(r["id"]),
            r["kind"],
            r["bg"],
            str(r["candidate"] if r["candidate"] is not None else ""),
            r["engine"],
            f"[{colours.get(r['state'], 'white')}]{r['state']}[/]",
            f"{r['progress']:.0%}",
            f"{r['attempts']}/{r['max_attempts']}",
            r["claimed_by"] or "",
            note,
        )
    out = console()
    out.print(table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    out.print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no jobs")


@jobs_app.command("cancel")
def jobs_cancel(
    job_id: Annotated[int | None, typer.Argument(min=1, max=MAX_ROW_ID, help="job id")] = None,
    all_jobs: Annotated[bool, typer.Option("--all", help="cancel every pending and running job")] = False,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cancel a job (a running one stops at its next heartbeat), or all of them."""
    from haikei.jobs import queue

    if (job_id is None) == (not all_jobs):
        raise InputError("give a job id or --all (not both)")
    with production(production_path, db) as pctx:
        jobs = queue.cancel_all(pctx) if all_jobs else [queue.cancel(pctx, int(job_id))]  # type: ignore[arg-type]
    if as_json:
        print_json([{"id": j.id, "state": j.state.value} for j in jobs])
        return
    for j in jobs:
        console().print(f"job {j.id}: {'canceled' if j.state.value == 'canceled' else 'cancel requested'}")
    if not jobs:
        console().print("nothing to cancel")


@jobs_app.command("retry")
def jobs_retry(
    job_id: Annotated[int, typer.Argument(min=1, max=MAX_ROW_ID, help="a failed or canceled job")],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue a failed or canceled job again (fresh attempts). Run workers to render it."""
    from haikei.jobs import queue

    with production(production_path, db) as pctx:
        job = queue.retry(pctx, job_id)
    if as_json:
        print_json({"id": job.id, "state": job.state.value})
    elif job.id != job_id:
        console().print(f"the same render is already job {job.id} ({job.state.value})")
    else:
        console().print(f"job {job.id} queued again")


def worker(
    address: Annotated[
        str | None,
        typer.Option(
            "--address", help="join this Ray cluster (HOST:PORT) as a node instead of polling the queue"
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="worker processes on this machine")
    ] = 1,
    engines: Annotated[
        str | None, typer.Option("--engines", help="only these engines, e.g. exemplar,baseline")
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=64, help="claim up to N jobs of one engine at once")
    ] = 1,
    heartbeat_s: HeartbeatOpt = 2.0,
    stale_s: StaleOpt = 30.0,
    num_gpus: Annotated[int | None, typer.Option("--num-gpus", help="GPUs this Ray node offers")] = None,
    node_ip: Annotated[
        str | None, typer.Option("--node-ip", help="this node's address on the Ray network")
    ] = None,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Render queued jobs on this machine until Ctrl-C (needs the shared database and blob path),
    or with --address join a Ray cluster so 'haikei render --executor ray' can place actors here."""
    if address:
        from haikei.jobs.ray_executor import join_cluster

        raise typer.Exit(join_cluster(address, num_gpus=num_gpus, node_ip=node_ip))
    import signal
    import threading

    from haikei.jobs.local import LocalExecutor, ProductionRef

    opts = worker_options(heartbeat_s, stale_s, engines, batch)
    with production(production_path, db) as pctx:
        ref = ProductionRef.of(pctx)
    ex = LocalExecutor(ref, workers=workers, options=opts)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ex.start()
    console().print(
        f"{workers} worker(s) running on {ref.root}; Ctrl-C stops them (running jobs are handed back)"
    )
    try:
        while not stop.wait(1.0):
            ex.tend()
    except KeyboardInterrupt:
        pass
    finally:
        ex.stop()


def gc(
    min_age_s: Annotated[
        float, typer.Option("--min-age", min=0, help="only remove blobs older than this many seconds")
    ] = 3600.0,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove blobs nothing references (left by crashed renders), stale temp files, and the staging
    folders killed exports left in their delivery folders."""
    from haikei.jobs.gc import collect_garbage

    with production(production_path, db) as pctx:
        rep = collect_garbage(pctx, min_age_s=min_age_s)
    if as_json:
        print_json(
            {
                "referenced": rep.referenced,
                "kept": rep.kept,
                "removed": rep.removed,
                "stale_exports": rep.stale_exports,
            }
        )
    else:
        console().print(
            f"removed {len(rep.removed)} unreferenced blob(s); {rep.kept} kept; "
            f"{len(rep.stale_exports)} staging folder(s) of killed exports removed"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
    app.command()(worker)
    app.command()(gc)

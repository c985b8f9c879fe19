"""haikei render: queue candidates for BGs and run them (local worker pool or a Ray cluster).

Every render is a durable job: kill this command and run it again, and it picks up the same jobs
(same render keys) where they were, without duplicates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from haikei.cli.common import (
    MAX_PRIORITY,
    MAX_SEED,
    MIN_PRIORITY,
    DbOpt,
    JsonOpt,
    ProductionOpt,
    console,
    err_console,
    print_json,
    production,
)
from haikei.cli.jobs import HeartbeatOpt, StaleOpt, worker_options

__all__ = ["register"]


class _Board:
    """Rich progress for a batch: one overall bar with ETA, one bar per running job, a line per
    finished or failed job."""

    def __init__(self, bar: Progress, total: int, names: dict[int, str], *, quiet: bool = False) -> None:
        self.bar, self.names, self.quiet = bar, names, quiet
        self.overall = bar.add_task("batch", total=float(total))
        self.rows: dict[int, TaskID] = {}
        self.seen_final: set[int] = set()

    def update(self, jobs: list[Any]) -> None:
        done = 0.0
        for j in jobs:
            name = self.names.get(j.id, str(j.id))
            if j.state.is_final:
                done += 1.0
                if j.id in self.rows:
                    self.bar.remove_task(self.rows.pop(j.id))
                if j.id not in self.seen_final and not self.quiet:
                    self.seen_final.add(j.id)
                    if j.state.value == "done":
                        self.bar.console.print(f"[green]done[/]     {name}  {j.message}")
                    elif j.state.value == "failed":
                        self.bar.console.print(f"[red]failed[/]   {name}  {j.error}")
                    else:
                        self.bar.console.print(f"[yellow]canceled[/] {name}")
                continue
            if j.state.value == "running":
                done += j.progress
                if j.id not in self.rows:
                    self.rows[j.id] = self.bar.add_task(name, total=1.0)
                self.bar.update(self.rows[j.id], completed=j.progress, description=f"{name} {j.message[:40]}")
            elif j.id in self.rows:  # handed back / re-queued
                self.bar.remove_task(self.rows.pop(j.id))
        pending = sum(1 for j in jobs if j.state.value == "pending")
        self.bar.update(self.overall, completed=done, description=f"batch ({pending} waiting)")


def render(
    cuts: Annotated[
        str | None, typer.Option("--cuts", help="comma-separated cuts or BGs (default: all)")
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="engine (default: haikei.toml [render])")
    ] = None,
    candidates: Annotated[
        int | None, typer.Option("--candidates", min=1, max=16, help="candidates per BG")
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=MAX_SEED, help="first seed; candidate i uses seed+i")
    ] = 0,
    user: Annotated[str, typer.Option("--user", help="who asks (recorded in the recipe)")] = "",
    priority: Annotated[
        int, typer.Option("--priority", min=MIN_PRIORITY, max=MAX_PRIORITY, help="higher runs first")
    ] = 0,
    executor: Annotated[
        str, typer.Option("--executor", help="local (worker processes here) or ray")
    ] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address HOST:PORT")] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="local workers / Ray CPU actors")
    ] = 1,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="local workers as threads (fastest here: numba kernels release the GIL) or processes "
            "(a crashing worker takes only its own job down)",
        ),
    ] = "thread",
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="only queue the jobs (run 'haikei worker' elsewhere)")
    ] = False,
    heartbeat_s: HeartbeatOpt = 2.0,
    stale_s: StaleOpt = 30.0,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Render candidates for every (or the chosen) BG; each becomes a version with its full recipe."""
    from haikei.errors import InputError
    from haikei.jobs.batch import submit_batch, summarise

    if executor not in ("local", "ray"):
        raise InputError(f"--executor {executor!r}: choose local or ray")
    opts = worker_options(heartbeat_s, stale_s)
    refs = [c.strip() for c in cuts.split(",") if c.strip()] if cuts else None
    with production(production_path, db) as ctx:
        jobs = submit_batch(
            ctx, refs, engine=engine, candidates=candidates, seed=seed, actor=user, priority=priority
        )
        ids = [j.id for j in jobs]
        names = {j.id: f"{j.params.get('bg')} #{j.params.get('candidate')}" for j in jobs}
        if no_wait:
            if as_json:
                print_json([{"id": j.id, "bg": j.params.get("bg"), "state": j.state.value} for j in jobs])
            else:
                console().print(f"queued {len(ids)} job(s); run 'haikei worker' to render them")
            return
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console(),
            disable=as_json,
        ) as bar:
            board = _Board(bar, len(ids), names, quiet=as_json)
            if executor == "local":
                from haikei.jobs.local import LocalExecutor

                final = LocalExecutor(ctx, workers=workers, mode=mode, options=opts).run_until_empty(
                    ids, on_update=board.update
                )
            else:
                from haikei.jobs.local import ProductionRef
                from haikei.jobs.ray_executor import RayExecutor

                final = RayExecutor(
                    ProductionRef.of(ctx), address=address, cpu_actors=workers, options=opts
                ).run(ids, on_update=board.update)
    summary = summarise(final)
    if as_json:
        print_json(
            {
                "jobs": len(final),
                "done": summary.done,
                "version_ids": summary.version_ids,
                "failed": [{"id": j.id, "bg": j.params.get("bg"), "error": j.error} for j in summary.failed],
                "canceled": [j.id for j in summary.canceled],
            }
        )
    else:
        console().print(f"rendered {summary.done} of {summary.total} job(s)")
        if summary.failed or summary.canceled:
            err = err_console()
            for j in summary.failed:
                err.print(f"  job {j.id} {names.get(j.id, '')}: {j.error}")
            if summary.canceled:
                err.print(f"  canceled: {', '.join(str(j.id) for j in summary.canceled)}")
            err.print("retry with 'haikei jobs retry ID'")
    if not summary.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(render)

"""haikei render: paint BGs of a production into new versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from haikei.cli.common import DbOpt, JsonOpt, ProductionOpt, console, print_json, production

__all__ = ["register"]


def render(
    cuts: Annotated[str | None, typer.Option("--cuts", help="comma-separated cuts or BGs (default: all)")] = None,
    engine: Annotated[str | None, typer.Option("--engine", help="engine (default: haikei.toml [render])")] = None,
    candidates: Annotated[int | None, typer.Option("--candidates", min=1, max=16, help="candidates per BG")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="first seed; candidate i uses seed+i")] = 0,
    user: Annotated[str, typer.Option("--user", help="who asks (recorded in the recipe)")] = "",
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Render candidates for every (or the chosen) BG; each becomes a version with its full recipe."""
    from haikei.services.rendering import render_backgrounds

    refs = [c.strip() for c in cuts.split(",") if c.strip()] if cuts else None
    with production(production_path, db) as ctx:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console(),
            disable=as_json,
        ) as bar:
            tasks: dict[tuple[str, int], int] = {}

            def on_progress(bg: str, cand: int, frac: float, msg: str) -> None:
                key = (bg, cand)
                if key not in tasks:
                    tasks[key] = bar.add_task(f"{bg} #{cand}", total=1.0)
                bar.update(tasks[key], completed=frac)

            versions = render_backgrounds(
                ctx, refs, engine=engine, candidates=candidates, seed=seed, actor=user, on_progress=on_progress
            )
    rows = [
        {
            "version_id": v.id,
            "background_id": v.background_id,
            "revision": v.revision,
            "engine": v.engine,
            "candidate": v.candidate,
            "warnings": v.recipe.get("warnings", []),
            "seconds": v.recipe.get("timings", {}),
        }
        for v in versions
    ]
    if as_json:
        print_json(rows)
    else:
        console().print(f"rendered {len(versions)} versions")


def register(app: typer.Typer) -> None:
    app.command()(render)

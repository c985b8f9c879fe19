"""haikei demo PATH: build, paint and deliver the bundled demo production."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haikei.cli.common import JsonOpt, console, parse_frame, print_json

__all__ = ["register"]


def demo(
    path: Annotated[Path, typer.Argument(help="folder for the demo production")] = Path("demo-production"),
    size: Annotated[str, typer.Option("--size", help="frame size WxH")] = "1920x1080",
    engine: Annotated[
        str | None, typer.Option("--engine", help="engine (default: the best available)")
    ] = None,
    candidates: Annotated[int, typer.Option("--candidates", min=1, max=8, help="candidates per BG")] = 2,
    force: Annotated[
        bool, typer.Option("--force", help="rebuild an existing demo production in PATH")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create the demo production from bundled assets, paint every cut, export, and say where it all is."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from haikei.demo.build import build_demo

    frame = parse_frame(size)
    con = console()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=con, disable=as_json
    ) as bar:
        tasks: dict[tuple[str, int], TaskID] = {}

        def on_progress(bg: str, cand: int, frac: float, msg: str) -> None:
            if (bg, cand) not in tasks:
                tasks[(bg, cand)] = bar.add_task(f"paint {bg} #{cand}", total=1.0)
            bar.update(tasks[(bg, cand)], completed=frac)

        def step(msg: str) -> None:
            if not as_json:
                bar.console.print(f"[bold]demo:[/] {msg}")

        rep = build_demo(
            path,
            frame=frame,
            engine=engine,
            candidates=candidates,
            force=force,
            step=step,
            on_progress=on_progress,
        )
    if as_json:
        print_json(rep.as_json())
        return
    p = rep.root
    con.print(f"\n[bold green]demo production ready[/] in {p}  ({rep.seconds.get('total', 0):.0f} s)")
    con.print(
        f"  painted {rep.versions} versions with the [bold]{rep.engine}[/] engine in {rep.seconds.get('render', 0):.0f} s"
    )
    con.print(f"  layouts:        {p / 'layouts'}")
    if rep.delivery:
        con.print(f"  delivery:       {rep.delivery}  ({len(rep.delivered)} files, signed)")
        first_png = next((f for f in rep.delivered if f.endswith(".png")), "<file>.png")
        con.print(f"  verify:         haikei verify -p {p} {p / first_png}")
        con.print(f"  credits:        haikei credits -p {p}")
    con.print(f"  status:         haikei status -p {p}")
    if rep.users:
        con.print(f"  review page:    haikei serve -p {p}   then open http://127.0.0.1:8000")
        for name, role, pw in rep.users:
            con.print(f"                  log in as [bold]{name}[/] / {pw}  ({role})")
    for n in rep.notes:
        con.print(f"  [yellow]note:[/] {n}")


def register(app: typer.Typer) -> None:
    app.command()(demo)

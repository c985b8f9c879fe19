"""haikei init / status / classes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from haikei.cli.common import DbOpt, JsonOpt, ProductionOpt, console, parse_frame, print_json, production

__all__ = ["register"]


def init(
    path: Annotated[Path, typer.Argument(help="folder to create the production in")],
    name: Annotated[str, typer.Option("--name", help="production title")],
    size: Annotated[str, typer.Option("--size", help="delivery frame size WIDTHxHEIGHT")] = "1920x1080",
    episode: Annotated[str, typer.Option("--episode", help="episode code for file names, e.g. ep01")] = "",
    db: DbOpt = None,
) -> None:
    """Create a production folder: haikei.toml, a database (schema by migration) and a blob folder."""
    from haikei.app import create_production

    frame = parse_frame(size)
    ctx = create_production(path, name, frame, episode=episode, db_url=db)
    ctx.close()
    console().print(f"created production [bold]{name}[/] ({frame}) in {ctx.root}")


def status(production_path: ProductionOpt = Path("."), db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Show every BG with its cuts, status, versions and retakes."""
    from haikei.services.production import production_status

    with production(production_path, db) as ctx:
        st = production_status(ctx)
    if as_json:
        print_json(st)
        return
    p, c = st["production"], st["counts"]
    con = console()
    con.print(
        f"[bold]{p['name']}[/] {p['frame']} {p['episode']}  cuts {c['cuts']}  BGs {c['backgrounds']}  "
        f"art boards {c['artboards']}  versions {c['versions']}  jobs {c['jobs'] or '-'}"
    )
    t = Table("BG", "cuts", "size", "status", "versions", "retakes", "direction")
    for row in st["backgrounds"]:
        t.add_row(
            row["bg"],
            ",".join(row["cuts"]),
            row["size"],
            row["status_name"]
            + (f" ({row['delivery']})" if row["delivery"] else "")
            + "".join(f"; {t} variant needs paint-over again" for t in row["variants_needing_paint_over"]),
            str(row["versions"]),
            str(row["retakes"]),
            row["direction"],
        )
    con.print(t)
    for row in st["backgrounds"]:  # classes the engine painted without a board showing them
        for name, why in row.get("flags", {}).items():
            con.print(f"[yellow]{row['bg']}[/] {name}: {why}", highlight=False)


def classes(
    production_path: Annotated[
        Path | None, typer.Option("-p", "--production", help="production (for studio classes)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The region classes and their standard colours (region maps and art-board label maps use these)."""
    from haikei.domain.vocabulary import Vocabulary

    if production_path is not None:
        with production(production_path) as ctx:
            vocab = ctx.vocabulary
    else:
        vocab = Vocabulary()
    if as_json:
        print_json(vocab.as_json())
        return
    t = Table("id", "colour", "class", "RGB", "falls back to", "man-made", "JA")
    for c in vocab:
        r, g, b = c.colour
        t.add_row(
            str(c.id),
            Text("    ", style=f"on rgb({r},{g},{b})"),
            c.name,
            f"{r},{g},{b}",
            " > ".join(c.fallback) or "-",
            "yes" if c.man_made else "",
            c.ja,
        )
    console().print(t)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(status)
    app.command()(classes)

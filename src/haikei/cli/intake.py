"""haikei import / regions label / direction / boards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haikei.cli.common import DbOpt, JsonOpt, ProductionOpt, console, print_json, production, shown

__all__ = ["register"]

regions_app = typer.Typer(
    help="Region maps of layouts: label closed areas with classes.", no_args_is_help=True
)


def import_(
    folder: Annotated[
        Path, typer.Argument(help="folder of layout files (see specs/intake.md) and a cut sheet")
    ],
    artist: Annotated[str, typer.Option("--artist", help="layout artist, as credited")] = "",
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import layouts: c012_lo.png, c012_regions.png, c012_book.png, c012-c015_lo.png, c012.psd, cutsheet.csv."""
    from haikei.services.intake import import_folder

    with production(production_path, db) as ctx:
        rep = import_folder(ctx, folder, artist=artist)
    if as_json:
        print_json(rep.as_json())
        return
    con = console()
    con.print(
        f"cuts added {len(rep.added_cuts)}, BGs added {len(rep.added_backgrounds)}, "
        f"new layout revisions {len(rep.new_layouts)}, unchanged {len(rep.unchanged)}"
    )
    for bg, rev in rep.new_layouts:
        con.print(f"  {bg}: layout r{rev}")
    for bg in rep.unlabelled:
        con.print(f"  [yellow]{bg}: no region map; label it with 'haikei regions label {bg} sky@X,Y ...'[/]")
    for f, why in rep.skipped:  # file names are anyone's: shown, not obeyed
        con.print(f"  [dim]skipped {shown(f)}: {shown(why)}[/]")


@regions_app.command("label")
def label(
    bg: Annotated[str, typer.Argument(help="BG or cut, e.g. c012")],
    points: Annotated[
        list[str], typer.Argument(help="CLASS@X,Y: label the closed area at X,Y, e.g. sky@120,40")
    ],
    user: Annotated[str, typer.Option("--user", help="who labels (recorded)")] = "",
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Paint-bucket labelling of a layout's closed areas (adds a layout revision)."""
    from haikei.services.intake import label_regions_at

    with production(production_path, db) as ctx:
        rev, left = label_regions_at(ctx, bg, points, actor=user)
    msg = "fully labelled" if left == 0 else f"{left} pixels still unlabelled"
    console().print(f"{bg}: layout r{rev}, {msg}")


def direction(
    bg: Annotated[str, typer.Argument(help="BG or cut")],
    text: Annotated[
        str, typer.Argument(help="art direction, e.g. '秋の夕方、逆光' or 'autumn evening, backlit'")
    ],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set a BG's art direction (Japanese or English) and show how it was understood."""
    from dataclasses import asdict

    from haikei.services.backgrounds import set_direction

    with production(production_path, db) as ctx:
        d = set_direction(ctx, bg, text)
    data = asdict(d)
    if as_json:
        print_json(data)
        return
    t = Table("field", "value")
    for k, v in data.items():
        t.add_row(k, ", ".join(v) if isinstance(v, tuple | list) else str(v or "-"))
    console().print(t)


def boards(
    bg: Annotated[str, typer.Argument(help="BG or cut")],
    names: Annotated[
        list[str] | None, typer.Argument(help="art board names or ids (none = engine chooses)")
    ] = None,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Pin a BG to chosen art boards (no names: every board with consent, chosen by the direction's tags)."""
    from haikei.services.backgrounds import choose_artboards

    with production(production_path, db) as ctx:
        chosen = choose_artboards(ctx, bg, names or [])
    console().print(f"{bg}: art boards {', '.join(chosen) if chosen else 'chosen by direction'}")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.add_typer(regions_app, name="regions")
    app.command()(direction)
    app.command()(boards)

"""haikei artboard add / list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haikei.cli.common import DbOpt, JsonOpt, ProductionOpt, console, print_json, production
from haikei.errors import InputError

__all__ = ["register"]

artboard_app = typer.Typer(
    help="Art boards (美術ボード): painted references the engines paint from.", no_args_is_help=True
)


@artboard_app.command("add")
def add(
    image: Annotated[Path, typer.Argument(help="the painted art board")],
    labels: Annotated[Path, typer.Option("--labels", help="label map in the class colours (haikei classes)")],
    name: Annotated[str | None, typer.Option("--name", help="board name (default: file name)")] = None,
    tags: Annotated[str, typer.Option("--tags", help="comma-separated: autumn,evening,clear")] = "",
    artist: Annotated[str, typer.Option("--artist", help="the painter's name, as credited")] = "",
    licence: Annotated[
        str, typer.Option("--licence", help="licence / terms under which the studio uses it")
    ] = "",
    consent: Annotated[
        bool, typer.Option("--consent/--no-consent", help="the artist agreed to engines painting from it")
    ] = False,
    variant: Annotated[
        list[str] | None,
        typer.Option("--variant", help="TAG=IMAGE: an aligned repaint (evening=board_dusk.png)"),
    ] = None,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register an art board with its label map, artist, licence and consent."""
    from haikei.services.artboards import add_artboard

    variants: dict[str, str] = {}
    for v in variant or []:
        tag, sep, path = v.partition("=")
        if not sep or not tag or not path:
            raise InputError(f"--variant {v!r}: write TAG=IMAGE, e.g. evening=board_dusk.png")
        variants[tag] = path
    with production(production_path, db) as ctx:
        board = add_artboard(
            ctx,
            image,
            labels,
            name=name,
            tags=[t for t in tags.split(",") if t.strip()],
            artist=artist,
            licence=licence,
            consent=consent,
            variants=variants,
        )
    if as_json:
        print_json({"id": board.id, "name": board.name, "consent": board.consent, "tags": list(board.tags)})
        return
    note = "" if board.consent else "  (no consent: stored, but no engine will use it)"
    console().print(f"added art board {board.id} [bold]{board.name}[/] by {board.artist or '?'}{note}")


@artboard_app.command("list")
def list_(production_path: ProductionOpt = Path("."), db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List art boards with artist, licence, consent and the classes they show; a location board
    (an approved BG of a place) says which location, and from which cut and revision."""
    from haikei.services.artboards import artboard_classes, list_artboards
    from haikei.services.locations import location_board_sources

    with production(production_path, db) as ctx:
        boards = list_artboards(ctx)
        classes = artboard_classes(ctx)
        sources = location_board_sources(ctx)
    if as_json:
        print_json(
            [
                {
                    "id": b.id,
                    "name": b.name,
                    "artist": b.artist,
                    "licence": b.licence,
                    "consent": b.consent,
                    "tags": list(b.tags),
                    "size": [b.width, b.height],
                    "classes": classes.get(b.id, []),
                    "variants": sorted(b.variants),
                    "location": sources.get(b.id),  # null: a production board
                }
                for b in boards
            ]
        )
        return
    t = Table("id", "name", "artist", "consent", "tags", "size", "classes", "location board of", "licence")
    for b in boards:
        src = sources.get(b.id)
        where = "-"
        if src is not None:
            cut = " ".join(src["cuts"]) or src["bg"] or "?"
            where = f"{src['location']}: {cut} r{src['revision']}" + (" (retired)" if src["retired"] else "")
        t.add_row(
            str(b.id),
            b.name,
            b.artist,
            "yes" if b.consent else "[red]no[/]",
            ",".join(b.tags),
            f"{b.width}x{b.height}",
            ",".join(classes.get(b.id, [])),
            where,
            b.licence[:40],
        )
    console().print(t)


@artboard_app.command("consent")
def consent_cmd(
    board: Annotated[str, typer.Argument(help="art board name or id")],
    given: Annotated[bool, typer.Option("--yes/--no", help="consent given (--yes) or withdrawn (--no)")],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Record or withdraw the artist's consent for engines to paint from a board."""
    from haikei.services.artboards import set_consent

    with production(production_path, db) as ctx:
        b = set_consent(ctx, board, given)
    console().print(f"art board {b.name}: consent {'given' if b.consent else 'withdrawn'}")


def register(app: typer.Typer) -> None:
    app.add_typer(artboard_app, name="artboard")

"""haikei location set / clear / list / show / confirm / derived-use: places (舞台) and their boards."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haikei.cli.common import DbOpt, JsonOpt, ProductionOpt, console, print_json, production

__all__ = ["register"]

location_app = typer.Typer(
    help="Locations (舞台): cuts of one place; its approved BGs become its location boards.",
    no_args_is_help=True,
)


@location_app.command("set")
def set_cmd(
    cut: Annotated[str, typer.Argument(help="cut or BG (c012)")],
    name: Annotated[str, typer.Argument(help="the place, e.g. station or 駅前 (made if new)")],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Put a cut's BG at a location (a BG is at one location at most)."""
    from haikei.services.locations import set_location

    with production(production_path, db) as ctx:
        got = set_location(ctx, cut, name, actor="cli")
    console().print(f"{cut}: location {got}")


@location_app.command("clear")
def clear_cmd(
    cut: Annotated[str, typer.Argument(help="cut or BG (c012)")],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Take a cut's BG off its location (its existing location board stays with the place)."""
    from haikei.services.locations import set_location

    with production(production_path, db) as ctx:
        set_location(ctx, cut, None, actor="cli")
    console().print(f"{cut}: no location")


@location_app.command("list")
def list_cmd(production_path: ProductionOpt = Path("."), db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every location with its BGs and how many usable location boards it has."""
    from haikei.services.locations import list_locations

    with production(production_path, db) as ctx:
        locs = list_locations(ctx)
    if as_json:
        print_json([loc.as_json() for loc in locs])
        return
    if not locs:
        console().print("no locations yet: 'haikei location set CUT NAME' or a cut sheet's location column")
        return
    t = Table("location", "BGs", "boards")
    for loc in locs:
        t.add_row(loc.name, " ".join(loc.bgs) or "-", str(loc.boards))
    console().print(t)


@location_app.command("show")
def show_cmd(
    name: Annotated[str, typer.Argument(help="location name")],
    consistency: Annotated[
        bool,
        typer.Option(
            "--consistency", help="also measure how alike its approved BGs look (per shared class; seconds)"
        ),
    ] = False,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A location's BGs side by side with their states, boards, and why a BG has no board."""
    from haikei.services.locations import location_detail

    with production(production_path, db) as ctx:
        d = location_detail(ctx, name, consistency=consistency)
    if as_json:
        print_json(d.as_json())
        return
    out = console()
    out.print(f"[bold]{d.name}[/]")
    t = Table("BG", "cuts", "status", "approved", "location board / why not")
    for b in d.bgs:
        t.add_row(
            b.name,
            " ".join(b.cuts),
            b.status,
            f"r{b.approved_revision}" if b.approved_revision is not None else "-",
            b.board if b.board and not b.why_no_board else b.why_no_board,
        )
    out.print(t)
    for board in d.boards:
        state = (
            f"retired: {board['retired_why']}"
            if board["retired_at"]
            else ("usable" if board["usable"] else board["why_not"])
        )
        chain = ", ".join(f"{c['name']} ({c['artist']})" for c in board["chain"])
        people = ", ".join(sorted({p["name"] for p in board["painters"]}))
        out.print(
            f"  board {board['name']} ({state}): painted from {chain}; credited: {people}", markup=False
        )
    for c in d.consistency:
        dist = "n/a (no shared class)" if c["distance"] is None else f"{c['distance']:.2f}"
        out.print(
            f"  consistency {c['a']} ~ {c['b']}: {dist} (Lab; lower = more alike; shared: {', '.join(c['shared'])})",
            markup=False,
        )


@location_app.command("confirm")
def confirm_cmd(
    cut: Annotated[str, typer.Argument(help="cut or BG whose approved version becomes a location board")],
    as_user: Annotated[str, typer.Option("--as", help="the director confirming (login name)")],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Confirm that the people who painted over the approved BG agree to it becoming the
    location's board (recorded with who and when); the board is made if its chain allows it."""
    from haikei.services.locations import confirm_painters
    from haikei.services.users import get_user

    with production(production_path, db) as ctx:
        rec = confirm_painters(ctx, get_user(ctx, as_user), cut)
    if as_json:
        print_json(
            {
                "outcome": rec.outcome,
                "reason": rec.reason,
                "artboard_id": rec.artboard_id,
                "painters": list(rec.painters or []),
                "confirmed_by": rec.painters_confirmed_by,
                "confirmed_at": rec.painters_confirmed_at,
            }
        )
    elif rec.outcome == "board":
        console().print(f"{cut}: location board {rec.artboard_id} ({rec.reason or 'made'})")
    else:
        console().print(f"{cut}: approved, but no location board: {rec.reason}")
    if rec.outcome != "board":
        raise typer.Exit(6)  # consent (ConsentError's code): the chain does not allow it


@location_app.command("derived-use")
def derived_use_cmd(
    board: Annotated[str, typer.Argument(help="art board name or id")],
    allowed: Annotated[
        bool,
        typer.Option("--yes/--no", help="the painter allows (--yes) or withdraws (--no) derived use"),
    ],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Record whether a board's painter lets a painting made from it become a board itself (a
    location board): every board a location board was painted from must allow it."""
    from haikei.services.locations import set_derived_use

    with production(production_path, db) as ctx:
        b = set_derived_use(ctx, board, allowed)
    console().print(f"art board {b.name}: derived use {'allowed' if b.allows_derived_use else 'not allowed'}")


def register(app: typer.Typer) -> None:
    app.add_typer(location_app, name="location")

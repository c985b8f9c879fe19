"""haikei export / credits."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haikei.cli.common import DbOpt, JsonOpt, ProductionOpt, console, print_json, production
from haikei.errors import InputError

__all__ = ["register"]


def export_cmd(
    to: Annotated[Path, typer.Option("--to", help="delivery folder")],
    cuts: Annotated[
        str | None, typer.Option("--cuts", help="comma-separated cuts or BGs (default: all)")
    ] = None,
    only_approved: Annotated[bool, typer.Option("--only-approved", help="deliver approved BGs only")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="replace files of this delivery already in the folder (default: refuse)"
        ),
    ] = False,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Flattened PNG + layered PSD per BG for compositing, signed (C2PA), with cuts.csv for 兼用 BGs.

    The folder is checked before anything is written; files delivered there before are not replaced
    without --force (cuts.csv and delivery.json, which list the folder, are always rewritten)."""
    from haikei.services.delivery import export

    refs = [c.strip() for c in cuts.split(",") if c.strip()] if cuts else None
    with production(production_path, db) as ctx:
        res = export(ctx, to, cuts=refs, only_approved=only_approved, force=force)
    if as_json:
        print_json(res.as_json())
        return
    con = console()
    for d in res.delivered:
        con.print(
            f"  {d['file']}  ({d['bg']} r{d['revision']}, cuts {', '.join(d['cuts'])})"
            + (f", approved by {d['approved_by']}" if d["approved_by"] else "")
        )
    for bg, why in res.skipped:
        con.print(f"  [yellow]skipped {bg}: {why}[/]")
    if res.replaced:
        con.print(f"  replaced {len(res.replaced)} earlier file(s): {', '.join(res.replaced)}")
    con.print(f"delivered {len(res.delivered)} BGs to {res.folder} ({len(res.files)} files)")


def credits_cmd(
    fmt: Annotated[str, typer.Option("--format", help="text | csv | json")] = "text",
    cuts: Annotated[str | None, typer.Option("--cuts", help="comma-separated cuts (default: all)")] = None,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """The end-roll list per role, with real names: layout artists, art-board painters, paint-over artists,
    the art director who approved, and the engines used."""
    from haikei.provenance.credits import build_credits, format_credits
    from haikei.services.delivery import credits_input

    if fmt not in ("text", "csv", "json"):
        raise InputError(f"--format {fmt!r}: use text, csv or json")
    refs = [c.strip() for c in cuts.split(",") if c.strip()] if cuts else None
    with production(production_path, db) as ctx:
        data = credits_input(ctx, refs)
    typer.echo(format_credits(build_credits(data), fmt), nl=False)


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
    app.command("credits")(credits_cmd)

"""haikei kitsu check / pull / push / sync [--watch]: the studio's Kitsu tracker (see specs/kitsu.md).

Credentials come only from the environment: HAIKEI_KITSU_EMAIL + HAIKEI_KITSU_PASSWORD, or a bot
token in HAIKEI_KITSU_TOKEN; the server from haikei.toml [kitsu] host (or HAIKEI_KITSU_HOST).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from haikei.cli.common import DbOpt, JsonOpt, ProductionOpt, console, print_json, production

__all__ = ["register"]

kitsu_app = typer.Typer(
    help="The studio's Kitsu tracker: shots in, BG versions out for review, review back.",
    no_args_is_help=True,
)


def _connect(ctx: Any) -> Any:
    from haikei.kitsu.client import Kitsu

    return Kitsu.from_settings(ctx.settings)  # retries are silent: one line when they are spent


@kitsu_app.command("check")
def check_cmd(production_path: ProductionOpt = Path("."), db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Say what haikei can reach in Kitsu, as whom, and what the project holds."""
    from haikei.kitsu.sync import check

    with production(production_path, db) as ctx:
        info = check(ctx, _connect(ctx))
    if as_json:
        print_json(info)
        return
    for key, value in info.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        console().print(f"{key.replace('_', ' '):16} {shown}")


@kitsu_app.command("pull")
def pull_cmd(production_path: ProductionOpt = Path("."), db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Kitsu shots -> cuts and BGs (frame size, 兼用 groups, assignees, layout previews)."""
    from haikei.kitsu.sync import KitsuProject, pull

    t0 = time.perf_counter()
    with production(production_path, db) as ctx:
        k = _connect(ctx)
        rep = pull(ctx, KitsuProject.load(ctx, k))
    if as_json:
        print_json(
            {
                "shots": rep.shots,
                "added_cuts": rep.added_cuts,
                "added_backgrounds": rep.added_backgrounds,
                "linked_cuts": rep.linked_cuts,
                "new_layouts": [{"bg": b, "revision": r} for b, r in rep.new_layouts],
                "assigned": [{"bg": b, "user": u} for b, u in rep.assigned],
                "located": [{"bg": b, "location": loc} for b, loc in rep.located],
                "created_tasks": rep.created_tasks,
                "skipped": [{"shot": s, "reason": r} for s, r in rep.skipped],
                "requests": k.requests,
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
        return
    out = console()
    out.print(
        f"{rep.shots} shots: {len(rep.added_cuts)} new cuts, {len(rep.added_backgrounds)} new BGs, "
        f"{len(rep.new_layouts)} new layout revisions, {len(rep.assigned)} assignments, "
        f"{len(rep.located)} locations" + ("" if rep.changed() else " (nothing changed)")
    )
    for shot, why in rep.skipped:
        out.print(f"[yellow]skipped[/] {shot}: {why}")


@kitsu_app.command("push")
def push_cmd(
    create_shots: Annotated[
        bool,
        typer.Option(
            "--create-shots",
            help="make the Kitsu project (default name: the production's) and a shot per haikei cut it lacks",
        ),
    ] = False,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Each BG version Kitsu has not seen -> a preview on its shots' Background tasks."""
    from haikei.kitsu import sync

    with production(production_path, db) as ctx:
        k = _connect(ctx)
        if create_shots:
            name, made = sync.create_shots(ctx, k)
            sync.pull(ctx, sync.KitsuProject.load(ctx, k))
            if not as_json:
                console().print(f"Kitsu project {name!r}: {len(made)} shots made")
        rep = sync.push(ctx, sync.KitsuProject.load(ctx, k))
    if as_json:
        print_json(
            {
                "published": [{"bg": b, "revision": r, "shot": s} for b, r, s in rep.published],
                "statuses": [{"shot": s, "status": st} for s, st in rep.statuses],
                "resumed": rep.resumed,
                "requests": k.requests,
            }
        )
        return
    out = console()
    for bg, rev, shot in rep.published:
        out.print(f"published {bg} r{rev} on {shot}")
    for shot, st in rep.statuses:
        out.print(f"status {st} on {shot}")
    if not rep.published and not rep.statuses:
        out.print("nothing new to publish")


def _print_sync(rep: Any) -> None:
    out = console()
    p, r, u = rep.pull, rep.review, rep.push
    out.print(
        f"kitsu sync: {p.shots} shots ({len(p.added_cuts)} new cuts, {len(p.new_layouts)} layouts, "
        f"{len(p.located)} locations); "
        f"review: {r.comments} comments, {r.retakes} retakes, {r.rejects} rejections, {r.approvals} approvals, "
        f"{r.kept} kept as comments; push: {len(u.published)} previews, {len(u.statuses)} statuses "
        f"({rep.requests} requests, {rep.seconds:.2f} s)"
    )
    for line in r.lines:
        out.print(f"  {line}")


@kitsu_app.command("sync")
def sync_cmd(
    watch: Annotated[
        bool, typer.Option("--watch", help="repeat: poll Kitsu, back off while it is down")
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option("--interval", min=0.5, help="seconds between passes (default [kitsu] poll_seconds)"),
    ] = None,
    passes: Annotated[
        int, typer.Option("--passes", min=0, help="--watch: stop after N passes (0: never)")
    ] = 0,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One pass: pull, review back, push. --watch repeats (Ctrl-C stops)."""
    from haikei.kitsu.client import KitsuUnavailable
    from haikei.kitsu.sync import sync_once

    with production(production_path, db) as ctx:
        every = interval if interval is not None else ctx.settings.kitsu.poll_seconds
        if not watch:
            rep = sync_once(ctx, _connect(ctx))
            print_json(rep.as_json()) if as_json else _print_sync(rep)
            return
        k = None
        n, wait = 0, every
        while True:
            try:
                k = k or _connect(ctx)
                rep = sync_once(ctx, k)
                print_json(rep.as_json()) if as_json else _print_sync(rep)
                wait = every
            except KitsuUnavailable as exc:
                typer.echo(f"warning: {exc}", err=True)  # one line a failed pass
                wait = min(max(wait * 2, every), 300.0)  # back off while Kitsu is down
                k = None
            n += 1
            if passes and n >= passes:
                return
            time.sleep(wait)


def register(app: typer.Typer) -> None:
    app.add_typer(kitsu_app, name="kitsu")

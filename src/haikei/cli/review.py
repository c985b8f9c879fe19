"""haikei serve / user add / token / passwd / role / disable / list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haikei.cli.common import DbOpt, JsonOpt, ProductionOpt, console, print_json, production

__all__ = ["register"]

user_app = typer.Typer(help="People who review: users, roles, API tokens.", no_args_is_help=True)


def serve(
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="address to listen on (127.0.0.1: this machine only)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port")] = 8000,
    workers: Annotated[
        int,
        typer.Option("--workers", min=0, max=16, help="in-process render workers for retakes and variants"),
    ] = 1,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="mark cookies Secure (behind HTTPS)")
    ] = False,
) -> None:
    """Serve the review pages and the JSON API (/api, docs at /api/docs) for one production."""
    import uvicorn

    from haikei.app import open_production
    from haikei.services.users import list_users
    from haikei.web import create_app

    ctx = open_production(production_path, db)
    if not list_users(ctx):
        console().print("[yellow]no users yet:[/] add one with 'haikei user add NAME --role director'")
    app = create_app(ctx, workers=workers, secure_cookies=secure_cookies)
    console().print(
        f"haikei review for {ctx.settings.production.name}: http://{host}:{port}/  (Ctrl-C stops)"
    )
    try:
        # proxy_headers off: X-Forwarded-For is believed only from [web] trusted_proxies (web.app)
        uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
    finally:
        ctx.close()


def user_add(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option("--role", help="director | artist | viewer")],
    password: Annotated[
        str | None, typer.Option("--password", help="password (default: asked for, not echoed)")
    ] = None,
    display_name: Annotated[str, typer.Option("--display-name", help="the name shown and credited")] = "",
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Add a person who can log in to the review pages."""
    from haikei.services.users import add_user

    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with production(production_path, db) as ctx:
        u = add_user(ctx, name, role, password=password, display_name=display_name)
    console().print(f"added {u.name} ({u.role.value})")


def user_token(
    name: Annotated[str, typer.Argument(help="login name")],
    label: Annotated[str, typer.Option("--label", help="what the token is for")] = "",
    revoke: Annotated[
        bool, typer.Option("--revoke", help="delete NAME's tokens instead (only --label's, if given)")
    ] = False,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Make an API token (Authorization: Bearer TOKEN). It is shown once; only its hash is kept."""
    from haikei.services.users import create_token, revoke_tokens

    with production(production_path, db) as ctx:
        if revoke:
            n = revoke_tokens(ctx, name, label or None)
            console().print(f"{n} API token(s) of {name} revoked")
            return
        token = create_token(ctx, name, label)
    typer.echo(token)


def user_disable(
    name: Annotated[str, typer.Argument(help="login name")],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Someone leaves: no more logins, their web sessions end and their API tokens are deleted
    (their notes and credits stay)."""
    from haikei.services.users import disable_user

    with production(production_path, db) as ctx:
        ended, tokens = disable_user(ctx, name)
    console().print(f"{name} disabled; {ended} web session(s) ended, {tokens} API token(s) deleted")


def user_passwd(
    name: Annotated[str, typer.Argument(help="login name")],
    password: Annotated[
        str | None, typer.Option("--password", help="new password (default: asked for, not echoed)")
    ] = None,
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Set a person's password (e.g. after they were locked out by too many failed logins)."""
    from haikei.services.users import set_password

    if password is None:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    with production(production_path, db) as ctx:
        ended = set_password(ctx, name, password)
    console().print(f"password of {name} changed; {ended} web session(s) ended (they log in again)")


def user_role(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Argument(help="director | artist | viewer")],
    production_path: ProductionOpt = Path("."),
    db: DbOpt = None,
) -> None:
    """Give a person another role; their web sessions end (they log in again under it)."""
    from haikei.services.users import set_role

    with production(production_path, db) as ctx:
        ended = set_role(ctx, name, role)
    console().print(f"{name} is now a {role}; {ended} web session(s) ended")


def user_list(production_path: ProductionOpt = Path("."), db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List the people and their roles."""
    from haikei.services.users import list_users

    with production(production_path, db) as ctx:
        users = list_users(ctx)
    if as_json:
        print_json([{"name": u.name, "role": u.role.value, "display_name": u.display_name} for u in users])
        return
    for u in users:
        console().print(f"{u.name:20} {u.role.value:9} {u.display_name}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    user_app.command("add")(user_add)
    user_app.command("token")(user_token)
    user_app.command("passwd")(user_passwd)
    user_app.command("role")(user_role)
    user_app.command("disable")(user_disable)
    user_app.command("list")(user_list)
    app.add_typer(user_app, name="user")

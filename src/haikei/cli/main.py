"""The `haikei` command. Each module under haikei.cli registers its commands on the root app."""

from __future__ import annotations

import importlib
import os
import sys

import typer

from haikei.errors import HaikeiError

__all__ = ["build_app", "main"]

# modules that add commands: each has register(app)
COMMAND_MODULES = (
    "haikei.cli.production",
    "haikei.cli.artboards",
    "haikei.cli.intake",
    "haikei.cli.render",
    "haikei.cli.paint",
    "haikei.cli.quality",
    "haikei.cli.provenance",
    "haikei.cli.delivery",
    "haikei.cli.review",
    "haikei.cli.jobs",
    "haikei.cli.demo",
    "haikei.cli.kitsu",
    "haikei.cli.locations",
)


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="haikei",
        help="haikei (背景): layouts in, painted backgrounds out; people review, retake, approve; provenance signed.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    for mod_name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError as exc:
            if exc.name == mod_name:  # a command group not present in this build
                continue
            raise
        mod.register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
    app = build_app()
    try:
        # standalone_mode=False: click returns typer.Exit's code instead of raising it
        rc = app(args=argv, standalone_mode=False)
    except HaikeiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(rc, int) and rc:
        sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover
    main()

"""Running the command line in tests: the whole ``haikei`` app, or one module's commands alone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import typer

from haikei.cli.main import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``haikei ARGS`` as a user runs it (errors become one line and an exit code): (code, stdout, stderr)."""
    code = 0
    try:
        main(args)
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def sub_app(register: Callable[[typer.Typer], None]) -> typer.Typer:
    """A bare Typer app with only one CLI module's commands (exceptions reach the test unchanged)."""
    app = typer.Typer()
    register(app)
    return app

"""The `haikei` command. Each module under haikei.cli registers its commands on the root app.

Whatever goes wrong, the user sees one line on stderr and an exit code, never a traceback:

* a usage error (unknown command or option, missing or extra argument, bad value): one line naming the
  command and how to get its help, exit 2;
* a :class:`~haikei.errors.HaikeiError`: its message, its exit code (see haikei/errors.py);
* a file-system error haikei did not foresee: the path and the reason, exit 1;
* anything else is a bug: one line saying so, exit 70, and ``HAIKEI_DEBUG=1`` shows the traceback;
* Ctrl-C: exit 130; a prompt with no terminal to answer it: a usage error, exit 2.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer

from haikei.domain.text import printable
from haikei.errors import HaikeiError

__all__ = ["DEBUG_ENV", "EXIT_INTERNAL", "EXIT_USAGE", "build_app", "main"]

DEBUG_ENV = "HAIKEI_DEBUG"
EXIT_USAGE = 2
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in haikei, not something the user did

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


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def _one_line(text: str) -> str:
    """One line a terminal shows as written: line breaks become spaces; other control characters (from a
    file name or a file's contents: escape sequences, bidi overrides) are shown escaped, not obeyed."""
    return printable(" ".join(str(text).replace("\t", " ").splitlines()))


def _is_command_line_error(exc: BaseException) -> bool:
    """An error of the command-line parser (typer's own exceptions, or click's in older typers)."""
    if isinstance(exc, typer.TyperException):
        return True
    try:
        import click
    except ImportError:  # pragma: no cover - typer >= 0.2x vendors its own click
        return False
    return isinstance(exc, click.ClickException)


def _usage_error(exc: Any) -> int:
    """Print a parser error as one line and return its exit code."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # bare 'haikei' or 'haikei keys': the help is the answer
        text = exc.format_message()  # (typer's rich help has already printed itself and leaves this empty)
        if text.strip():
            sys.stdout.write(text.rstrip("\n") + "\n")
        return EXIT_USAGE
    code = int(getattr(exc, "exit_code", EXIT_USAGE) or EXIT_USAGE)
    message = _one_line(exc.format_message()).rstrip(".")
    command = getattr(ctx, "command_path", "") or "haikei"
    print(f"error: {command}: {message}; see '{command} --help'", file=sys.stderr)
    return code


def _is_database_error(exc: BaseException) -> bool:
    try:
        from sqlalchemy.exc import DBAPIError
    except ImportError:  # pragma: no cover - sqlalchemy is a core dependency
        return False
    return isinstance(exc, DBAPIError)


def _last_resort(exc: BaseException) -> int:
    """One line for an exception nobody expected; the traceback only with HAIKEI_DEBUG=1."""
    hint = f"run again with {DEBUG_ENV}=1 to see the traceback"
    if isinstance(exc, OSError):
        reason = exc.strerror or _one_line(str(exc)) or type(exc).__name__
        if exc.filename is not None:  # the file system said no about a path: that path is the answer
            print(f"error: {_one_line(str(exc.filename))}: {reason}", file=sys.stderr)
        else:
            print(f"error: {reason}; {hint}", file=sys.stderr)
        return 1
    detail = _one_line(str(getattr(exc, "orig", None) or exc))
    if _is_database_error(exc):
        print(
            f"error: the production database failed ({type(exc).__name__}: {detail[:300]}); check "
            f"[database] url in haikei.toml and that the database is reachable and up to date; {hint}",
            file=sys.stderr,
        )
        return 1
    print(
        f"error: internal error ({type(exc).__name__}{': ' + detail[:300] if detail else ''}); "
        f"this is a bug in haikei: {hint} and report it",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _quiet_broken_pipe() -> None:
    """`haikei status | head`: the reader went away; stop quietly, as other command-line tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout is not a real file (captured in tests)
        pass


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
    try:
        app = build_app()
        # standalone_mode=False: click returns typer.Exit's code instead of raising it
        rc = app(args=argv, prog_name="haikei", standalone_mode=False)
    except HaikeiError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        interactive = sys.stdin is not None and sys.stdin.isatty()
        print(
            "aborted"
            if interactive
            else "aborted: the command asked a question and there is no terminal to answer it "
            "(input is not a terminal); give the answer as an option (see the command's --help)",
            file=sys.stderr,
        )
        sys.exit(130 if interactive else EXIT_USAGE)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        _quiet_broken_pipe()
        sys.exit(141)
    except Exception as exc:
        if _is_command_line_error(exc):
            sys.exit(_usage_error(exc))
        if _debug():
            raise
        sys.exit(_last_resort(exc))
    if isinstance(rc, int) and rc:
        sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover
    main()

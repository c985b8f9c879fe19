"""Options and helpers shared by every CLI module."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from haikei.domain.models import FrameSize
from haikei.errors import InputError
from haikei.services.context import ServiceContext

__all__ = [
    "DbOpt",
    "JsonOpt",
    "ProductionOpt",
    "console",
    "err_console",
    "parse_frame",
    "print_json",
    "production",
]

ProductionOpt = Annotated[
    Path,
    typer.Option("-p", "--production", help="production folder (default: the current directory)"),
]
DbOpt = Annotated[
    str | None,
    typer.Option("--db", help="database URL overriding haikei.toml (sqlite:///FILE or postgresql://...)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def parse_frame(text: str, option: str = "--size") -> FrameSize:
    """A WIDTHxHEIGHT option value, or InputError naming the option."""
    try:
        return FrameSize.parse(text)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


@contextmanager
def production(path: Path, db: str | None = None) -> Iterator[ServiceContext]:
    from haikei.app import open_production

    ctx = open_production(path, db)
    try:
        yield ctx
    finally:
        ctx.close()

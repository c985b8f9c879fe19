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
from rich.markup import escape

from haikei.domain.limits import DEFAULT_LIMITS, Limits
from haikei.domain.models import FrameSize
from haikei.domain.text import printable
from haikei.errors import InputError
from haikei.services.context import ServiceContext

__all__ = [
    "MAX_PRIORITY",
    "MAX_ROW_ID",
    "MAX_SEED",
    "MIN_PRIORITY",
    "DbOpt",
    "JsonOpt",
    "ProductionOpt",
    "console",
    "err_console",
    "parse_frame",
    "print_json",
    "production",
    "shown",
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


# row ids are int4 in PostgreSQL (and SQLite refuses 2^63 and more): a larger id is a typo, refused
# while the command line is parsed, before anything reaches the database (as in haikei.web.ids)
MAX_ROW_ID = 2**31 - 1
MAX_SEED = 2**63 - 1 - 64  # seeds go into recipes as int64; candidate i uses seed + i (i < 64)
MIN_PRIORITY, MAX_PRIORITY = -(2**31), 2**31 - 1  # the jobs table's priority column is an int4


def shown(text: object) -> str:
    """Text from a file name or a file, safe to print on a rich console: control characters (terminal
    escape sequences, line breaks, bidi overrides) escaped, rich markup ('[red]') shown as written."""
    return escape(printable(text))


def console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def parse_frame(text: str, option: str = "--size", limits: Limits = DEFAULT_LIMITS) -> FrameSize:
    """A WIDTHxHEIGHT option value within the frame limits, or InputError naming the option."""
    try:
        frame = FrameSize.parse(text)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None
    side = max(frame.width, frame.height)
    if side > limits.max_frame_side:
        raise InputError(
            f"{option}: frame {frame} is over the {limits.max_frame_side} px limit per side; "
            "a BG larger than its frame is a PAN (give pan_length in the cut sheet)"
        )
    if frame.width * frame.height > limits.max_pixels:
        raise InputError(f"{option}: frame {frame} is over the {limits.describe_pixels()} limit")
    return frame


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

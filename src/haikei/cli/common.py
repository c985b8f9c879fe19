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

from haikei.domain.limits import DEFAULT_LIMITS, Limits
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

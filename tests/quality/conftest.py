"""Fixtures shared by the quality tests."""

from __future__ import annotations

import pytest
import typer

from haikei.cli.quality import register
from tests.foundation.cli import sub_app


@pytest.fixture
def app() -> typer.Typer:
    """The `haikei quality` / `haikei bench` commands on a Typer app of their own."""
    return sub_app(register)

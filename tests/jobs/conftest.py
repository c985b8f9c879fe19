"""Fixtures of the job-queue tests: one production per test, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from haikei.jobs.testbed import build_production
from haikei.services.context import ServiceContext

SIZE = (96, 64)  # tiny scene layouts: renders take a fraction of a second


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None (SQLite in the production folder) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def make_prod(tmp_path: Path, db_url: str | None) -> Iterator[object]:
    """make_prod(n_bgs) -> ServiceContext of a fresh production with ``n_bgs`` scene BGs."""
    made: list[ServiceContext] = []

    def make(n_bgs: int = 4, size: tuple[int, int] = SIZE, name: str = "prod") -> ServiceContext:
        ctx = build_production(tmp_path / name, n_bgs, size[0], size[1], db_url=db_url, board_scale=0.25)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()

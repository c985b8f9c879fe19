"""Migration 0005 makes exactly what tables.py declares for the Kitsu sync, and downgrades cleanly."""

from __future__ import annotations

from typing import Any


def _kitsu_diffs(ctx: Any) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from haikei.store.tables import Base

    with ctx.db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    return [d for d in diffs if "kitsu" in repr(d)]


def test_0005_matches_the_tables_and_downgrades(production: Any) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect

    from haikei.store.db import _alembic_config

    assert _kitsu_diffs(production) == []
    url = production.db.engine.url.render_as_string(hide_password=False)
    production.db.dispose()
    plain = create_engine(url)
    cfg = _alembic_config(url)
    with plain.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    with plain.connect() as conn:
        assert not [t for t in inspect(conn).get_table_names() if t.startswith("kitsu")]
    with plain.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    plain.dispose()
    assert _kitsu_diffs(production) == []

"""Migration 0006 makes exactly what tables.py declares, on SQLite and on PostgreSQL, and a
filled production (versions referring to its BGs) migrates in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.locations.conftest import write_location_layouts

MINE = (
    "locations",
    "location_board_records",
    "location_id",
    "allows_derived_use",
    "derived_use_recorded_at",
    "source_version_id",
    "retired_at",
    "'chain'",
    "'painters'",
)


def _diffs(ctx) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from haikei.store.tables import Base

    with ctx.db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    return [d for d in diffs if any(m in repr(d) for m in MINE)]


def test_0006_matches_the_tables_on_sqlite(place) -> None:
    assert _diffs(place) == []


def test_0006_upgrades_a_filled_production(tmp_path: Path) -> None:
    """A production made at 0005 with cuts, versions and boards takes 0006 without a table copy."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from haikei.app import create_production, open_production
    from haikei.domain.models import FrameSize
    from haikei.services.artboards import add_artboard
    from haikei.services.intake import import_folder
    from haikei.services.locations import set_location
    from haikei.services.rendering import render_backgrounds
    from haikei.store.db import _alembic_config
    from tests.conftest import write_board

    ctx = create_production(tmp_path / "p", "Old", FrameSize(64, 40))
    img, lab = write_board(tmp_path, "b")
    add_artboard(ctx, img, lab, name="b", artist="A", consent=True)
    import_folder(ctx, write_location_layouts(tmp_path / "lo"))
    render_backgrounds(ctx, ["c001"], engine="baseline", candidates=1)
    url = ctx.db.engine.url.render_as_string(hide_password=False)
    ctx.close()
    # back to 0005 (a table copy: on SQLite only with foreign keys off, as a plain engine has them)
    plain = create_engine(url)
    cfg = _alembic_config(url)
    with plain.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    with plain.connect() as conn:
        assert "locations" not in [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))]
        assert conn.execute(text("SELECT count(*) FROM versions")).scalar() == 1
    plain.dispose()
    ctx = open_production(tmp_path / "p", migrate=True)  # 0006 on the filled database
    try:
        assert set_location(ctx, "c001", "house") == "house"
        assert _diffs(ctx) == []
    finally:
        ctx.close()


@pytest.mark.postgres
def test_locations_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """0006 on a studio's PostgreSQL: the schema matches, and approval makes a location board."""
    from haikei.app import create_production
    from haikei.domain.models import FrameSize
    from haikei.services.artboards import add_artboard
    from haikei.services.intake import import_folder
    from haikei.services.locations import list_locations
    from haikei.services.rendering import render_backgrounds
    from haikei.services.review import approve, bg_detail
    from haikei.services.users import add_user, get_user
    from tests.conftest import write_board

    ctx = create_production(tmp_path / "pg", "PG", FrameSize(64, 40), db_url=pg_url)
    try:
        assert _diffs(ctx) == []
        img, lab = write_board(tmp_path, "b")
        add_artboard(ctx, img, lab, name="b", artist="A", consent=True, allows_derived_use=True)
        import_folder(ctx, write_location_layouts(tmp_path / "lo"))
        (v,) = render_backgrounds(ctx, ["c001"], engine="baseline", candidates=1)
        add_user(ctx, "haruka", "director", password="haruka-pass-1")
        approve(ctx, get_user(ctx, "haruka"), "c001", v.id, bg_detail(ctx, "c001").bg.lock_version)
        assert [(loc.name, loc.boards) for loc in list_locations(ctx)] == [("house", 1)]
    finally:
        ctx.close()

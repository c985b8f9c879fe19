"""locations: places several BGs show, and their location boards

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 04:30:00

- ``locations``: a place (舞台) several BGs show; a BG belongs to at most one
  (``backgrounds.location_id``).
- ``artboards``: ``allows_derived_use`` (the painter lets a painting made from the board become a
  board itself; recorded with the consent, ``derived_use_recorded_at``); a location board is an art
  board row with ``location_id``, the approved version it is (``source_version_id``), the boards it
  was painted from (``chain``) and the people whose paint is in it (``painters``); a replaced one
  gets ``retired_at`` and stays (renders that used it keep pointing at it).
- ``location_board_records``: what an approval of a located BG did: made a location board, or why
  not, with who confirmed the paint-over artists' agreement and when.

Columns are added with plain ALTER TABLE ADD COLUMN (no batch copy): SQLite runs with foreign keys
on, and copying ``backgrounds`` (which versions and cuts refer to) would trip them on a filled
production.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, target: str, name: str) -> None:
    """A nullable integer column referring to ``target.id``. SQLite cannot ALTER a constraint in
    but accepts an inline REFERENCES on ADD COLUMN (the column is NULL on every existing row)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES {target}(id)")
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, target, [column], ["id"])


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(length=100), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", name="uq_locations_name"),
    )
    _add_reference("backgrounds", "location_id", "locations", "fk_bg_location")
    op.create_index("ix_backgrounds_location", "backgrounds", ["location_id"], unique=False)
    op.add_column(
        "artboards",
        sa.Column("allows_derived_use", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("artboards", sa.Column("derived_use_recorded_at", sa.DateTime(), nullable=True))
    _add_reference("artboards", "location_id", "locations", "fk_artboard_location")
    _add_reference("artboards", "source_version_id", "versions", "fk_artboard_source_version")
    op.add_column("artboards", sa.Column("retired_at", sa.DateTime(), nullable=True))
    op.add_column("artboards", sa.Column("chain", sa.JSON(), nullable=True))
    op.add_column("artboards", sa.Column("painters", sa.JSON(), nullable=True))
    op.create_index("ix_artboards_location", "artboards", ["location_id"], unique=False)
    op.create_table(
        "location_board_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("background_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("artboard_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("painters", sa.JSON(), nullable=False),
        sa.Column("painters_confirmed_by", sa.String(length=100), nullable=True),
        sa.Column("painters_confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"]),
        sa.ForeignKeyConstraint(["background_id"], ["backgrounds.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"]),
        sa.ForeignKeyConstraint(["artboard_id"], ["artboards.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_location_board_records_bg", "location_board_records", ["background_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_location_board_records_bg", table_name="location_board_records")
    op.drop_table("location_board_records")
    op.drop_index("ix_artboards_location", table_name="artboards")
    op.drop_index("ix_backgrounds_location", table_name="backgrounds")
    # dropping a column that carries a foreign key needs a table copy on SQLite: batch mode
    with op.batch_alter_table("artboards", schema=None) as batch_op:
        for col in (
            "painters",
            "chain",
            "retired_at",
            "source_version_id",
            "location_id",
            "derived_use_recorded_at",
            "allows_derived_use",
        ):
            batch_op.drop_column(col)
    with op.batch_alter_table("backgrounds", schema=None) as batch_op:
        batch_op.drop_column("location_id")
    op.drop_table("locations")

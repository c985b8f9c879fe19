"""job queue: engine and due date on jobs, one version per render key

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:30:00

- ``jobs.engine``: claimers pick jobs for the engines they can run (a CPU-only node takes
  exemplar/baseline, a GPU actor its model) and batch jobs of the same engine.
- ``jobs.due_at``: the earliest due date of the cuts the BG serves, copied at submit, so the
  claim order (retakes first, then due date) needs no join.
- ``uq_versions_render_key``: a BG never gets two versions with the same non-empty render key,
  whatever a worker does; it replaces the plain index on ``versions.render_key``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("engine", sa.String(length=50), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_jobs_background", ["background_id"], unique=False)
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index("ix_versions_render_key")
    op.create_index(
        "uq_versions_render_key",
        "versions",
        ["background_id", "render_key"],
        unique=True,
        sqlite_where=sa.text("render_key <> ''"),
        postgresql_where=sa.text("render_key <> ''"),
    )


def downgrade() -> None:
    op.drop_index("uq_versions_render_key", table_name="versions")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.create_index("ix_versions_render_key", ["render_key"], unique=False)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_background")
        batch_op.drop_column("due_at")
        batch_op.drop_column("engine")

"""kitsu: sync cursors and the mapping between haikei and Kitsu ids

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 04:30:00

- ``kitsu_shots``: a Kitsu shot pulled as a cut (its Background / Layout task ids, the last layout
  preview imported, frame count).
- ``kitsu_task_cursors``: per Background task, the time of the last comment read and the status
  haikei last set there.
- ``kitsu_comments``: every Kitsu comment the sync acted on (pending, then done): no comment is
  applied twice.
- ``kitsu_pushes``: every (version, task) published (pending, then done): no second preview.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kitsu_shots",
        sa.Column("kitsu_id", sa.String(length=36), nullable=False),
        sa.Column("cut_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("nb_frames", sa.Integer(), nullable=True),
        sa.Column("bg_task_id", sa.String(length=36), nullable=True),
        sa.Column("layout_task_id", sa.String(length=36), nullable=True),
        sa.Column("layout_preview_id", sa.String(length=36), nullable=True),
        sa.Column("pulled_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["cut_id"], ["cuts.id"]),
        sa.PrimaryKeyConstraint("kitsu_id"),
        sa.UniqueConstraint("cut_id"),
    )
    op.create_index("ix_kitsu_shots_bg_task_id", "kitsu_shots", ["bg_task_id"], unique=False)
    op.create_table(
        "kitsu_task_cursors",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("last_comment_at", sa.String(length=40), nullable=False),
        sa.Column("pushed_status", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_table(
        "kitsu_comments",
        sa.Column("kitsu_id", sa.String(length=36), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("background_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("objects", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["background_id"], ["backgrounds.id"]),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"]),
        sa.PrimaryKeyConstraint("kitsu_id"),
    )
    op.create_index("ix_kitsu_comments_task_id", "kitsu_comments", ["task_id"], unique=False)
    op.create_table(
        "kitsu_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("comment_id", sa.String(length=36), nullable=True),
        sa.Column("preview_file_id", sa.String(length=36), nullable=True),
        sa.Column("preview_at", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id", "task_id", name="uq_kitsu_push"),
    )
    op.create_index("ix_kitsu_pushes_task_id", "kitsu_pushes", ["task_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_kitsu_pushes_task_id", table_name="kitsu_pushes")
    op.drop_table("kitsu_pushes")
    op.drop_index("ix_kitsu_comments_task_id", table_name="kitsu_comments")
    op.drop_table("kitsu_comments")
    op.drop_table("kitsu_task_cursors")
    op.drop_index("ix_kitsu_shots_bg_task_id", table_name="kitsu_shots")
    op.drop_table("kitsu_shots")

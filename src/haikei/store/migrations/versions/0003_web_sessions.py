"""web sessions: a server-side record per login (id, user, expiry, revoked)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 04:30:00

- ``web_sessions``: one row per login to the review pages. The signed cookie carries only a
  random session key; ``id`` is its SHA-256. Every request checks the row (not revoked, not
  expired, user active); logout revokes it, a password or role change revokes all of that
  person's rows. ``last_seen_at`` is refreshed at most every few minutes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_why", sa.String(length=100), nullable=False, server_default=""),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_sessions_user", "web_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_web_sessions_user", table_name="web_sessions")
    op.drop_table("web_sessions")

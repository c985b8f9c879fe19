"""SQLAlchemy 2 tables. The schema is created by Alembic migrations (store/migrations), never create_all."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class ProductionRow(Base):
    __tablename__ = "production"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    episode: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ReviewStatusRow(Base):
    __tablename__ = "review_statuses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    short_name: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    is_wip: Mapped[bool] = mapped_column(Boolean, default=False)
    is_retake: Mapped[bool] = mapped_column(Boolean, default=False)
    is_feedback_request: Mapped[bool] = mapped_column(Boolean, default=False)
    is_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    is_done: Mapped[bool] = mapped_column(Boolean, default=False)
    colour: Mapped[str] = mapped_column(String(20), default="#888888")


class BackgroundRow(Base):
    __tablename__ = "backgrounds"
    __table_args__ = (Index("ix_backgrounds_location", "location_id"),)  # 0006
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    status_id: Mapped[int] = mapped_column(ForeignKey("review_statuses.id"))
    direction_text: Mapped[str] = mapped_column(Text, default="")
    artboard_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)  # explicit choice; empty = by tags
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", use_alter=True, name="fk_bg_current"), nullable=True
    )
    approved_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", use_alter=True, name="fk_bg_approved"), nullable=True
    )
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    location_id: Mapped[int | None] = mapped_column(  # 0006: the place (舞台) it shows
        ForeignKey("locations.id", name="fk_bg_location"), nullable=True
    )

    status: Mapped[ReviewStatusRow] = relationship(lazy="joined")
    cuts: Mapped[list[CutRow]] = relationship(back_populates="background", order_by="CutRow.number")


class CutRow(Base):
    __tablename__ = "cuts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    episode: Mapped[str] = mapped_column(String(50), default="")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    pan_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pan_direction: Mapped[str | None] = mapped_column(String(10), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    background_id: Mapped[int | None] = mapped_column(ForeignKey("backgrounds.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    background: Mapped[BackgroundRow | None] = relationship(back_populates="cuts")


class LayoutRow(Base):
    __tablename__ = "layouts"
    __table_args__ = (UniqueConstraint("background_id", "revision", name="uq_layout_revision"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    background_id: Mapped[int] = mapped_column(ForeignKey("backgrounds.id"))
    revision: Mapped[int] = mapped_column(Integer)
    lines_blob: Mapped[str] = mapped_column(String(64))
    regions_blob: Mapped[str | None] = mapped_column(String(64), nullable=True)
    book_blob: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source_name: Mapped[str] = mapped_column(String(300), default="")
    source_hash: Mapped[str] = mapped_column(String(64), default="")  # hash of the files it came from
    labelled: Mapped[bool] = mapped_column(Boolean, default=True)
    artist: Mapped[str] = mapped_column(String(200), default="")
    cleanup: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what intake did (scan clean-up ...)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ArtBoardRow(Base):
    __tablename__ = "artboards"
    __table_args__ = (Index("ix_artboards_location", "location_id"),)  # 0006
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    image_blob: Mapped[str] = mapped_column(String(64))
    labels_blob: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    artist: Mapped[str] = mapped_column(String(200), default="")
    licence: Mapped[str] = mapped_column(Text, default="")
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    variants: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # tag -> image blob
    classes: Mapped[list[Any]] = mapped_column(JSON, default=list)  # class names it shows
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # 0006 locations: may a painting made from it become a board itself (recorded with the consent)
    allows_derived_use: Mapped[bool] = mapped_column(Boolean, default=False)
    derived_use_recorded_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # a location board: the approved version it is, the boards it was painted from, its painters
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", name="fk_artboard_location"), nullable=True
    )
    source_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", name="fk_artboard_source_version"), nullable=True
    )
    retired_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    chain: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True, default=list)
    painters: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True, default=list)


class VersionRow(Base):
    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("background_id", "revision", name="uq_version_revision"),
        # one version per (BG, render key); human versions have an empty key (migration 0002)
        Index(
            "uq_versions_render_key",
            "background_id",
            "render_key",
            unique=True,
            sqlite_where=text("render_key <> ''"),
            postgresql_where=text("render_key <> ''"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    background_id: Mapped[int] = mapped_column(ForeignKey("backgrounds.id"))
    revision: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    engine: Mapped[str] = mapped_column(String(50), default="")
    engine_version: Mapped[str] = mapped_column(String(50), default="")
    image_blob: Mapped[str] = mapped_column(String(64))
    source_map_blob: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recipe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    render_key: Mapped[str] = mapped_column(String(64), default="")
    variant: Mapped[str | None] = mapped_column(String(50), nullable=True)
    candidate: Mapped[int | None] = mapped_column(Integer, nullable=True)
    layout_id: Mapped[int | None] = mapped_column(ForeignKey("layouts.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    changed_share: Mapped[float | None] = mapped_column(Float, nullable=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class NoteRow(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    background_id: Mapped[int] = mapped_column(ForeignKey("backgrounds.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    mask_blob: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status_change: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "state", "priority", "id"),
        Index("ix_jobs_render_key", "render_key"),
        Index("ix_jobs_background", "background_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # render | retake | refine | variant
    background_id: Mapped[int] = mapped_column(ForeignKey("backgrounds.id"))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    render_key: Mapped[str] = mapped_column(String(64), default="")
    engine: Mapped[str] = mapped_column(String(50), default="", server_default="")  # claim filter (0002)
    due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # earliest cut due date (0002)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    result_version_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


# --- 0003 web sessions (hardening) ---
class WebSessionRow(Base):
    """One login to the review pages. The browser's signed cookie holds only a random session
    key; ``id`` is its SHA-256, so a copy of the database cannot be replayed as a cookie. Every
    request checks the row: a revoked or expired session is refused."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_why: Mapped[str] = mapped_column(String(100), default="")
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- 0004 review comments / BG states (review loop) ---


class CommentRow(Base):
    """A comment on a BG: plain or a reply, written on a version, maybe with a drawing (JSON shapes
    in the BG's pixels, see services/comments.py)."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_background", "background_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    background_id: Mapped[int] = mapped_column(ForeignKey("backgrounds.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    shapes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DeliveryRow(Base):
    """One BG version written to a delivery folder by an export (the record 'delivered' rests on)."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_background", "background_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    background_id: Mapped[int] = mapped_column(ForeignKey("backgrounds.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    folder: Mapped[str] = mapped_column(Text)
    file: Mapped[str] = mapped_column(String(300))
    approved: Mapped[bool] = mapped_column(Boolean, default=False)
    delivered_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ExportJobRow(Base):
    """An export asked for from the review page: its state and, when done, what it wrote."""

    __tablename__ = "export_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | running | done | failed
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


# --- 0005 kitsu sync ---


class KitsuShotRow(Base):
    """A Kitsu shot pulled as a haikei cut, with its Background and Layout tasks."""

    __tablename__ = "kitsu_shots"
    kitsu_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cut_id: Mapped[int] = mapped_column(ForeignKey("cuts.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    nb_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bg_task_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    layout_task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    layout_preview_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # last imported
    pulled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class KitsuTaskCursorRow(Base):
    """Per Kitsu Background task: how far its comments were read, and the status haikei last set."""

    __tablename__ = "kitsu_task_cursors"
    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_comment_at: Mapped[str] = mapped_column(String(40), default="")  # Kitsu's own time text
    pushed_status: Mapped[str] = mapped_column(String(20), default="")  # short name haikei set
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class KitsuCommentRow(Base):
    """One Kitsu comment read by the sync and what haikei made of it (pending until done)."""

    __tablename__ = "kitsu_comments"
    kitsu_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    background_id: Mapped[int] = mapped_column(ForeignKey("backgrounds.id"))
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | done
    action: Mapped[str] = mapped_column(String(20), default="")  # comment|retake|reject|approve|kept|skip
    author: Mapped[str] = mapped_column(String(100), default="")  # the haikei user who acted
    text: Mapped[str] = mapped_column(Text, default="")  # the text haikei wrote
    objects: Mapped[list[Any]] = mapped_column(JSON, default=list)  # annotation object ids used
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class KitsuPushRow(Base):
    """One BG version published on one Kitsu task (pending until its preview is uploaded)."""

    __tablename__ = "kitsu_pushes"
    __table_args__ = (UniqueConstraint("version_id", "task_id", name="uq_kitsu_push"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    task_id: Mapped[str] = mapped_column(String(36), index=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | done
    comment_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    preview_file_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    preview_at: Mapped[str] = mapped_column(String(40), default="")  # Kitsu's time of the preview
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- 0006 locations ---


class LocationRow(Base):
    """A place (舞台) several BGs show; its approved BGs become its location boards."""

    __tablename__ = "locations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LocationBoardRecordRow(Base):
    """What one approval of a located BG did: made a location board (``outcome`` "board"), or why
    not ("refused", with ``reason``); who confirmed that the paint-over artists agree, and when."""

    __tablename__ = "location_board_records"
    __table_args__ = (Index("ix_location_board_records_bg", "background_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    background_id: Mapped[int] = mapped_column(ForeignKey("backgrounds.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    artboard_id: Mapped[int | None] = mapped_column(ForeignKey("artboards.id"), nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))  # board | refused
    reason: Mapped[str] = mapped_column(Text, default="")
    painters: Mapped[list[Any]] = mapped_column(JSON, default=list)  # paint-over artists of the version
    painters_confirmed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    painters_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    approved_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

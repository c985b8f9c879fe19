"""Rows -> domain values. The only place that knows both shapes."""

from __future__ import annotations

from haikei.domain.models import (
    ArtBoard,
    Background,
    Cut,
    FrameSize,
    Job,
    JobState,
    Layout,
    Note,
    PanDirection,
    Role,
    User,
    Version,
    VersionKind,
)
from haikei.store.tables import (
    ArtBoardRow,
    BackgroundRow,
    CutRow,
    JobRow,
    LayoutRow,
    NoteRow,
    UserRow,
    VersionRow,
)

__all__ = [
    "to_artboard",
    "to_background",
    "to_cut",
    "to_job",
    "to_layout",
    "to_note",
    "to_user",
    "to_version",
]


def to_cut(r: CutRow) -> Cut:
    return Cut(
        id=r.id,
        number=r.number,
        frame=FrameSize(r.width, r.height),
        background_id=r.background_id,
        episode=r.episode,
        pan_length=r.pan_length,
        pan_direction=PanDirection(r.pan_direction) if r.pan_direction else None,
        notes=r.notes,
    )


def to_background(r: BackgroundRow) -> Background:
    return Background(
        id=r.id,
        name=r.name,
        width=r.width,
        height=r.height,
        status=r.status.short_name,
        direction_text=r.direction_text,
        current_version_id=r.current_version_id,
        approved_version_id=r.approved_version_id,
        lock_version=r.lock_version,
        cuts=tuple(c.number for c in r.cuts),
    )


def to_layout(r: LayoutRow) -> Layout:
    return Layout(
        id=r.id,
        background_id=r.background_id,
        revision=r.revision,
        lines_blob=r.lines_blob,
        regions_blob=r.regions_blob,
        book_blob=r.book_blob,
        source_name=r.source_name,
        artist=r.artist,
        labelled=r.labelled,
    )


def to_artboard(r: ArtBoardRow) -> ArtBoard:
    return ArtBoard(
        id=r.id,
        name=r.name,
        image_blob=r.image_blob,
        labels_blob=r.labels_blob,
        width=r.width,
        height=r.height,
        artist=r.artist,
        licence=r.licence,
        consent=r.consent,
        tags=tuple(r.tags or ()),
        variants=dict(r.variants or {}),
        allows_derived_use=bool(r.allows_derived_use),
        location_id=r.location_id,
        retired=r.retired_at is not None,
    )


def to_version(r: VersionRow) -> Version:
    return Version(
        id=r.id,
        background_id=r.background_id,
        revision=r.revision,
        kind=VersionKind(r.kind),
        image_blob=r.image_blob,
        parent_id=r.parent_id,
        engine=r.engine,
        engine_version=r.engine_version,
        recipe=dict(r.recipe or {}),
        render_key=r.render_key,
        variant=r.variant,
        candidate=r.candidate,
        created_by=r.created_by,
        created_at=r.created_at,
        changed_share=r.changed_share,
    )


def to_note(r: NoteRow) -> Note:
    return Note(
        id=r.id,
        background_id=r.background_id,
        version_id=r.version_id,
        author=r.author,
        text=r.text,
        mask_blob=r.mask_blob,
        status_change=r.status_change,
        created_at=r.created_at,
    )


def to_job(r: JobRow) -> Job:
    return Job(
        id=r.id,
        kind=r.kind,
        background_id=r.background_id,
        state=JobState(r.state),
        priority=r.priority,
        attempts=r.attempts,
        claimed_by=r.claimed_by,
        progress=r.progress,
        message=r.message,
        error=r.error,
        result_version_ids=tuple(r.result_version_ids or ()),
        params=dict(r.params or {}),
        created_at=r.created_at,
    )


def to_user(r: UserRow) -> User:
    return User(id=r.id, name=r.name, role=Role(r.role), display_name=r.display_name)

"""The production's vocabulary as typed, immutable values (no I/O).

The store maps these to rows; services return them; the CLI and the web print them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "DEFAULT_STATUSES",
    "ArtBoard",
    "Background",
    "Cut",
    "FrameSize",
    "Job",
    "JobState",
    "Layout",
    "Note",
    "PanDirection",
    "Production",
    "ReviewStatus",
    "Role",
    "User",
    "Version",
    "VersionKind",
]


@dataclass(frozen=True, order=True)
class FrameSize:
    width: int
    height: int

    @classmethod
    def parse(cls, text: str) -> FrameSize:
        m = re.fullmatch(r"\s*(\d{2,5})\s*[xX×]\s*(\d{2,5})\s*", text)
        if not m:
            raise ValueError(f"frame size {text!r} is not WIDTHxHEIGHT (e.g. 1920x1080)")
        w, h = int(m.group(1)), int(m.group(2))
        if not (16 <= w <= 16384 and 16 <= h <= 16384):
            raise ValueError(f"frame size {w}x{h} is outside 16..16384 pixels per side")
        return cls(w, h)

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


class PanDirection(enum.StrEnum):
    left = "left"
    right = "right"
    up = "up"
    down = "down"


class VersionKind(enum.StrEnum):
    render = "render"  # an engine painted it
    human = "human"  # a person painted over (uploaded)
    composite = "composite"  # assembled from several (e.g. a regional retake over a parent)


class JobState(enum.StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"
    canceled = "canceled"

    @property
    def is_final(self) -> bool:
        return self in (JobState.done, JobState.failed, JobState.canceled)


class Role(enum.StrEnum):
    director = "director"  # approve / reject / retake
    artist = "artist"  # upload paint-overs, request retakes
    viewer = "viewer"  # read only

    def can(self, action: str) -> bool:
        allowed = {
            Role.director: {
                "read",
                "approve",
                "reject",
                "retake",
                "upload",
                "pick",
                "label",
                "render",
                "variant",
                "assign",
                "comment",
                "deliver",
            },
            Role.artist: {"read", "retake", "upload", "label", "render", "pick", "comment"},
            Role.viewer: {"read"},
        }
        return action in allowed[self]


@dataclass(frozen=True)
class ReviewStatus:
    """A review state as data, with flags (zou-style)."""

    short_name: str
    name: str
    is_wip: bool = False
    is_retake: bool = False
    is_feedback_request: bool = False
    is_approved: bool = False
    is_done: bool = False
    colour: str = "#888888"


DEFAULT_STATUSES: tuple[ReviewStatus, ...] = (
    ReviewStatus("todo", "To do", colour="#9e9e9e"),
    ReviewStatus("wip", "Work in progress", is_wip=True, colour="#42a5f5"),
    ReviewStatus("wfa", "Waiting for approval", is_feedback_request=True, colour="#ab47bc"),
    ReviewStatus("retake", "Retake", is_retake=True, colour="#ef5350"),
    ReviewStatus("approved", "Approved", is_approved=True, colour="#66bb6a"),
    ReviewStatus("done", "Delivered", is_approved=True, is_done=True, colour="#2e7d32"),
)


@dataclass(frozen=True)
class Production:
    name: str
    frame: FrameSize
    episode: str = ""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    display_name: str = ""


@dataclass(frozen=True)
class Cut:
    id: int
    number: str  # canonical "c012"
    frame: FrameSize
    background_id: int | None
    episode: str = ""
    pan_length: int | None = None  # BG width (or height) in pixels for a PAN cut
    pan_direction: PanDirection | None = None
    notes: str = ""


@dataclass(frozen=True)
class Background:
    """A BG: what one or more cuts (兼用) show. Its size covers the PAN length."""

    id: int
    name: str  # "c012" or "c012-c015"
    width: int
    height: int
    status: str = "todo"
    direction_text: str = ""
    current_version_id: int | None = None
    approved_version_id: int | None = None
    lock_version: int = 0  # bumped on every status change (optimistic concurrency)
    cuts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    id: int
    background_id: int
    revision: int
    lines_blob: str
    regions_blob: str | None
    book_blob: str | None
    source_name: str
    artist: str = ""
    labelled: bool = True


@dataclass(frozen=True)
class ArtBoard:
    id: int
    name: str
    image_blob: str
    labels_blob: str
    width: int
    height: int
    artist: str
    licence: str
    consent: bool
    tags: tuple[str, ...] = ()
    variants: dict[str, str] = field(default_factory=dict)  # tag -> image blob of an aligned repaint
    allows_derived_use: bool = False  # a painting made from it may become a board (locations)
    location_id: int | None = None  # a location board: the place it belongs to
    retired: bool = False  # a replaced location board (kept: renders that used it point at it)


@dataclass(frozen=True)
class Version:
    """One immutable image of a BG. Revision numbers are unique per BG."""

    id: int
    background_id: int
    revision: int
    kind: VersionKind
    image_blob: str
    parent_id: int | None = None
    engine: str = ""
    engine_version: str = ""
    recipe: dict[str, Any] = field(default_factory=dict)
    render_key: str = ""
    variant: str | None = None
    candidate: int | None = None
    created_by: str = ""
    created_at: datetime | None = None
    changed_share: float | None = None  # for human paint-overs: share of pixels changed vs parent


@dataclass(frozen=True)
class Note:
    id: int
    background_id: int
    version_id: int | None
    author: str
    text: str
    mask_blob: str | None = None
    status_change: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    background_id: int
    state: JobState
    priority: int = 0
    attempts: int = 0
    claimed_by: str | None = None
    progress: float = 0.0
    message: str = ""
    error: str = ""
    result_version_ids: tuple[int, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None

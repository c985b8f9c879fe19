"""The JSON API (/api): what the pages' scripts call, and what scripts use with an API token.

Every change takes the ``lock_version`` the caller saw (GET /api/bgs/{ref} returns it); a
stale one answers 409 with a message, and nothing changes.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field

from haikei.domain.models import Job, Note, User, Version
from haikei.errors import InputError
from haikei.jobs.queue import get_job
from haikei.services import review, review_read
from haikei.web.auth import ACTIONS, api_actor, app_ctx, reader
from haikei.web.ids import FormId, PathId, QueryId, RowId

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["review"])

Lock = Annotated[int, Field(ge=0, description="the BG's lock_version you saw; a stale one is refused (409)")]


class PickBody(BaseModel):
    version_id: RowId = Field(description="the version to make the BG's current one")
    lock_version: Lock
    text: str = Field(default="", max_length=4000, description="optional note")


class ApproveBody(PickBody):
    confirm_painters: bool = Field(
        default=False,
        description="the director confirms that the people who painted over this version agree to it "
        "becoming its location's board (locations; recorded with who and when)",
    )


class RejectBody(BaseModel):
    lock_version: Lock
    text: str = Field(min_length=1, max_length=4000, description="what is wrong")
    version_id: RowId | None = Field(default=None, description="the version rejected (default: current)")


class RetakeBody(BaseModel):
    version_id: RowId = Field(description="the version the mask was drawn on")
    lock_version: Lock
    text: str = Field(min_length=1, max_length=4000, description="what to change in the masked area")
    mask: str = Field(
        min_length=10,
        max_length=40_000_000,
        description="the mask as a PNG data URL or base64 PNG, BG size; painted (alpha or white) = re-render",
    )
    engine: str | None = Field(default=None, max_length=50, description="engine (default: the version's own)")


class VariantsBody(BaseModel):
    tags: list[str] = Field(min_length=1, max_length=16, description="variant tags, e.g. autumn, evening")
    lock_version: Lock


class LockBody(BaseModel):
    lock_version: Lock


class AssignBody(BaseModel):
    assignee: str | None = Field(
        default=None, max_length=100, description="login name of an artist or director; null unassigns"
    )
    lock_version: Lock


class LocationBody(BaseModel):
    location: str | None = Field(
        default=None,
        max_length=200,
        description="the location (舞台) to put the BG at, made if new; null or blank takes it off its location",
    )


class LabelBody(BaseModel):
    points: list[str] = Field(
        min_length=1, max_length=500, description="CLASS@X,Y in layout pixels, e.g. sky@120,40"
    )
    layout_revision: int = Field(
        ge=1, description="the layout revision you labelled; a stale one is refused (409)"
    )


def _version(v: Version) -> dict[str, Any]:
    d = asdict(v)
    d["kind"] = v.kind.value
    d["image_url"] = f"/img/v/{v.id}"
    return d


def _note(n: Note) -> dict[str, Any]:
    return asdict(n)


def _job(j: Job) -> dict[str, Any]:
    return {
        "id": j.id,
        "kind": j.kind,
        "state": j.state.value,
        "progress": j.progress,
        "message": j.message,
        "error": j.error,
        "result_version_ids": list(j.result_version_ids),
        "final": j.state.is_final,
        "variant": j.params.get("variant"),
        "requested_by": j.params.get("actor", ""),
    }


@router.get("/me")
def me(user: Annotated[User, Depends(reader)]) -> dict[str, Any]:
    return {
        "name": user.name,
        "display_name": user.display_name,
        "role": user.role.value,
        "can": sorted(a for a in ACTIONS if user.role.can(a)),
    }


@router.get("/cuts")
def cuts(
    request: Request,
    user: Annotated[User, Depends(reader)],
    status: str | None = None,
    sort: str = "cut",
    assignee: str | None = None,
    location: str | None = None,
) -> list[dict[str, Any]]:
    """Every BG (one entry per BG, with all its cuts: a shared BG is one entry); filter by status
    short name, by assignee login name ('-': unassigned) and by location name ('-': at no
    location); sort by cut, status, retakes, assignee or changed (last change first)."""
    from haikei.services.location_views import NO_LOCATION, bg_locations

    ctx = app_ctx(request)
    where = bg_locations(ctx)
    return [
        {**asdict(c), "location": where.get(c.bg)}
        for c in review_read.cut_cards(ctx, status=status, sort=sort, assignee=assignee)
        if not location or where.get(c.bg, NO_LOCATION) == location
    ]


@router.get("/bgs/{ref}")
def bg(request: Request, ref: str, user: Annotated[User, Depends(reader)]) -> dict[str, Any]:
    from haikei.services.location_views import location_of, paint_over_artists, variant_sources

    ctx = app_ctx(request)
    d = review.bg_detail(ctx, ref)
    place = location_of(ctx, ref).name
    from_location = variant_sources(ctx, d.variant_options)
    return {
        **asdict(d.bg),
        "status_name": d.status_name,
        "assignee": d.assignee,
        "assignee_name": d.assignee_name,
        "layout": asdict(d.layout) if d.layout else None,
        "versions": [_version(v) for v in d.versions],
        "notes": [_note(n) for n in d.notes],
        "jobs": [_job(j) for j in d.jobs],
        "approved_variants": sorted(d.approved_variants),
        "delivery": {
            "version_id": d.delivery.version_id,
            "revision": d.delivery.revision,
            "file": d.delivery.file,
            "approved": d.delivery.approved,
            "needs_redelivery": d.delivery.needs_redelivery,
            "words": d.delivery.words,
        }
        if d.delivery
        else None,
        "comments": len(d.comments),
        "variant_tags": d.variant_tags,
        "variant_options": {
            t: {
                "method": o.method,
                "label": o.label,
                "engine": o.engine,
                "boards": list(o.boards),
                "needs_paint_over_again": bool(o.redo),
                "from_location": from_location.get(t),
            }
            for t, o in d.variant_options.items()
        },
        "location": place,
        # versions carrying a paint-over: approving one with confirm_painters makes it the
        # location's board (without it the BG is approved but gets no board)
        "painters_to_confirm": {
            str(k): v for k, v in paint_over_artists(ctx, [v.id for v in d.main_versions]).items()
        }
        if place
        else {},
    }


@router.get("/bgs/{ref}/jobs")
def bg_jobs(request: Request, ref: str, user: Annotated[User, Depends(reader)]) -> list[dict[str, Any]]:
    return [_job(j) for j in review.bg_detail(app_ctx(request), ref).jobs]


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: PathId, user: Annotated[User, Depends(reader)]) -> dict[str, Any]:
    return _job(get_job(app_ctx(request), job_id))


@router.post("/bgs/{ref}/pick")
def pick(
    request: Request, ref: str, body: PickBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    return _note(review.pick(app_ctx(request), user, ref, body.version_id, body.lock_version, body.text))


@router.post("/bgs/{ref}/approve")
def approve(
    request: Request, ref: str, body: ApproveBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    return _note(
        review.approve(
            app_ctx(request),
            user,
            ref,
            body.version_id,
            body.lock_version,
            body.text,
            confirm_painters=body.confirm_painters,
        )
    )


@router.post("/bgs/{ref}/reject")
def reject(
    request: Request, ref: str, body: RejectBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    return _note(review.reject(app_ctx(request), user, ref, body.lock_version, body.text, body.version_id))


def _decode_b64_png(text: str) -> bytes:
    if text.startswith("data:"):
        head, _, text = text.partition(",")
        if head != "data:image/png;base64":
            raise InputError("the mask must be a PNG data URL (data:image/png;base64,...)")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("the mask is not valid base64") from None


@router.post("/bgs/{ref}/retake")
def retake(
    request: Request, ref: str, body: RetakeBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    note, job = review.request_retake(
        app_ctx(request),
        user,
        ref,
        body.version_id,
        body.lock_version,
        _decode_b64_png(body.mask),
        body.text,
        engine=body.engine,
    )
    return {"note": _note(note), "job": _job(job)}


@router.post("/bgs/{ref}/paintover")
def paintover(
    request: Request,
    ref: str,
    user: Annotated[User, Depends(api_actor)],
    file: Annotated[UploadFile, File(description="the painted-over image: PNG or PSD, the BG's size")],
    version_id: FormId,
    lock_version: Annotated[int, Form(ge=0)],
    text: Annotated[str, Form(max_length=4000)] = "",
) -> dict[str, Any]:
    data = read_upload(request, file)
    v = review.upload_paintover(
        app_ctx(request), user, ref, version_id, lock_version, data, file.filename or "", text
    )
    return _version(v)


def read_upload(request: Request, file: UploadFile) -> bytes:
    limit = int(request.app.state.max_upload_bytes)
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"the upload is over the {limit >> 20} MiB limit; export a smaller file")
    return data


@router.post("/bgs/{ref}/variants")
def variants(
    request: Request, ref: str, body: VariantsBody, user: Annotated[User, Depends(api_actor)]
) -> list[dict[str, Any]]:
    return [
        _job(j) for j in review.request_variants(app_ctx(request), user, ref, body.tags, body.lock_version)
    ]


@router.post("/bgs/{ref}/variants/{version_id}/approve")
def approve_variant(
    request: Request, ref: str, version_id: PathId, body: LockBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    return _note(review.approve_variant(app_ctx(request), user, ref, version_id, body.lock_version))


@router.post("/bgs/{ref}/assign")
def assign(
    request: Request, ref: str, body: AssignBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    return _note(review.assign(app_ctx(request), user, ref, body.assignee, body.lock_version))


@router.post("/bgs/{ref}/location")
def set_bg_location(
    request: Request, ref: str, body: LocationBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    """Put the BG at a location (made if new) or take it off (null); artist or director."""
    from haikei.services.location_views import set_bg_location as put

    return {"bg": ref, "location": put(app_ctx(request), user, ref, body.location)}


@router.get("/locations")
def locations(request: Request, user: Annotated[User, Depends(reader)]) -> list[dict[str, Any]]:
    """Every location with its BGs and its number of current location boards."""
    from haikei.services.locations import list_locations

    return [loc.as_json() for loc in list_locations(app_ctx(request))]


@router.get("/locations/{name}")
def location(request: Request, name: str, user: Annotated[User, Depends(reader)]) -> dict[str, Any]:
    """A location's BGs with their states (the version shown, its board or why none) and its
    boards, current and retired, with their chain of painters and consent."""
    from haikei.services.locations import location_detail

    ctx = app_ctx(request)
    out = location_detail(ctx, name).as_json()
    cards = {c.bg: c for c in review_read.all_cards(ctx)}
    for b in out["bgs"]:
        c = cards.get(b["name"])
        shown = (c.approved_version_id or c.current_version_id) if c else None
        b["version_id"] = shown
        b["image_url"] = f"/img/v/{shown}" if shown else None
    for r in out["boards"]:
        r["image_url"] = f"/img/v/{r['source_version_id']}" if r.get("source_version_id") else None
    return out


@router.post("/bgs/{ref}/labels")
def labels(
    request: Request, ref: str, body: LabelBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    ctx = app_ctx(request)
    rev, remaining = review.label_layout(ctx, user, ref, body.points, body.layout_revision)
    layout = review.bg_detail(ctx, ref).layout
    return {
        "layout_revision": rev,
        "unlabelled_pixels": remaining,
        "layout_id": layout.id if layout else None,
        "regions_url": f"/img/layout/{layout.id}/regions?w=0" if layout else None,
    }


# -- review loop: states, comments with drawings, delivery from the page ----------------------


class CommentBody(BaseModel):
    text: str = Field(
        default="", max_length=4000, description="the comment (may be empty when it carries a drawing)"
    )
    version_id: RowId | None = Field(
        default=None,
        description="the version it was written on (default: the reply's parent's, else current)",
    )
    parent_id: RowId | None = Field(default=None, description="the comment this one answers")
    shapes: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=200,
        description="the drawing: shapes in BG pixels, e.g. "
        '{"type": "rect", "colour": "#e53935", "width": 6, "points": [[10, 10], [80, 60]]}; '
        "types pen, arrow, rect, ellipse, text (with text and size)",
    )


class ExportBody(BaseModel):
    cuts: list[str] = Field(default_factory=list, max_length=2000, description="cuts or BGs (default: all)")
    only_approved: bool = Field(default=True, description="deliver approved BGs only")


@router.get("/statuses")
def statuses(
    request: Request, user: Annotated[User, Depends(reader)], assignee: str | None = None
) -> list[dict[str, Any]]:
    """Every review status (data rows) with how many BGs are in it (the overview's chips)."""
    from sqlalchemy import select

    from haikei.store.tables import ReviewStatusRow

    ctx = app_ctx(request)
    counts = review_read.status_counts(ctx, assignee=assignee)
    with ctx.db.session() as s:
        rows = list(s.scalars(select(ReviewStatusRow).order_by(ReviewStatusRow.id)))
        return [
            {
                "short_name": r.short_name,
                "name": r.name,
                "colour": r.colour,
                "count": counts.get(r.short_name, 0),
            }
            for r in rows
        ]


@router.get("/bgs/{ref}/comments")
def comments(request: Request, ref: str, user: Annotated[User, Depends(reader)]) -> list[dict[str, Any]]:
    """The BG's conversation, oldest first; a drawing's retake mask is at ``mask_url``."""
    from haikei.services.comments import comments_of

    out = []
    for c in comments_of(app_ctx(request), ref):
        d = c.as_json()
        d["mask_url"] = f"/api/bgs/{ref}/comments/{c.id}/mask" if c.shapes else None
        out.append(d)
    return out


@router.post("/bgs/{ref}/comments")
def add_comment(
    request: Request, ref: str, body: CommentBody, user: Annotated[User, Depends(api_actor)]
) -> dict[str, Any]:
    from haikei.services.comments import add_comment as add

    c = add(
        app_ctx(request),
        user,
        ref,
        body.text,
        version_id=body.version_id,
        parent_id=body.parent_id,
        shapes=body.shapes,
    )
    d = c.as_json()
    d["mask_url"] = f"/api/bgs/{ref}/comments/{c.id}/mask" if c.shapes else None
    return d


@router.get("/bgs/{ref}/comments/{comment_id}/mask")
def comment_mask(
    request: Request, ref: str, comment_id: PathId, user: Annotated[User, Depends(reader)]
) -> Response:
    """The comment's drawing as a retake mask: a PNG of the BG's size, white = re-render
    (send it, edited or not, as the ``mask`` of POST /api/bgs/{ref}/retake)."""
    import numpy as np

    from haikei.imaging.io import png_bytes
    from haikei.services.comments import comment_mask as mask_of

    m = mask_of(app_ctx(request), ref, comment_id)
    return Response(png_bytes(np.where(m, 255, 0).astype(np.uint8)), media_type="image/png")


@router.post("/exports")
def start_export(
    request: Request,
    body: ExportBody,
    background: BackgroundTasks,
    user: Annotated[User, Depends(api_actor)],
) -> dict[str, Any]:
    """Export to the production's delivery folder as a job (director); poll GET /api/exports/{id}."""
    from haikei.services.exports import run_export
    from haikei.services.exports import start_export as start

    ctx = app_ctx(request)
    job = start(ctx, user, body.cuts, only_approved=body.only_approved)
    background.add_task(run_export, ctx, job["id"])
    return job


@router.get("/exports/{export_id}")
def export_state(
    request: Request, export_id: PathId, user: Annotated[User, Depends(reader)]
) -> dict[str, Any]:
    from haikei.services.exports import export_job

    return export_job(app_ctx(request), export_id)


@router.get("/deliveries")
def deliveries(request: Request, user: Annotated[User, Depends(reader)]) -> list[dict[str, Any]]:
    """What was delivered (newest first), with links to each file and to verify its credentials."""
    from haikei.services.exports import delivered_files

    return [f.as_json() for f in delivered_files(app_ctx(request))]


@router.get("/deliveries/{delivery_id}/verify")
def verify_delivery(
    request: Request, delivery_id: PathId, user: Annotated[User, Depends(reader)]
) -> dict[str, Any]:
    """Check a delivered file's Content Credentials, as ``haikei verify`` does."""
    from haikei.services.exports import verify_delivered

    return verify_delivered(app_ctx(request), delivery_id)


@router.get("/credits")
def credits(request: Request, user: Annotated[User, Depends(reader)], format: str = "json") -> Response:
    """The credits (the same as ``haikei credits --format json|csv|text``)."""
    from haikei.services.exports import credits_text

    text = credits_text(app_ctx(request), format)
    media = {
        "json": "application/json",
        "csv": "text/csv; charset=utf-8",
        "text": "text/plain; charset=utf-8",
    }[format]
    return Response(text, media_type=media)


@router.get("/bgs/{ref}/retake-note")
def retake_note(
    request: Request,
    ref: str,
    version_id: QueryId,
    user: Annotated[User, Depends(reader)],
    text: Annotated[str, Query(max_length=4000)] = "",
    engine: Annotated[str | None, Query(max_length=50)] = None,
) -> dict[str, Any]:
    """How a retake note would be read before it is sent: what the engine uses (into the render
    request and the recipe) and what it ignores."""
    from haikei.services.retake_notes import read_note_on

    return read_note_on(app_ctx(request), ref, text, version_id, engine).as_json()

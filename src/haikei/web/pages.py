"""Server-rendered pages and their form posts. A refused change re-renders the page with the
message and the HTTP status (409 for a stale page, 400 for a bad upload ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from haikei.domain.models import User
from haikei.errors import HaikeiError
from haikei.services import review
from haikei.web.auth import NotAuthenticated, app_ctx, page_actor, reader
from haikei.web.templating import render

__all__ = ["error_page", "router"]

router = APIRouter(include_in_schema=False)

DONE = {
    "picked": "Picked as the BG; it now waits for approval.",
    "approved": "Approved.",
    "rejected": "Sent back as a retake.",
    "uploaded": "Paint-over stored as a new version.",
    "variants": "Variants queued; they appear below when rendered.",
    "variant_approved": "Variant approved.",
    "retake": "Retake queued; the new version appears when it is rendered.",
    "labelled": "Regions labelled.",
    "arrived": "The re-render arrived as a new version (selected below); compare it and approve or retake.",
}


def _user_or_none(request: Request) -> User | None:
    try:
        return reader(request)
    except NotAuthenticated:
        return None


def error_page(request: Request, message: str, code: int) -> Response:
    ref = request.path_params.get("ref")
    user = _user_or_none(request)
    if ref and user is not None and code != 404:
        try:
            return _cut_page(request, user, ref, error=message, status_code=code)
        except HaikeiError:
            pass
    return render(request, "error.html", {"user": user, "error": message, "code": code}, status_code=code)


@router.get("/")
def overview(
    request: Request, user: Annotated[User, Depends(reader)], status: str = "", sort: str = "cut"
) -> Response:
    ctx = app_ctx(request)
    cards = review.cut_cards(ctx, status=status or None, sort=sort)
    from sqlalchemy import select

    from haikei.store.tables import ReviewStatusRow

    with ctx.db.session() as s:
        statuses = [
            (r.short_name, r.name) for r in s.scalars(select(ReviewStatusRow).order_by(ReviewStatusRow.id))
        ]
    return render(
        request,
        "overview.html",
        {"user": user, "cards": cards, "statuses": statuses, "status": status, "sort": sort},
    )


def _cut_page(
    request: Request,
    user: User,
    ref: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    ok: str = "",
    selected: int | None = None,
) -> Response:
    ctx = app_ctx(request)
    d = review.bg_detail(ctx, ref)
    versions = d.main_versions
    sel = next((v for v in d.versions if v.id == selected), None)
    if sel is None:
        sel = next(
            (v for v in versions if v.id == d.bg.current_version_id), versions[0] if versions else None
        )
    by_id = {v.id: v for v in d.versions}
    return render(
        request,
        "cut.html",
        {
            "user": user,
            "d": d,
            "bg": d.bg,
            "versions": versions,
            "sel": sel,
            "by_id": by_id,
            "error": error,
            "ok": DONE.get(ok, ""),
            "can": {
                a: user.role.can(a)
                for a in ("approve", "reject", "retake", "upload", "pick", "label", "variant")
            },
            "active_jobs": [j for j in d.jobs if not j.state.is_final],
        },
        status_code=status_code,
    )


@router.get("/cut/{ref}")
def cut_page(
    request: Request, ref: str, user: Annotated[User, Depends(reader)], ok: str = "", v: int | None = None
) -> Response:
    return _cut_page(request, user, ref, ok=ok, selected=v)


@router.get("/cut/{ref}/label")
def label_page(request: Request, ref: str, user: Annotated[User, Depends(reader)]) -> Response:
    ctx = app_ctx(request)
    d = review.bg_detail(ctx, ref)
    classes = [c for c in ctx.vocabulary.classes]
    return render(
        request,
        "label.html",
        {"user": user, "d": d, "bg": d.bg, "classes": classes, "can_label": user.role.can("label")},
    )


def _act(ref: str, ok: str, fn: Callable[[], Any], v: int | None = None) -> Response:
    fn()  # a HaikeiError goes to the app's handler, which re-renders the page with the message
    sel = f"&v={v}" if v else ""
    return RedirectResponse(f"/cut/{ref}?ok={ok}{sel}", status_code=303)


ActorDep = Annotated[User, Depends(page_actor)]
LockF = Annotated[int, Form(ge=0)]
VersionF = Annotated[int, Form(ge=1)]
TextF = Annotated[str, Form(max_length=4000)]


@router.post("/cut/{ref}/pick")
def pick(request: Request, ref: str, user: ActorDep, version_id: VersionF, lock_version: LockF) -> Response:
    return _act(
        ref, "picked", lambda: review.pick(app_ctx(request), user, ref, version_id, lock_version), version_id
    )


@router.post("/cut/{ref}/approve")
def approve(
    request: Request, ref: str, user: ActorDep, version_id: VersionF, lock_version: LockF, text: TextF = ""
) -> Response:
    return _act(
        ref,
        "approved",
        lambda: review.approve(app_ctx(request), user, ref, version_id, lock_version, text),
        version_id,
    )


@router.post("/cut/{ref}/reject")
def reject(
    request: Request,
    ref: str,
    user: ActorDep,
    lock_version: LockF,
    text: TextF = "",
    version_id: Annotated[int | None, Form()] = None,
) -> Response:
    return _act(
        ref, "rejected", lambda: review.reject(app_ctx(request), user, ref, lock_version, text, version_id)
    )


@router.post("/cut/{ref}/upload")
def upload(
    request: Request,
    ref: str,
    user: ActorDep,
    file: Annotated[UploadFile, File()],
    version_id: VersionF,
    lock_version: LockF,
    text: TextF = "",
) -> Response:
    from haikei.web.api import read_upload

    ctx = app_ctx(request)
    data = read_upload(request, file)
    v = review.upload_paintover(ctx, user, ref, version_id, lock_version, data, file.filename or "", text)
    return RedirectResponse(f"/cut/{ref}?ok=uploaded&v={v.id}", status_code=303)


@router.post("/cut/{ref}/variants")
def variants(
    request: Request,
    ref: str,
    user: ActorDep,
    lock_version: LockF,
    tags: Annotated[list[str] | None, Form()] = None,
) -> Response:
    return _act(
        ref,
        "variants",
        lambda: review.request_variants(app_ctx(request), user, ref, tags or [], lock_version),
    )


@router.post("/cut/{ref}/variants/{version_id}/approve")
def approve_variant(
    request: Request, ref: str, version_id: int, user: ActorDep, lock_version: LockF
) -> Response:
    return _act(
        ref,
        "variant_approved",
        lambda: review.approve_variant(app_ctx(request), user, ref, version_id, lock_version),
    )

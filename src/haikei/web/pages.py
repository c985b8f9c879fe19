"""Server-rendered pages and their form posts.

POST/redirect/GET throughout: a form post that succeeds redirects to the page (``?ok=...``), and
one that is refused (stale page, bad upload, no permission ...) puts its message in the session
(:func:`haikei.web.templating.flash`) and redirects back to the page it came from, which shows
it once; a reload never sends the form again. The JSON API keeps the real status codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from haikei.domain.models import User, Version
from haikei.services import review, review_read
from haikei.web.auth import ACTIONS, NotAuthenticated, app_ctx, page_actor, reader, safe_next
from haikei.web.ids import FormId, PathId, QueryId
from haikei.web.templating import flash, render

__all__ = ["error_page", "refused", "router"]

router = APIRouter(include_in_schema=False)

DONE = {
    "picked": "Picked as the BG; it now waits for approval.",
    "approved": "Approved.",
    "rejected": "Sent back as a retake.",
    "uploaded": "Paint-over stored as a new version.",
    "variants": "Variants queued; they appear below when rendered.",
    "variant_approved": "Variant approved.",
    "assigned": "Assignment saved.",
    "retake": "Retake queued; the new version appears when it is rendered.",
    "labelled": "Regions labelled.",
    "arrived": "The re-render arrived as a new version (selected below); compare it and approve or retake.",
    "commented": "Comment added.",
    "export_started": "Export started; its progress is shown below.",
    "located": "Location saved.",
    "unlocated": "Location cleared.",
}


def _user_or_none(request: Request) -> User | None:
    try:
        return reader(request)
    except NotAuthenticated:
        return None


def error_page(request: Request, message: str, code: int) -> Response:
    return render(
        request,
        "error.html",
        {"user": _user_or_none(request), "error": message, "code": code},
        status_code=code,
    )


def refused(request: Request, message: str) -> Response:
    """A refused form post: the message goes to the session, the browser back to the page it
    posted from (its Referer, when that is a page of this site) or the cut's page."""
    flash(request, message)
    ref = request.path_params.get("ref")
    page = f"/cut/{ref}" if ref else "/"
    referer = urlsplit(request.headers.get("referer", ""))
    host = request.headers.get("host", "")
    if referer.netloc == host and (not ref or referer.path == page or referer.path.startswith(page + "/")):
        query = urlencode([(k, v) for k, v in parse_qsl(referer.query) if k != "ok"])
        page = safe_next(referer.path + (f"?{query}" if query else ""))
    return RedirectResponse(page, status_code=303)


def has_japanese(text: str | None) -> bool:
    """True when ``text`` holds kana or kanji (it is then marked lang="ja" for fonts and readers)."""
    return any(
        "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
        for ch in text or ""
    )


def _ja(text: str | None) -> str:
    return ' lang="ja"' if has_japanese(text) else ""


OVERVIEW_SORTS = {
    "cut": "by cut",
    "changed": "last change first",
    "status": "by status",
    "retakes": "by retakes",
    "assignee": "by assignee",
}


@router.get("/")
def overview(
    request: Request,
    user: Annotated[User, Depends(reader)],
    status: str = "",
    sort: str = "cut",
    assignee: str = "",
    location: str = "",
) -> Response:
    from sqlalchemy import select

    from haikei.services.location_views import NO_LOCATION, bg_locations, location_counts
    from haikei.store.tables import ReviewStatusRow

    ctx = app_ctx(request)
    where = bg_locations(ctx)
    cards_all = review_read.all_cards(ctx)
    loc_counts = location_counts([c.bg for c in cards_all], where)
    every = [c for c in cards_all if not location or where.get(c.bg, NO_LOCATION) == location]
    cards = review_read.cut_cards(
        ctx, status=status or None, sort=sort, assignee=assignee or None, cards=every
    )
    counts = review_read.status_counts(ctx, assignee=assignee or None, cards=every)
    with ctx.db.session() as s:
        statuses = [
            (r.short_name, r.name, r.colour)
            for r in s.scalars(select(ReviewStatusRow).order_by(ReviewStatusRow.id))
        ]
    people = [(u.name, u.display_name or u.name) for u in review.assignable_users(ctx)]
    mine = sum(1 for c in every if c.assignee_name == user.name)

    def url(**kw: str) -> str:
        q = {"status": status, "sort": sort, "assignee": assignee, "location": location, **kw}
        return "/?" + urlencode({k: v for k, v in q.items() if v and not (k == "sort" and v == "cut")})

    return render(
        request,
        "overview.html",
        {
            "user": user,
            "cards": cards,
            "statuses": statuses,
            "counts": counts,
            "total": sum(
                1 for c in every if not assignee or (c.assignee_name or review.UNASSIGNED) == assignee
            ),
            "mine": mine,
            "status": status,
            "sort": sort,
            "sorts": OVERVIEW_SORTS,
            "people": people,
            "assignee": assignee,
            "unassigned": review.UNASSIGNED,
            "location": location,
            "loc_counts": loc_counts if len(loc_counts) > 1 else {},
            "no_location": NO_LOCATION,
            "where": where,
            "url": url,
            "ja": _ja,
        },
    )


def variant_how(v: Version) -> str:
    """How a variant version was made, in words, from its recipe."""
    kind = (v.recipe or {}).get("kind")
    if kind == "render":
        return f"re-rendered from the '{v.variant}' boards"
    if v.engine == "sd":
        return "img2img with the sd engine"
    return "re-voted over the aligned repaint"


def _version_label(v: Version) -> str:
    bits = [f"r{v.revision}"]
    if v.variant:
        bits.append(v.variant)
    elif v.candidate is not None:
        bits.append(f"candidate {v.candidate + 1}")
    elif v.kind.value == "human":
        bits.append(f"paint-over by {v.created_by or '?'}")
    elif v.kind.value == "composite":
        bits.append("retake")
    else:
        bits.append(v.kind.value)
    return " · ".join(bits)


def compare_pair(versions: list[Version], sel: Version | None) -> tuple[int | None, int | None, bool]:
    """(A, B, before_after): the selected version against its parent (before / after), else
    against another candidate of the BG."""
    if sel is None:
        return None, None, False
    ids = {v.id for v in versions}
    if sel.parent_id in ids:
        return sel.parent_id, sel.id, True
    other = next((v for v in versions if v.id != sel.id and v.variant is None), None)
    return (other.id if other else sel.id), sel.id, False


def _cut_page(
    request: Request,
    user: User,
    ref: str,
    *,
    ok: str = "",
    selected: int | None = None,
    comment: int | None = None,
) -> Response:
    from haikei.services.comments import COLOURS
    from haikei.services.location_views import location_of, paint_over_artists, variant_sources
    from haikei.services.review_cards import recipe_card

    ctx = app_ctx(request)
    d = review.bg_detail(ctx, ref)
    place = location_of(ctx, ref)
    versions = d.main_versions
    sel = next((v for v in d.versions if v.id == selected), None)
    if sel is None:
        sel = next(
            (v for v in versions if v.id == d.bg.current_version_id), versions[0] if versions else None
        )
    by_id = {v.id: v for v in d.versions}
    can = {a: user.role.can(a) for a in ACTIONS}
    a_id, b_id, before_after = compare_pair(d.versions, sel)
    cmp_versions = [
        {
            "id": v.id,
            "label": _version_label(v),
            "parent": v.parent_id,
            "fit": f"/img/v/{v.id}?w=1280",
            "full": f"/img/v/{v.id}?w=0",
        }
        for v in sorted(d.versions, key=lambda v: v.revision)
    ]
    thread = [c for c in d.comments if c.parent_id is None]
    replies: dict[int, list[Any]] = {}
    for c in d.comments:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    thread.reverse()  # newest conversation first; replies oldest first under it
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
            "ok": DONE.get(ok, ""),
            "can": can,
            "people": [(u.name, u.display_name or u.name) for u in review.assignable_users(ctx)]
            if can["assign"]
            else [],
            "variant_how": {v.id: variant_how(v) for v in d.variants},
            "redo": {
                v.id
                for v in d.variants
                if (v.recipe or {}).get("kind") == "render"
                and v.parent_id in by_id
                and by_id[v.parent_id].kind.value in ("human", "composite")
            },
            "approved": by_id.get(d.bg.approved_version_id) if d.bg.approved_version_id else None,
            "active_jobs": [j for j in d.jobs if not j.state.is_final],
            "names": d.status_names,
            "cards": {
                v.id: recipe_card(v.recipe or {}, v.engine, v.engine_version, v.created_by)
                for v in d.versions
            },
            "label_of": {v.id: _version_label(v) for v in d.versions},
            "cmp": {
                "a": a_id,
                "b": b_id,
                "before_after": before_after,
                "versions": cmp_versions,
                "layout": f"/img/layout/{d.layout.id}/lines?w=0" if d.layout else "",
            },
            "thread": thread,
            "replies": replies,
            "comment_sel": comment,
            "colours": COLOURS,
            "ja": _ja,
            "place": place,
            "can_locate": user.role.value in ("artist", "director"),
            "painters_of": paint_over_artists(ctx, [v.id for v in versions]) if place.name else {},
            "variant_from": variant_sources(ctx, d.variant_options),
        },
    )


@router.get("/cut/{ref}")
def cut_page(
    request: Request,
    ref: str,
    user: Annotated[User, Depends(reader)],
    ok: str = "",
    v: QueryId | None = None,
    c: QueryId | None = None,
) -> Response:
    return _cut_page(request, user, ref, ok=ok, selected=v, comment=c)


@router.get("/cut/{ref}/label")
def label_page(
    request: Request, ref: str, user: Annotated[User, Depends(reader)], background: BackgroundTasks
) -> Response:
    ctx = app_ctx(request)
    d = review.bg_detail(ctx, ref)
    can_label = user.role.can("label")
    if can_label and d.layout is not None:
        # derive (and cache) the closed areas after the page is sent, so the first click is quick
        from haikei.services.review_labels import closed_areas

        background.add_task(closed_areas, ctx, d.layout.lines_blob)
    return render(
        request,
        "label.html",
        {"user": user, "d": d, "bg": d.bg, "classes": list(ctx.vocabulary.classes), "can_label": can_label},
    )


def _act(ref: str, ok: str, fn: Callable[[], Any], v: int | None = None) -> Response:
    fn()  # a HaikeiError goes to the app's handler: message in the session, back to the page
    sel = f"&v={v}" if v else ""
    return RedirectResponse(f"/cut/{ref}?ok={ok}{sel}", status_code=303)


ActorDep = Annotated[User, Depends(page_actor)]
LockF = Annotated[int, Form(ge=0)]
VersionF = FormId
TextF = Annotated[str, Form(max_length=4000)]


@router.post("/cut/{ref}/pick")
def pick(request: Request, ref: str, user: ActorDep, version_id: VersionF, lock_version: LockF) -> Response:
    return _act(
        ref, "picked", lambda: review.pick(app_ctx(request), user, ref, version_id, lock_version), version_id
    )


@router.post("/cut/{ref}/approve")
def approve(
    request: Request,
    ref: str,
    user: ActorDep,
    version_id: VersionF,
    lock_version: LockF,
    text: TextF = "",
    confirm_painters: Annotated[bool, Form()] = False,
) -> Response:
    return _act(
        ref,
        "approved",
        lambda: review.approve(
            app_ctx(request), user, ref, version_id, lock_version, text, confirm_painters=confirm_painters
        ),
        version_id,
    )


@router.post("/cut/{ref}/location")
def set_location_form(
    request: Request,
    ref: str,
    user: ActorDep,
    location: Annotated[str, Form(max_length=200)] = "",
    clear: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Put the BG at a location (made if new) or, with ``clear``, take it off (locations)."""
    from haikei.services.location_views import set_bg_location

    name = None if clear else location
    saved = set_bg_location(app_ctx(request), user, ref, name)
    return RedirectResponse(f"/cut/{ref}?ok={'located' if saved else 'unlocated'}", status_code=303)


@router.get("/location/{name}")
def location_page(request: Request, name: str, user: Annotated[User, Depends(reader)]) -> Response:
    """A location's BGs side by side with their states, and its boards (current and retired) with
    their chain of painters and consent, or why a BG has none."""
    from haikei.services.locations import location_detail

    ctx = app_ctx(request)
    detail = location_detail(ctx, name)
    cards = {c.bg: c for c in review_read.all_cards(ctx)}
    return render(
        request,
        "location.html",
        {"user": user, "loc": detail, "cards": cards, "ja": _ja},
    )


@router.post("/cut/{ref}/reject")
def reject(
    request: Request,
    ref: str,
    user: ActorDep,
    lock_version: LockF,
    text: TextF = "",
    version_id: FormId | None = None,
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
    request: Request, ref: str, version_id: PathId, user: ActorDep, lock_version: LockF
) -> Response:
    return _act(
        ref,
        "variant_approved",
        lambda: review.approve_variant(app_ctx(request), user, ref, version_id, lock_version),
    )


@router.post("/cut/{ref}/assign")
def assign(
    request: Request,
    ref: str,
    user: ActorDep,
    lock_version: LockF,
    assignee: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    return _act(
        ref, "assigned", lambda: review.assign(app_ctx(request), user, ref, assignee or None, lock_version)
    )


# -- delivery from the page (director) and the credits ----------------------------------------


@router.get("/delivery")
def delivery_page(
    request: Request, user: Annotated[User, Depends(reader)], job: QueryId | None = None, ok: str = ""
) -> Response:
    from haikei.services.exports import delivered_files, delivery_folder, export_job, export_jobs

    ctx = app_ctx(request)
    every = review_read.all_cards(ctx)
    approved = [c for c in every if c.approved_version_id is not None]
    jobs = export_jobs(ctx, 5)
    shown = export_job(ctx, job) if job else (jobs[0] if jobs else None)
    return render(
        request,
        "delivery.html",
        {
            "user": user,
            "can_deliver": user.role.can("deliver"),
            "approved": approved,
            "others": [c for c in every if c.approved_version_id is None],
            "files": delivered_files(ctx, 200),
            "folder": str(delivery_folder(ctx)),
            "job": shown,
            "ok": DONE.get(ok, ""),
            "ja": _ja,
        },
    )


@router.get("/export")
def export_alias(user: Annotated[User, Depends(reader)]) -> Response:
    return RedirectResponse("/delivery", status_code=303)


@router.post("/delivery/export")
def delivery_export(
    request: Request,
    user: ActorDep,
    background: BackgroundTasks,
    cuts: Annotated[list[str] | None, Form()] = None,
    scope: Annotated[str, Form(max_length=20)] = "approved",
) -> Response:
    from haikei.services.exports import run_export, start_export

    ctx = app_ctx(request)
    job = start_export(ctx, user, cuts or [], only_approved=scope != "current")
    background.add_task(run_export, ctx, job["id"])
    return RedirectResponse(f"/delivery?job={job['id']}&ok=export_started", status_code=303)


@router.get("/delivery/{delivery_id}/file")
def delivery_file(request: Request, delivery_id: PathId, user: Annotated[User, Depends(reader)]) -> Response:
    from fastapi.responses import FileResponse

    from haikei.services.exports import delivered_path

    p = delivered_path(app_ctx(request), delivery_id)
    return FileResponse(p, media_type="image/png", filename=p.name)


@router.get("/delivery/{delivery_id}/verify")
def delivery_verify(
    request: Request, delivery_id: PathId, user: Annotated[User, Depends(reader)]
) -> Response:
    from haikei.services.exports import verify_delivered

    rep = verify_delivered(app_ctx(request), delivery_id)
    return render(request, "verify.html", {"user": user, "rep": rep, "delivery_id": delivery_id})


@router.get("/credits")
def credits_page(request: Request, user: Annotated[User, Depends(reader)]) -> Response:
    from haikei.services.exports import credits_text

    text = credits_text(app_ctx(request), "text")
    return render(request, "credits.html", {"user": user, "credits": text, "ja": _ja})


@router.get("/credits.{fmt}")
def credits_download(request: Request, fmt: str, user: Annotated[User, Depends(reader)]) -> Response:
    from haikei.services.exports import credits_text

    if fmt not in ("csv", "json"):
        return error_page(request, f"credits.{fmt[:20]}: there are credits.csv and credits.json", 404)
    text = credits_text(app_ctx(request), fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    return Response(
        text, media_type=media, headers={"Content-Disposition": f'attachment; filename="credits.{fmt}"'}
    )

"""Review: people pick, approve, reject, ask for retakes, paint over and approve variants.

Every state change names the acting user (role checked here, not only at the edge), takes the
BG's ``lock_version`` the person saw and is refused with :class:`ConflictError` when someone
else changed the BG since (optimistic concurrency: no change is silently overwritten). The
check, the bump of ``lock_version``, the status change and the note that records who and when
are one write transaction. Uploads are decoded by :mod:`haikei.imaging.io` (size and bomb
guards) and checked before anything is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import func, select

from haikei.domain.models import Job, Note, User, Version, VersionKind
from haikei.errors import ConflictError, ImageError, InputError, NotFoundError
from haikei.imaging.io import load_image, load_rgb, png_bytes
from haikei.services.context import ServiceContext
from haikei.services.rendering import RenderSpec, find_background, plan
from haikei.services.review_labels import label_layout
from haikei.services.review_read import (
    UNASSIGNED,
    BgDetail,
    CutCard,
    assignable_users,
    bg_detail,
    cut_cards,
    variant_tags,
)
from haikei.services.review_variants import VariantOption, variant_options, variant_specs
from haikei.services.users import require
from haikei.store.blobs import sha256_bytes
from haikei.store.convert import to_note, to_version
from haikei.store.tables import BackgroundRow, NoteRow, ReviewStatusRow, UserRow, VersionRow

__all__ = [
    "CHANGE_THRESHOLD",
    "MAX_UPLOAD_BYTES",
    "UNASSIGNED",
    "BgDetail",
    "CutCard",
    "VariantOption",
    "approve",
    "approve_variant",
    "assign",
    "assignable_users",
    "bg_detail",
    "check_upload_name",
    "cut_cards",
    "label_layout",
    "pick",
    "reject",
    "request_retake",
    "request_variants",
    "upload_paintover",
    "variant_options",
    "variant_tags",
]

MAX_UPLOAD_BYTES = 256 * 1024 * 1024
CHANGE_THRESHOLD = 6  # a pixel counts as changed when a channel moved more than this (of 255)
_UPLOAD_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,200}\.(png|psd)$", re.IGNORECASE)


# -- the one way state changes ---------------------------------------------------------------


@contextmanager
def _change(
    ctx: ServiceContext, user: User, ref: str, expected_lock: int, action: str
) -> Iterator[tuple[Any, BackgroundRow]]:
    """A write transaction on one BG: role checked, lock version compared and bumped."""
    require(user, action)
    with ctx.db.immediate() as s:
        bg = find_background(s, ref)
        s.execute(select(BackgroundRow.id).where(BackgroundRow.id == bg.id).with_for_update())
        s.refresh(bg)
        if bg.lock_version != int(expected_lock):
            last = s.scalars(
                select(NoteRow).where(NoteRow.background_id == bg.id).order_by(NoteRow.id.desc())
            ).first()
            who = (
                f" (last: {last.author} at {last.created_at:%H:%M:%S}: {last.status_change or 'note'})"
                if last
                else ""
            )
            raise ConflictError(
                f"{bg.name} was changed by someone else since you opened it{who}; "
                "reload the page to see the change, then try again"
            )
        bg.lock_version += 1
        yield s, bg


def _status(s: Any, short: str) -> ReviewStatusRow:
    row = s.scalars(select(ReviewStatusRow).where(ReviewStatusRow.short_name == short)).first()
    if row is None:
        raise NotFoundError(f"review status {short!r} is not defined in this production")
    return row


def _version_of(s: Any, bg: BackgroundRow, version_id: int) -> VersionRow:
    v = s.get(VersionRow, int(version_id))
    if v is None or v.background_id != bg.id:
        raise NotFoundError(f"version {version_id} is not a version of {bg.name}")
    return v


def _note(
    s: Any,
    bg: BackgroundRow,
    user: User,
    text: str,
    *,
    version_id: int | None = None,
    status: str | None = None,
    mask_blob: str | None = None,
) -> NoteRow:
    row = NoteRow(
        background_id=bg.id,
        version_id=version_id,
        author=user.name,
        text=text.strip(),
        mask_blob=mask_blob,
        status_change=status,
    )
    s.add(row)
    return row


def pick(
    ctx: ServiceContext, user: User, ref: str, version_id: int, expected_lock: int, text: str = ""
) -> Note:
    """Make a candidate the BG's current version; the BG then waits for approval."""
    with _change(ctx, user, ref, expected_lock, "pick") as (s, bg):
        v = _version_of(s, bg, version_id)
        if v.variant is not None:
            raise InputError(f"r{v.revision} is a {v.variant} variant; approve it in the variants section")
        bg.current_version_id = v.id
        new_status = None
        if not bg.status.is_approved:
            bg.status_id = _status(s, "wfa").id
            new_status = "wfa"
        note = _note(
            s, bg, user, text or f"picked r{v.revision} as the BG", version_id=v.id, status=new_status
        )
        s.flush()
        return to_note(note)


def approve(
    ctx: ServiceContext,
    user: User,
    ref: str,
    version_id: int,
    expected_lock: int,
    text: str = "",
    *,
    confirm_painters: bool = False,
) -> Note:
    """Approve a version as the BG. ``confirm_painters``: the director confirms that the people who
    painted over it agree to it becoming its location's board (see services/locations.py)."""
    from haikei.services.locations import on_approve

    with _change(ctx, user, ref, expected_lock, "approve") as (s, bg):
        v = _version_of(s, bg, version_id)
        if v.variant is not None:
            raise InputError(f"r{v.revision} is a {v.variant} variant; approve it with approve_variant")
        bg.current_version_id = v.id
        bg.approved_version_id = v.id
        bg.status_id = _status(s, "approved").id
        note = _note(s, bg, user, text or f"approved r{v.revision}", version_id=v.id, status="approved")
        s.flush()
        on_approve(ctx, s, bg, v, user, confirm_painters=confirm_painters)  # location board (locations)
        return to_note(note)


def reject(
    ctx: ServiceContext, user: User, ref: str, expected_lock: int, text: str, version_id: int | None = None
) -> Note:
    if not text.strip():
        raise InputError("say what is wrong: a rejection needs a note")
    with _change(ctx, user, ref, expected_lock, "reject") as (s, bg):
        vid = _version_of(s, bg, version_id).id if version_id else bg.current_version_id
        bg.status_id = _status(s, "retake").id
        withdrawn = bg.approved_version_id is not None and bg.approved_version_id == vid
        if withdrawn:
            bg.approved_version_id = None
        note = _note(s, bg, user, text, version_id=vid, status="retake")
        s.flush()
        _left_approved(s, bg, user, "was rejected (approval withdrawn)" if withdrawn else "was rejected")
        return to_note(note)


def _left_approved(s: Any, bg: BackgroundRow, user: User, why: str) -> None:
    """A BG that left approved retires its location boards (services/locations.py)."""
    from haikei.services.locations import on_left_approved

    s.refresh(bg, ["status"])
    on_left_approved(s, bg, user.name, why)


def _decode_mask(data: bytes, w: int, h: int) -> np.ndarray:
    img = load_image(data, name="retake mask")
    if img.size != (w, h):
        raise ImageError(
            "retake mask", f"is {img.size[0]}x{img.size[1]}, the BG is {w}x{h}", "draw it on the BG's page"
        )
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        mask = np.asarray(img.convert("RGBA"))[..., 3] >= 128
    else:
        mask = np.asarray(img.convert("L")) >= 128
    if not mask.any():
        raise InputError("the retake mask is empty; paint over the area to re-render")
    if mask.all():
        raise InputError("the retake mask covers the whole BG; to repaint everything, render new candidates")
    return mask


def _engine_for(ctx: ServiceContext, parent_engine: str, engine: str | None) -> str:
    if engine:
        return engine
    allowed = ctx.settings.render.allowed_engines
    return parent_engine if parent_engine in allowed else ctx.settings.render.engine


def request_retake(
    ctx: ServiceContext,
    user: User,
    ref: str,
    version_id: int,
    expected_lock: int,
    mask_png: bytes,
    text: str,
    *,
    engine: str | None = None,
    seed: int = 0,
) -> tuple[Note, Job]:
    """A retake note with a mask on a version; queues a regional re-render (the next version)."""
    from haikei.jobs.queue import submit

    require(user, "retake")
    if not text.strip():
        raise InputError("say what to change: a retake needs a note")
    # 1. check everything before storing anything
    with ctx.db.session() as s:
        bg = find_background(s, ref)
        parent = _version_of(s, bg, version_id)
        name, w, h, parent_engine, lock = bg.name, bg.width, bg.height, parent.engine, bg.lock_version
    if lock != int(expected_lock):
        raise ConflictError(
            f"{name} was changed by someone else since you opened it; reload the page and draw the retake again"
        )
    mask = _decode_mask(mask_png, w, h)
    mask_file = png_bytes(np.where(mask, 255, 0).astype(np.uint8))
    mask_key = sha256_bytes(mask_file)  # written only once the request is accepted (below)
    from haikei.services.retake_notes import read_note  # the note reaches the engine (review loop)

    use_engine = _engine_for(ctx, parent_engine, engine)
    reading = read_note(ctx, name, text, use_engine)
    spec = RenderSpec(
        bg=name,
        engine=use_engine,
        seed=seed,
        kind="retake",
        parent_version_id=int(version_id),
        mask_blob=mask_key,
        direction=reading.direction or None,
        options=dict(reading.options),  # the exemplar's palette_adjust from the note's colour words
        actor=user.name,
    )
    plan(ctx, spec)  # refuses now what a worker would refuse later (unknown engine, no weights)
    # 2. the mask, the note and the status change: one transaction, lock checked again first (a
    #    loser writes nothing); one that fails after writing removes its blob (BlobStore.scope)
    with ctx.blobs.scope() as blobs, _change(ctx, user, ref, expected_lock, "retake") as (s, bg):
        blobs.put(mask_file)
        bg.status_id = _status(s, "retake").id
        note = _note(s, bg, user, text, version_id=int(version_id), status="retake", mask_blob=mask_key)
        s.flush()
        _left_approved(s, bg, user, "was reopened for a retake")
        out = to_note(note)
    # 3. the job (a worker renders it; the new version becomes current when done)
    job = submit(ctx, spec, priority=1, requested_by=user.name)
    return out, job


def _changed(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    return np.abs(new.astype(np.int16) - old.astype(np.int16)).max(axis=2) > CHANGE_THRESHOLD


def _diff_overlay(new: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """The new painting dimmed to grey, changed pixels in a strong magenta tint."""
    grey = new.mean(axis=2, keepdims=True) * 0.45 + 110
    out = np.repeat(grey, 3, axis=2)
    tint = np.array([255, 0, 170], np.float64)
    out[changed] = new[changed] * 0.35 + tint * 0.65
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def check_upload_name(filename: str) -> str:
    """The plain file name of an upload, or InputError for path tricks and wrong types."""
    name = filename or ""
    if not _UPLOAD_NAME.match(name) or name.startswith(".") or ".." in name:
        raise InputError(
            f"file name {name[:80]!r} is not a plain .png or .psd name; save the paint-over as NAME.png or NAME.psd"
        )
    return name


def upload_paintover(
    ctx: ServiceContext,
    user: User,
    ref: str,
    parent_version_id: int,
    expected_lock: int,
    data: bytes,
    filename: str,
    text: str = "",
) -> Version:
    """A person's painted-over image (PNG or PSD, the BG's size) as a new human version."""
    require(user, "upload")
    # 1. the upload: name, size, decodable, same size as the BG
    name = check_upload_name(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(
            name, f"is over the {MAX_UPLOAD_BYTES >> 20} MiB upload limit", "export a smaller file"
        )
    is_psd = name.lower().endswith(".psd")
    magic = b"8BPS" if is_psd else b"\x89PNG\r\n\x1a\n"
    if not data.startswith(magic):
        raise ImageError(name, f"is not a {'PSD' if is_psd else 'PNG'} file", "export it again as PNG or PSD")
    with ctx.db.session() as s:
        bg = find_background(s, ref)
        parent = _version_of(s, bg, parent_version_id)
        bg_name, w, h, lock, parent_blob = bg.name, bg.width, bg.height, bg.lock_version, parent.image_blob
        parent_rev, layout_id = parent.revision, parent.layout_id
    if lock != int(expected_lock):
        raise ConflictError(
            f"{bg_name} was changed by someone else since you opened it; reload the page and upload again"
        )
    image = load_rgb(data, name=name)
    if image.shape[:2] != (h, w):
        raise ImageError(
            name,
            f"is {image.shape[1]}x{image.shape[0]}, the BG is {w}x{h}",
            "paint over the full-size version and keep its size",
        )
    # 2. what the person changed
    old = load_rgb(ctx.blobs.get(parent_blob), name=f"r{parent_rev}")
    changed = _changed(image, old)
    share = float(changed.mean())
    if share == 0.0:
        raise InputError(f"{name} is the same as r{parent_rev}; nothing to upload")
    recipe: dict[str, Any] = {
        "schema": "haikei.recipe/1",
        "kind": "human",
        "actor": user.name,
        "digital_source_type": "digitalCreation",
        "parent_version_id": int(parent_version_id),
        "parent_image": parent_blob,
        "file_name": name,
        "format": "psd" if is_psd else "png",
        "changed_share": share,
        "change_threshold": CHANGE_THRESHOLD,
    }
    changed_png = png_bytes(np.where(changed, 255, 0).astype(np.uint8))
    diff_png = png_bytes(_diff_overlay(image, changed))
    recipe["changed_mask"], recipe["diff_overlay"] = sha256_bytes(changed_png), sha256_bytes(diff_png)
    image_png = png_bytes(image, {"haikei:recipe": json.dumps(recipe, sort_keys=True)})
    # 3. inside one transaction (lock checked first: a loser writes nothing): the blobs, the
    #    version, the BG's current version, the note; a change that fails after writing removes
    #    the blobs it wrote (BlobStore.scope)
    with ctx.blobs.scope() as blobs, _change(ctx, user, ref, expected_lock, "upload") as (s, bg):
        blobs.put(changed_png)
        blobs.put(diff_png)
        image_key = blobs.put(image_png)
        rev = (
            s.scalar(select(func.max(VersionRow.revision)).where(VersionRow.background_id == bg.id)) or 0
        ) + 1
        row = VersionRow(
            background_id=bg.id,
            revision=rev,
            parent_id=int(parent_version_id),
            kind=VersionKind.human.value,
            image_blob=image_key,
            recipe=recipe,
            render_key="",
            layout_id=layout_id,
            created_by=user.name,
            changed_share=share,
        )
        s.add(row)
        s.flush()
        bg.current_version_id = row.id
        waiting = _status(s, ctx.settings.review.new_version)  # [review] new_version (review loop)
        bg.status_id = waiting.id
        _note(
            s,
            bg,
            user,
            text or f"paint-over of r{parent_rev} ({share:.1%} of pixels changed)",
            version_id=row.id,
            status=waiting.short_name,
        )
        s.flush()
        _left_approved(s, bg, user, f"was reopened by a paint-over (r{rev})")
        return to_version(row)


def request_variants(
    ctx: ServiceContext, user: User, ref: str, tags: list[str], expected_lock: int
) -> list[Job]:
    """Queue the season / time-of-day set of the approved BG, each tag by the method the
    production's boards allow (see :mod:`haikei.services.review_variants`); a tag that cannot be
    made is refused with what it would need, and then nothing is queued."""
    from haikei.jobs.queue import submit

    require(user, "variant")
    tags = list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    if not tags:
        offered = ", ".join(variant_options(ctx, ref)) or "none available"
        raise InputError(f"choose at least one variant ({offered})")
    specs, options, approved_id = variant_specs(ctx, ref, tags, user.name)
    for sp in specs:
        plan(ctx, sp)  # refuses now what a worker would refuse later
    with _change(ctx, user, ref, expected_lock, "variant") as (s, bg):
        said = ", ".join(f"{o.tag} ({o.label})" for o in options)
        _note(s, bg, user, f"variants requested: {said}", version_id=approved_id)
    return [submit(ctx, sp, requested_by=user.name) for sp in specs]


def approve_variant(ctx: ServiceContext, user: User, ref: str, version_id: int, expected_lock: int) -> Note:
    with _change(ctx, user, ref, expected_lock, "approve") as (s, bg):
        v = _version_of(s, bg, version_id)
        if v.variant is None:
            raise InputError(f"r{v.revision} is not a variant; approve it as the BG instead")
        note = _note(
            s, bg, user, f"approved the {v.variant} variant r{v.revision}", version_id=v.id, status="approved"
        )
        s.flush()
        from haikei.services.locations import on_variant_approved

        on_variant_approved(s, bg, v)  # locations: the location board gets the aligned repaint
        return to_note(note)


def assign(ctx: ServiceContext, user: User, ref: str, assignee: str | None, expected_lock: int) -> Note:
    """Assign the BG to a person (an artist or director, by login name), or unassign it (None)."""
    with _change(ctx, user, ref, expected_lock, "assign") as (s, bg):
        if assignee:
            row = s.scalars(select(UserRow).where(UserRow.name == assignee, UserRow.active)).first()
            if row is None or row.role not in ("artist", "director"):
                raise InputError(f"{assignee!r} is not an active artist or director; see 'haikei user list'")
            if bg.assignee_id == row.id:
                raise InputError(f"{bg.name} is already assigned to {row.display_name or row.name}")
            bg.assignee_id = row.id
            text = f"assigned to {row.display_name or row.name}"
        else:
            if bg.assignee_id is None:
                raise InputError(f"{bg.name} is not assigned to anyone")
            bg.assignee_id = None
            text = "unassigned"
        note = _note(s, bg, user, text)
        s.flush()
        return to_note(note)

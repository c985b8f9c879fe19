"""Images for the pages: downscaled previews cached by blob hash, full size only on request.

Only images that belong to a version, layout or note are served (by their row id), never a blob
by a hash the client names. Paintings go out as JPEG, line art, region maps and masks as PNG.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from PIL import Image

from haikei.domain.models import User
from haikei.errors import InputError, NotFoundError
from haikei.imaging.io import atomic_write_bytes, load_image
from haikei.services.context import ServiceContext
from haikei.store.tables import LayoutRow, NoteRow, VersionRow
from haikei.web.auth import app_ctx, reader
from haikei.web.ids import PathId

__all__ = ["PREVIEW_WIDTHS", "preview_bytes", "router"]

router = APIRouter(prefix="/img", include_in_schema=False)
PREVIEW_WIDTHS = (0, 160, 320, 480, 640, 960, 1280, 1920)  # 0 = full size (zoom 1:1)
IMMUTABLE = "private, max-age=31536000, immutable"


def _cache_dir(ctx: ServiceContext) -> Path:
    return ctx.root / "cache" / "previews"


def preview_bytes(ctx: ServiceContext, key: str, width: int, kind: str) -> tuple[bytes, str]:
    """(bytes, media type) of blob ``key`` at ``width`` px wide; ``kind`` painting | lines | map."""
    if width not in PREVIEW_WIDTHS:
        raise InputError(f"preview width {width} is not one of {', '.join(map(str, PREVIEW_WIDTHS))}")
    if width == 0:
        return ctx.blobs.get(key), "image/png"
    jpeg = kind == "painting"
    path = _cache_dir(ctx) / key[:2] / f"{key}-{width}.{'jpg' if jpeg else 'png'}"
    media = "image/jpeg" if jpeg else "image/png"
    if path.exists():
        return path.read_bytes(), media
    img = load_image(ctx.blobs.get(key), name=f"blob {key[:12]}")
    if width < img.width:
        h = max(1, round(img.height * width / img.width))
        img = img.resize((width, h), Image.Resampling.NEAREST if kind == "map" else Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    if jpeg:
        img.convert("RGB").save(buf, "JPEG", quality=88, optimize=True)
    else:
        img.save(buf, "PNG", optimize=False)
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    return data, media


def _send(request: Request, key: str, width: int, kind: str) -> Response:
    etag = f'"{key[:32]}-{width}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
    data, media = preview_bytes(app_ctx(request), key, width, kind)
    return Response(data, media_type=media, headers={"ETag": etag, "Cache-Control": IMMUTABLE})


Width = Annotated[int, Query(description="preview width in px; 0 = full size")]


@router.get("/v/{version_id}")
def version_image(
    request: Request, version_id: PathId, user: Annotated[User, Depends(reader)], w: Width = 480
) -> Response:
    with app_ctx(request).db.session() as s:
        v = s.get(VersionRow, version_id)
        if v is None:
            raise NotFoundError(f"no version {version_id}")
        key = v.image_blob
    return _send(request, key, w, "painting")


@router.get("/v/{version_id}/diff")
def version_diff(
    request: Request, version_id: PathId, user: Annotated[User, Depends(reader)], w: Width = 480
) -> Response:
    with app_ctx(request).db.session() as s:
        v = s.get(VersionRow, version_id)
        key = (v.recipe or {}).get("diff_overlay") if v is not None else None
        if not key:
            raise NotFoundError(f"version {version_id} has no diff overlay (only paint-overs have one)")
    return _send(request, str(key), w, "painting")


@router.get("/layout/{layout_id}/{part}")
def layout_image(
    request: Request, layout_id: PathId, part: str, user: Annotated[User, Depends(reader)], w: Width = 480
) -> Response:
    if part not in ("lines", "regions", "book"):
        raise NotFoundError(f"a layout has lines, regions and book, not {part!r}")
    with app_ctx(request).db.session() as s:
        lay = s.get(LayoutRow, layout_id)
        key = getattr(lay, f"{part}_blob") if lay is not None else None
        if not key:
            raise NotFoundError(f"layout {layout_id} has no {part} image")
    return _send(request, key, w, "map" if part == "regions" else "lines")


@router.get("/note/{note_id}/mask")
def note_mask(
    request: Request, note_id: PathId, user: Annotated[User, Depends(reader)], w: Width = 160
) -> Response:
    with app_ctx(request).db.session() as s:
        n = s.get(NoteRow, note_id)
        if n is None or not n.mask_blob:
            raise NotFoundError(f"note {note_id} has no mask")
        key = n.mask_blob
    return _send(request, key, w, "map")

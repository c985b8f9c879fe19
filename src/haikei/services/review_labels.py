"""Paint-bucket labelling of a layout's regions from the review page, quick at 1920x1080.

A click needs the layout's closed areas (``derive_regions``, about 1.6 s at 1920x1080) and the
current class map (decoding the region-map PNG, about 0.6 s). Both depend only on immutable,
content-addressed blobs, so both are cached on disk under ``<production>/cache/regions/``,
keyed by the blob's hash (and, for class maps, by the vocabulary's colours): a cache file can be
deleted at any time and is never wrong. The class map a click produces is put in that cache as
it is stored, so the next click decodes nothing.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from haikei.domain.models import User
from haikei.domain.vocabulary import UNLABELLED
from haikei.errors import ConflictError, InputError
from haikei.imaging.io import atomic_write_bytes, encode_region_map, load_gray, load_region_map, png_bytes
from haikei.services.context import ServiceContext
from haikei.services.rendering import find_background, latest_layout
from haikei.services.users import require
from haikei.store.tables import LayoutRow

__all__ = ["closed_areas", "label_layout"]

_AREAS_VERSION = "a1"  # bump when derive_regions' defaults change what it returns


def _cache_dir(ctx: ServiceContext) -> Path:
    return ctx.root / "cache" / "regions"


def _load_npy(path: Path) -> np.ndarray | None:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None  # missing or damaged: derive again


def _save_npy(path: Path, arr: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())


def closed_areas(ctx: ServiceContext, lines_blob: str) -> np.ndarray:
    """The closed areas (int ids, HxW) of the layout lines stored as ``lines_blob``, cached."""
    from haikei.imaging.regions import derive_regions

    path = _cache_dir(ctx) / f"areas-{_AREAS_VERSION}-{lines_blob}.npy"
    cached = _load_npy(path)
    if cached is not None:
        return cached
    components, count = derive_regions(load_gray(ctx.blobs.get(lines_blob), name="layout lines"))
    arr = components.astype(np.uint16) if count < np.iinfo(np.uint16).max else components
    _save_npy(path, arr)
    return arr


def _vocab_key(ctx: ServiceContext) -> str:
    return hashlib.sha256(repr(ctx.vocabulary.colour_table()).encode()).hexdigest()[:12]


def _class_map(ctx: ServiceContext, regions_blob: str) -> np.ndarray:
    path = _cache_dir(ctx) / f"ids-{_vocab_key(ctx)}-{regions_blob}.npy"
    cached = _load_npy(path)
    if cached is not None:
        return cached
    ids = np.ascontiguousarray(load_region_map(ctx.blobs.get(regions_blob), ctx.vocabulary), np.uint8)
    _save_npy(path, ids)
    return ids


def label_layout(
    ctx: ServiceContext, user: User, ref: str, specs: list[str], expected_revision: int
) -> tuple[int, int]:
    """Paint-bucket labelling ('sky@120,40' ...) as a new layout revision; refused when the layout
    changed since the page was opened. Returns (new revision, pixels still unlabelled)."""
    from haikei.imaging.regions import label_regions, parse_label_spec

    # 1. who, what, and the layout the person saw
    require(user, "label")
    points = [parse_label_spec(sp, ctx.vocabulary) for sp in specs]
    if not points:
        raise InputError("click an area and choose a class first")
    with ctx.db.session() as s:
        bg = find_background(s, ref)
        lay = latest_layout(s, bg.id)
        if lay.revision != int(expected_revision):
            raise ConflictError(
                f"the layout of {bg.name} changed since you opened it; reload the page and label again"
            )
        fields = {
            k: getattr(lay, k)
            for k in ("lines_blob", "regions_blob", "book_blob", "source_name", "source_hash", "artist")
        }
        bg_id = bg.id
    # 2. the closed areas and the current class map (cached), the clicks applied
    components = closed_areas(ctx, fields["lines_blob"])
    h, w = components.shape
    base = (
        _class_map(ctx, fields["regions_blob"])
        if fields["regions_blob"]
        else np.full((h, w), UNLABELLED, np.uint8)
    )
    ids = label_regions(components, points, base=base)
    remaining = int((ids == UNLABELLED).sum())
    # 3. the revision checked again, then the new region map blob and the revision row in one
    #    transaction: a labeller who lost the race writes nothing (BlobStore.scope)
    regions_png = png_bytes(encode_region_map(ids, ctx.vocabulary))
    with ctx.blobs.scope() as blobs, ctx.db.immediate() as s:
        rev = s.scalar(select(func.max(LayoutRow.revision)).where(LayoutRow.background_id == bg_id)) or 0
        if rev != int(expected_revision):
            raise ConflictError(
                "the layout changed while you were labelling; reload the page and label again"
            )
        fields["regions_blob"] = blobs.put(regions_png)
        s.add(
            LayoutRow(
                background_id=bg_id,
                revision=rev + 1,
                labelled=remaining == 0,
                cleanup={"labelled_by": user.name, "points": list(specs)},
                **fields,
            )
        )
    _save_npy(_cache_dir(ctx) / f"ids-{_vocab_key(ctx)}-{fields['regions_blob']}.npy", ids)
    return rev + 1, remaining

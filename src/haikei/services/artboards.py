"""Art boards (美術ボード): intake with artist, licence and consent; the boards an engine may use."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import select

from haikei.domain.direction import Direction
from haikei.domain.models import ArtBoard
from haikei.domain.vocabulary import UNLABELLED
from haikei.engines.base import BoardInput
from haikei.errors import ConflictError, ConsentError, ImageError, InputError, NotFoundError
from haikei.imaging.io import encode_region_map, load_region_map, load_rgb, png_bytes
from haikei.services.context import ServiceContext
from haikei.store.convert import to_artboard
from haikei.store.tables import ArtBoardRow, utcnow

__all__ = ["add_artboard", "boards_for_render", "get_artboard", "list_artboards", "load_board_input"]

TAG_MAX = 40


def _clean_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for t in tags:
        t = t.strip().lower()
        if not t:
            continue
        if len(t) > TAG_MAX:
            raise InputError(f"tag {t[:20]!r}... is longer than {TAG_MAX} characters; shorten it")
        if t not in out:
            out.append(t)
    return out


def add_artboard(
    ctx: ServiceContext,
    image: str | Path,
    labels: str | Path,
    *,
    name: str | None = None,
    tags: Sequence[str] = (),
    artist: str = "",
    licence: str = "",
    consent: bool = False,
    variants: Mapping[str, str | Path] | None = None,
    allows_derived_use: bool = False,
) -> ArtBoard:
    """Register a painted reference with its label map. Everything is validated before anything
    is written; a board without consent is stored but no engine may use it."""
    # 1. validate inputs (nothing written yet)
    image, labels = Path(image), Path(labels)
    rgb = load_rgb(image)
    ids = load_region_map(labels, ctx.vocabulary)
    if ids.shape != rgb.shape[:2]:
        raise ImageError(
            labels,
            f"label map is {ids.shape[1]}x{ids.shape[0]} but the art board is {rgb.shape[1]}x{rgb.shape[0]}",
            "export both at the same size",
        )
    labelled = ids != UNLABELLED
    if labelled.mean() < 0.5:
        raise ImageError(
            labels, f"only {labelled.mean():.0%} of the board is labelled", "label at least half of it"
        )
    variant_bytes: dict[str, bytes] = {}
    for tag, vpath in (variants or {}).items():
        vrgb = load_rgb(vpath)
        if vrgb.shape != rgb.shape:
            raise ImageError(
                vpath, "variant is not the same size as the art board", "export an aligned repaint"
            )
        variant_bytes[_clean_tags([tag])[0]] = Path(vpath).read_bytes()
    board_name = (name or image.stem).strip()
    if not board_name:
        raise InputError("art board name is empty; pass --name")
    clean_tags = _clean_tags(tags)
    image_bytes = image.read_bytes()
    labels_png = png_bytes(encode_region_map(ids, ctx.vocabulary))
    classes = sorted({ctx.vocabulary.name_of(int(c)) for c in np.unique(ids) if c != UNLABELLED})
    with ctx.db.session() as s:
        if s.scalars(select(ArtBoardRow).where(ArtBoardRow.name == board_name)).first():
            raise ConflictError(f"an art board named {board_name!r} exists; pass --name to choose another")
    # 2. blobs (content-addressed, atomic), then 3. the row in one transaction
    image_key = ctx.blobs.put(image_bytes)
    labels_key = ctx.blobs.put(labels_png)
    variant_keys = {tag: ctx.blobs.put(b) for tag, b in variant_bytes.items()}
    with ctx.db.session() as s:
        row = ArtBoardRow(
            name=board_name,
            image_blob=image_key,
            labels_blob=labels_key,
            width=int(rgb.shape[1]),
            height=int(rgb.shape[0]),
            artist=artist.strip(),
            licence=licence.strip(),
            consent=bool(consent),
            tags=clean_tags,
            variants=variant_keys,
            classes=classes,
            allows_derived_use=bool(allows_derived_use),  # locations: recorded with the consent
            derived_use_recorded_at=utcnow() if allows_derived_use else None,
        )
        s.add(row)
        s.flush()
        return to_artboard(row)


def list_artboards(ctx: ServiceContext) -> list[ArtBoard]:
    with ctx.db.session() as s:
        return [to_artboard(r) for r in s.scalars(select(ArtBoardRow).order_by(ArtBoardRow.id))]


def artboard_classes(ctx: ServiceContext) -> dict[int, list[str]]:
    with ctx.db.session() as s:
        return {r.id: list(r.classes or []) for r in s.scalars(select(ArtBoardRow))}


def get_artboard(ctx: ServiceContext, ref: str | int) -> ArtBoard:
    with ctx.db.session() as s:
        q = select(ArtBoardRow)
        q = (
            q.where(ArtBoardRow.id == int(ref))
            if str(ref).isdigit()
            else q.where(ArtBoardRow.name == str(ref))
        )
        row = s.scalars(q).first()
        if row is None:
            raise NotFoundError(f"no art board {ref!r}; see 'haikei artboard list'")
        return to_artboard(row)


# decoded board pictures by blob hash (blobs are content-addressed, so a hash names one picture
# for good): a render decodes the same boards as the one before it (a 1920x1080 board and its
# labels took ~0.15 s to decode per render). Read-only arrays, so no engine can change them.
_DECODED_MAX = 12
_decoded: OrderedDict[str, np.ndarray] = OrderedDict()
_decoded_lock = threading.Lock()


def _decoded_picture(key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    with _decoded_lock:
        hit = _decoded.get(key)
        if hit is not None:
            _decoded.move_to_end(key)
            return hit
    arr = make()
    arr.setflags(write=False)
    with _decoded_lock:
        _decoded[key] = arr
        while len(_decoded) > _DECODED_MAX:
            _decoded.popitem(last=False)
    return arr


def _decoded_rgb(ctx: ServiceContext, blob: str, name: str) -> np.ndarray:
    return _decoded_picture(blob, lambda: load_rgb(ctx.blobs.get(blob), name=name))


def _decoded_labels(ctx: ServiceContext, blob: str, name: str) -> np.ndarray:
    """A label map's class ids under this production's vocabulary (its colour table is in the key)."""
    from haikei.services.review_labels import _vocab_key

    table = _vocab_key(ctx)
    return _decoded_picture(
        f"{blob}|labels|{table}", lambda: load_region_map(ctx.blobs.get(blob), ctx.vocabulary, name=name)
    )


def load_board_input(ctx: ServiceContext, board: ArtBoard) -> BoardInput:
    """Decode a stored board for an engine. Refuses a board without consent."""
    if not board.consent:
        raise ConsentError(
            f"art board {board.name!r} has no recorded consent from {board.artist or 'its artist'}; "
            "no engine may use it (record consent with 'haikei artboard consent')"
        )
    image = _decoded_rgb(ctx, board.image_blob, f"art board {board.name}")
    labels = _decoded_labels(ctx, board.labels_blob, f"labels of {board.name}")
    variants = {
        tag: _decoded_rgb(ctx, key, f"{tag} variant of {board.name}") for tag, key in board.variants.items()
    }
    return BoardInput(
        key=board.image_blob,
        image=image,
        labels=labels,
        tags=frozenset(board.tags),
        artist=board.artist,
        name=board.name,
        variants=variants,
    )


def boards_for_render(
    ctx: ServiceContext, explicit_ids: Sequence[int] = (), direction: Direction | None = None
) -> list[ArtBoard]:
    """The boards a render may use: the BG's explicit choice, else every board with consent.

    An explicitly chosen board without consent is refused (ConsentError); among all boards the
    ones without consent are silently left out, because no one asked for them.
    """
    boards = list_artboards(ctx)
    if explicit_ids:
        by_id = {b.id: b for b in boards}
        chosen = []
        for i in explicit_ids:
            if i not in by_id:
                raise NotFoundError(f"art board id {i} does not exist")
            b = by_id[i]
            if not b.consent:
                raise ConsentError(f"art board {b.name!r} has no recorded consent; no engine may use it")
            chosen.append(b)
        return chosen
    # a location board paints only its own location's BGs (services/locations.location_first)
    usable = [b for b in boards if b.consent and b.location_id is None]
    if not usable:
        raise ConsentError(
            "no art board with recorded consent; add one with 'haikei artboard add ... --consent'"
        )
    return usable


def set_consent(ctx: ServiceContext, ref: str | int, consent: bool) -> ArtBoard:
    """Record (or withdraw) the artist's consent for engines to paint from a board."""
    board = get_artboard(ctx, ref)
    with ctx.db.session() as s:
        row = s.get(ArtBoardRow, board.id)
        assert row is not None
        row.consent = bool(consent)
        s.flush()
        return to_artboard(row)

"""Rendering a BG: build the engine request from the stored layout and boards, run the engine,
store the result as an immutable version with its full recipe.

A render is described by a :class:`RenderSpec` (what a job carries). ``prepare`` turns it into an
engine request plus the recipe's inputs and its render key; ``commit`` writes the image blob
first and then the version row in one transaction, so a crash leaves either no version or a
whole one (an unreferenced blob at worst, which ``haikei gc`` removes).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select

from haikei.domain.direction import Direction, parse_direction
from haikei.domain.models import Version, VersionKind
from haikei.domain.vocabulary import UNLABELLED
from haikei.engines.base import Engine, EngineContext, RenderRequest, RenderResult
from haikei.errors import ConsentError, InputError, NotFoundError, RenderRefused
from haikei.imaging.io import load_gray, load_region_map, load_rgb, png_bytes
from haikei.provenance.recipe import canonical_json, hash_bytes
from haikei.services.artboards import boards_for_render
from haikei.services.context import ServiceContext
from haikei.services.locations import location_board_inputs, location_first, with_location
from haikei.store.convert import to_version
from haikei.store.tables import BackgroundRow, LayoutRow, NoteRow, ReviewStatusRow, VersionRow

__all__ = [
    "PreparedRender",
    "RenderPlan",
    "RenderSpec",
    "commit",
    "find_background",
    "latest_layout",
    "plan",
    "prepare",
    "render_backgrounds",
    "render_spec",
]

RENDER_KINDS = ("render", "retake", "refine", "variant")


@dataclass(frozen=True)
class RenderSpec:
    """One render as a job asks for it (JSON-serialisable)."""

    bg: str
    engine: str = "exemplar"
    seed: int = 0
    candidate: int | None = None
    kind: str = "render"  # render | retake | refine | variant
    parent_version_id: int | None = None
    mask_blob: str | None = None
    variant: str | None = None
    direction: str | None = None  # overrides the BG's direction text
    options: dict[str, Any] = field(default_factory=dict)
    actor: str = ""

    def to_params(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RenderSpec:
        return cls(**params)


@dataclass
class PreparedRender:
    spec: RenderSpec
    background_id: int
    layout_id: int
    engine: Engine
    request: RenderRequest
    inputs: dict[str, Any]
    render_key: str


def find_background(s: Any, ref: str) -> BackgroundRow:
    """A BG by name ('c012', 'c012-c015') or by any cut it serves ('c013')."""
    from haikei.store.tables import CutRow

    row = s.scalars(select(BackgroundRow).where(BackgroundRow.name == ref)).unique().first()
    if row is None:
        cut = s.scalars(select(CutRow).where(CutRow.number == ref)).first()
        if cut is not None and cut.background_id is not None:
            row = s.get(BackgroundRow, cut.background_id)
    if row is None:
        raise NotFoundError(f"no BG or cut {ref!r}; see 'haikei status'")
    return row


def latest_layout(s: Any, bg_id: int) -> LayoutRow:
    row = s.scalars(
        select(LayoutRow).where(LayoutRow.background_id == bg_id).order_by(LayoutRow.revision.desc())
    ).first()
    if row is None:
        raise NotFoundError("the BG has no layout; import one with 'haikei import'")
    return row


def _direction(text: str) -> Direction:
    return parse_direction(text) if text.strip() else Direction()


@dataclass
class RenderPlan:
    """What a render will use, by reference (blob keys, board rows) and its render key: the
    cheap part of :func:`prepare` (no pixels decoded), enough for a queue to dedupe a job."""

    spec: RenderSpec
    background_id: int
    bg_name: str
    layout_id: int
    engine: Engine
    boards: list[Any]
    direction: Direction
    lines_blob: str
    regions_blob: str
    parent_image_blob: str | None
    parent_map_blob: str | None
    inputs: dict[str, Any]
    render_key: str


def plan(ctx: ServiceContext, spec: RenderSpec) -> RenderPlan:
    """Check the request against the database and compute its render key. Decodes no image."""
    if spec.kind not in RENDER_KINDS:
        raise InputError(f"render kind {spec.kind!r} is not one of {', '.join(RENDER_KINDS)}")
    allowed = ctx.settings.render.allowed_engines
    if spec.engine not in allowed:
        raise ConsentError(
            f"engine {spec.engine!r} is not on this production's allow-list ({', '.join(allowed)}); "
            "add it to [render] allowed_engines in haikei.toml"
        )
    engine = ctx.engine(spec.engine)
    with ctx.db.session() as s:
        bg = find_background(s, spec.bg)
        layout = latest_layout(s, bg.id)
        if not layout.labelled or layout.regions_blob is None:
            raise RenderRefused(
                f"the layout of {bg.name} has unlabelled regions; label them first "
                f"(haikei regions label {bg.name} sky@X,Y ...)"
            )
        direction_text = spec.direction if spec.direction is not None else bg.direction_text
        explicit = list(bg.artboard_ids or [])
        parent = s.get(VersionRow, spec.parent_version_id) if spec.parent_version_id else None
        if spec.parent_version_id and (parent is None or parent.background_id != bg.id):
            raise NotFoundError(f"version {spec.parent_version_id} is not a version of {bg.name}")
        bg_id, bg_name, layout_id = bg.id, bg.name, layout.id
        lines_blob, regions_blob = layout.lines_blob, layout.regions_blob
        parent_image_blob = parent.image_blob if parent else None
        parent_map_blob = parent.source_map_blob if parent else None
        map_of = None
        if parent is not None and not parent_map_blob and (spec.kind, spec.engine) == ("variant", "exemplar"):
            from haikei.services.review_variants import paint_over_map  # a paint-over: the render under it

            parent_map_blob, under = paint_over_map(s, parent)
            map_of = under.id if under is not None else None
    if spec.kind in ("retake", "refine", "variant") and parent_image_blob is None:
        raise RenderRefused(f"a {spec.kind} needs a parent version")
    if spec.kind == "retake" and not spec.mask_blob:
        raise RenderRefused("a retake needs a mask")
    direction = _direction(direction_text)
    boards = boards_for_render(ctx, explicit, direction)
    boards, location = location_first(  # location boards first
        ctx, bg_id, boards, regions_blob, kind=spec.kind, parent_version_id=spec.parent_version_id
    )
    inputs = {
        "background": bg_name,
        "layout_id": layout_id,
        "layout_lines": lines_blob,
        "layout_regions": regions_blob,
        "artboards": [
            {"id": b.id, "name": b.name, "hash": b.image_blob, "artist": b.artist, "licence": b.licence}
            for b in boards
        ],
        "direction": {"text": direction_text, **_direction_dict(direction)},
        "parent_version_id": spec.parent_version_id,
        "parent_image": parent_image_blob,
        "mask": spec.mask_blob,
        "variant": spec.variant,
    }
    if map_of is not None:  # a paint-over re-voted whole over the correspondences of the render under it
        inputs["paint_over_kept"] = {"version_id": spec.parent_version_id, "source_map_of_version_id": map_of}
    inputs = with_location(inputs, location)
    key = hash_bytes(
        canonical_json(
            {
                "engine": engine.name,
                "engine_version": engine.version,
                "kind": spec.kind,
                "seed": int(spec.seed),
                "options": dict(spec.options),
                "inputs": inputs,
            }
        )
    )
    return RenderPlan(
        spec,
        bg_id,
        bg_name,
        layout_id,
        engine,
        boards,
        direction,
        lines_blob,
        regions_blob,
        parent_image_blob,
        parent_map_blob,
        inputs,
        key,
    )


def prepare(ctx: ServiceContext, spec: RenderSpec) -> PreparedRender:
    """Load everything the engine needs and compute the render key. Writes nothing."""
    p = plan(ctx, spec)
    lines = load_gray(ctx.blobs.get(p.lines_blob), name=f"layout lines of {p.bg_name}")
    regions = load_region_map(
        ctx.blobs.get(p.regions_blob), ctx.vocabulary, name=f"region map of {p.bg_name}"
    )
    if (regions == UNLABELLED).any():
        raise RenderRefused(f"the layout of {p.bg_name} has unlabelled pixels; label them first")
    # the parent's pixels only where the engine works from them (a "render" merely records its parent)
    from_parent = spec.kind in ("retake", "refine", "variant")
    init = load_rgb(ctx.blobs.get(p.parent_image_blob)) if from_parent and p.parent_image_blob else None
    source_map = _load_array(ctx.blobs.get(p.parent_map_blob)) if from_parent and p.parent_map_blob else None
    mask = None
    if spec.mask_blob:
        mask = load_gray(ctx.blobs.get(spec.mask_blob), name="retake mask") >= 128
    request = RenderRequest(
        lines=lines,
        regions=regions,
        boards=location_board_inputs(ctx, p.boards, p.inputs.get("location")),
        direction=p.direction,
        vocabulary=ctx.vocabulary,
        seed=int(spec.seed),
        mask=mask,
        init=init,
        init_source_map=source_map if spec.kind == "variant" else None,
        variant=spec.variant if spec.kind == "variant" else None,
        options=dict(spec.options),
    )
    return PreparedRender(spec, p.background_id, p.layout_id, p.engine, request, p.inputs, p.render_key)


def _direction_dict(d: Direction) -> dict[str, Any]:
    to_json = getattr(d, "to_json", None)
    if callable(to_json):
        return dict(to_json())
    return {k: v for k, v in asdict(d).items()}


def _array_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _load_array(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def find_existing(ctx: ServiceContext, background_id: int, key: str) -> Version | None:
    with ctx.db.session() as s:
        row = s.scalars(
            select(VersionRow).where(VersionRow.background_id == background_id, VersionRow.render_key == key)
        ).first()
        return to_version(row) if row else None


def build_recipe(prep: PreparedRender, result: RenderResult) -> dict[str, Any]:
    spec = prep.spec
    return {
        "schema": "haikei.recipe/1",
        "kind": spec.kind,
        "engine": prep.engine.name,
        "engine_version": prep.engine.version,
        "digital_source_type": prep.engine.digital_source_type,
        "seed": int(spec.seed),
        "candidate": spec.candidate,
        "options": dict(spec.options),
        "inputs": prep.inputs,
        "engine_recipe": result.recipe,
        "warnings": list(result.warnings),
        "timings": dict(result.timings),
        "actor": spec.actor,
        "render_key": prep.render_key,
    }


def _retake_arrived(s: Any, bg: BackgroundRow, row: VersionRow, actor: str) -> None:
    """The re-render asked for in review has arrived: the BG now waits for approval (recorded as a note)."""
    wfa = s.scalars(select(ReviewStatusRow).where(ReviewStatusRow.short_name == "wfa")).first()
    if wfa is None:
        return
    bg.status_id = wfa.id
    bg.lock_version += 1
    s.add(
        NoteRow(
            background_id=bg.id,
            version_id=row.id,
            author=actor or "haikei",
            text=f"retake rendered as r{row.revision}",
            status_change="wfa",
        )
    )


def commit(
    ctx: ServiceContext,
    prep: PreparedRender,
    result: RenderResult,
    *,
    job_id: int | None = None,
    in_transaction: Callable[[Any, Version], None] | None = None,
) -> Version:
    """Write the blobs, then the version row and the BG's current version in one transaction.

    ``in_transaction(session, version)`` runs inside that same transaction (also when the render
    key was already stored): the job queue finishes its job there, so a job is done exactly when
    its version exists. An exception from it rolls everything back.
    """
    import json

    recipe = build_recipe(prep, result)
    image_key = ctx.blobs.put(png_bytes(result.image, {"haikei:recipe": json.dumps(recipe, sort_keys=True)}))
    map_key = ctx.blobs.put(_array_bytes(result.source_map)) if result.source_map is not None else None
    kind = VersionKind.composite if prep.spec.kind == "retake" else VersionKind.render
    with ctx.db.immediate() as s:
        # serialise commits per BG (PostgreSQL; SQLite's immediate transaction already does)
        s.execute(select(BackgroundRow.id).where(BackgroundRow.id == prep.background_id).with_for_update())
        existing = s.scalars(
            select(VersionRow).where(
                VersionRow.background_id == prep.background_id, VersionRow.render_key == prep.render_key
            )
        ).first()
        if existing is not None:  # someone committed the same render first: no duplicate
            version = to_version(existing)
            if in_transaction is not None:
                in_transaction(s, version)
            return version
        rev = (
            s.scalar(
                select(func.max(VersionRow.revision)).where(VersionRow.background_id == prep.background_id)
            )
            or 0
        ) + 1
        row = VersionRow(
            background_id=prep.background_id,
            revision=rev,
            parent_id=prep.spec.parent_version_id,
            kind=kind.value,
            engine=prep.engine.name,
            engine_version=prep.engine.version,
            image_blob=image_key,
            source_map_blob=map_key,
            recipe=recipe,
            render_key=prep.render_key,
            variant=prep.spec.variant,
            candidate=prep.spec.candidate,
            layout_id=prep.layout_id,
            created_by=prep.spec.actor,
            job_id=job_id,
        )
        s.add(row)
        s.flush()
        bg = s.get(BackgroundRow, prep.background_id)
        assert bg is not None
        if bg.current_version_id is None or prep.spec.kind in ("retake", "refine"):
            bg.current_version_id = row.id
        if prep.spec.kind == "retake" and bg.status.is_retake:
            _retake_arrived(s, bg, row, prep.spec.actor)
        from haikei.services.states import version_arrived  # review states follow the work

        version_arrived(ctx, s, bg, row, prep.spec.kind, prep.spec.actor)
        version = to_version(row)
        if in_transaction is not None:
            in_transaction(s, version)
        return version


def render_spec(
    ctx: ServiceContext, spec: RenderSpec, context: EngineContext | None = None, *, job_id: int | None = None
) -> Version:
    """Prepare, render (unless the same render key is already stored), commit."""
    t0 = time.perf_counter()
    prep = prepare(ctx, spec)
    existing = find_existing(ctx, prep.background_id, prep.render_key)
    if existing is not None:
        return existing
    result = prep.engine.render(prep.request, context or EngineContext())
    result.timings.setdefault("seconds_service", time.perf_counter() - t0)
    return commit(ctx, prep, result, job_id=job_id)


def background_names(ctx: ServiceContext, refs: list[str] | None = None) -> list[str]:
    with ctx.db.session() as s:
        if not refs:
            return list(s.scalars(select(BackgroundRow.name).order_by(BackgroundRow.name)))
        return sorted({find_background(s, r).name for r in refs})


def candidate_specs(
    ctx: ServiceContext,
    refs: list[str] | None,
    *,
    engine: str | None = None,
    candidates: int | None = None,
    seed: int = 0,
    actor: str = "",
) -> list[RenderSpec]:
    """One spec per (BG, candidate); candidate i uses seed+i; defaults from haikei.toml [render]."""
    eng = engine or ctx.settings.render.engine
    n = candidates or ctx.settings.render.candidates
    return [
        RenderSpec(bg=name, engine=eng, seed=seed + i, candidate=i, actor=actor)
        for name in background_names(ctx, refs)
        for i in range(n)
    ]


def render_backgrounds(
    ctx: ServiceContext,
    refs: list[str] | None,
    *,
    engine: str | None = None,
    candidates: int | None = None,
    seed: int = 0,
    actor: str = "",
    on_progress: Callable[[str, int, float, str], None] | None = None,
) -> list[Version]:
    """Render ``candidates`` versions of each BG in this process (the simple, synchronous path)."""
    out: list[Version] = []
    for spec in candidate_specs(ctx, refs, engine=engine, candidates=candidates, seed=seed, actor=actor):
        cb = None
        if on_progress is not None:
            cb = (lambda nm, ci: lambda f, m: on_progress(nm, ci, f, m))(spec.bg, spec.candidate or 0)
        out.append(render_spec(ctx, spec, EngineContext(progress=cb)))
    return out

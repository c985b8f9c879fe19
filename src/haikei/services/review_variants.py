"""Variants of an approved BG (season / time-of-day set), by whatever the studio's boards allow.

Per tag, the first method that the production can do is used:

1. ``revote``: every art board the approved render painted from has an aligned repaint for the
   tag (``board.variants``) and the approved version has a source map: the exemplar engine
   re-votes the parent's correspondences over the repaint (kind ``variant``; exact structure).
   An approved paint-over (kind ``human``) has no source map of its own: the whole approved
   image is re-voted over the source map of the render it was painted over
   (:func:`paint_over_map`), so every pixel, the artist's paint included, takes the change the
   board's repaint made at its source (the engine adds that change to the approved image when
   its seam blend is on, the default): the strokes keep their shape and follow the new light.
   With ``seam_blend = 0`` the re-vote would replace the paint, so it is not used for a
   paint-over and the variant falls to a re-render flagged "needs paint-over again".
2. ``rerender``: a consented board the BG may use is *tagged* with the tag (a season or time of
   day): the same layout is rendered again with the direction's season / time of day replaced
   by the tag, the approved version's seed and engine (kind ``render`` with ``variant=tag`` and
   the approved version as parent for lineage). Boards are chosen by the new tags; structure is
   locked by the layout and its region map.
3. ``sd``: the sd engine is configured ([engines.sd] in haikei.toml): img2img from the approved
   version with the changed direction, same seed and ControlNet condition (kind ``variant``).

Otherwise the tag is not offered, and asking for it says which boards would be needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from haikei.domain.direction import Direction, parse_direction
from haikei.domain.glossary import CLOSED_TOKENS, load_glossary
from haikei.errors import InputError, RenderRefused
from haikei.services.context import ServiceContext
from haikei.services.rendering import RenderSpec, find_background
from haikei.store.tables import ArtBoardRow, BackgroundRow, VersionRow

__all__ = [
    "METHOD_LABELS",
    "VariantOption",
    "english_direction",
    "needs_paint_over_again",
    "paint_over_map",
    "same_direction",
    "tag_order",
    "variant_direction",
    "variant_options",
    "variant_specs",
]

METHOD_LABELS = {
    "revote": "re-vote over aligned repaint",
    "rerender": "re-render from the {boards} board",
    "sd": "img2img with the sd engine",
}


@dataclass(frozen=True)
class VariantOption:
    """How a tag's variant of one BG would be made (``method`` in METHOD_LABELS), or why not."""

    tag: str
    method: str | None  # revote | rerender | sd | None (not available)
    engine: str = ""
    boards: tuple[str, ...] = ()  # the boards that make it possible (re-render: the boards it paints from)
    reason: str = ""  # why it is not available (method None)
    redo: str = ""  # what of the approved version it drops ("... needs paint-over again"), or ""
    keeps: str = ""  # what of the approved version it carries over (its paint-over), or ""

    @property
    def available(self) -> bool:
        return self.method is not None

    @property
    def label(self) -> str:
        if self.method is None:
            return self.reason
        names = ", ".join(f"'{b}'" for b in self.boards)
        said = METHOD_LABELS[self.method].format(
            boards=names if len(self.boards) < 4 else f"{len(self.boards)}"
        )
        if len(self.boards) > 1 and said.endswith(" board"):
            said += "s"
        if self.keeps:
            said = f"{said}; {self.keeps}"
        return f"{said}; {self.redo}" if self.redo else said


def _field_of(tag: str) -> str | None:
    for fld, tokens in CLOSED_TOKENS.items():
        if tag in tokens:
            return fld
    return None


@dataclass
class _Facts:
    """What the decision needs, read in one session."""

    bg_name: str
    direction_text: str
    direction: Direction
    approved: VersionRow | None
    under: VersionRow | None  # whose source map a re-vote uses (approved, or the render under its paint-over)
    boards: list[ArtBoardRow]  # consented boards this BG may use
    parent_board_ids: set[int]


def _facts(s: Any, ref: str) -> _Facts:
    bg: BackgroundRow = find_background(s, ref)
    approved = s.get(VersionRow, bg.approved_version_id) if bg.approved_version_id else None
    boards = [
        b
        for b in s.scalars(select(ArtBoardRow).order_by(ArtBoardRow.id))
        if b.consent and b.location_id in (None, bg.location_id)  # another place's location boards: never
    ]
    if bg.artboard_ids:
        chosen = set(bg.artboard_ids)
        boards = [b for b in boards if b.id in chosen]
    under = paint_over_map(s, approved)[1] if approved is not None else None
    painted = under if under is not None else approved
    parent_boards = _painted_from(painted.recipe or {}, boards) if painted is not None else set()
    text = bg.direction_text or ""
    return _Facts(
        bg.name,
        text,
        parse_direction(text) if text.strip() else Direction(),
        approved,
        under,
        boards,
        parent_boards,
    )


def paint_over_map(s: Any, version: VersionRow) -> tuple[str | None, VersionRow | None]:
    """The source map a variant of ``version`` re-votes, and the version it belongs to: its own;
    for a paint-over (kind ``human`` or ``composite``, no map of its own), the map of the render it
    was painted over (the nearest ancestor with one, same layout); (None, None) where there is none."""
    v: VersionRow | None = version
    seen: set[int] = set()
    while v is not None and v.id not in seen:
        if v.source_map_blob:
            return (v.source_map_blob, v) if v.layout_id == version.layout_id else (None, None)
        if v.kind not in ("human", "composite") or v.parent_id is None:
            return None, None
        seen.add(v.id)
        v = s.get(VersionRow, v.parent_id)
    return None, None


def _carries_paint(ctx: ServiceContext, f: _Facts) -> bool:
    """Whether the exemplar's re-vote keeps the approved image's own pixels (its paint-over): it
    adds the repaint's change to the approved image when its seam blend is on (the default)."""
    cfg = ctx.settings.engines.get("exemplar") or {}
    return int(cfg.get("seam_blend", 4)) > 0


def _painted_from(recipe: dict[str, Any], boards: list[ArtBoardRow]) -> set[int]:
    """Ids of the boards a render painted from: its engine's per-class plan where it records one
    (the exemplar engine does), else every board the request carried."""
    classes = (recipe.get("engine_recipe") or {}).get("classes")
    if isinstance(classes, dict) and classes:
        keys = {k for c in classes.values() if isinstance(c, dict) for k in c.get("boards", [])}
        # a board handed over under another key (renders of a location before 6fc73d9 listed a
        # production board without the location's classes under a key of its own)
        listed_keys = {
            str(a.get("hash")): int(a["id"])
            for a in (recipe.get("inputs") or {}).get("artboards", [])
            if isinstance(a, dict) and "id" in a
        }
        ids = {i for k, i in listed_keys.items() if k in keys}
        return {b.id for b in boards if b.image_blob in keys or b.id in ids}
    listed = (recipe.get("inputs") or {}).get("artboards", [])
    return {int(b["id"]) for b in listed if isinstance(b, dict) and "id" in b}


def _sd_configured(ctx: ServiceContext) -> bool:
    return "sd" in ctx.settings.engines and "sd" in ctx.settings.render.allowed_engines


def _fallback_engine(ctx: ServiceContext, parent_engine: str | None) -> str:
    allowed = ctx.settings.render.allowed_engines
    return parent_engine if parent_engine and parent_engine in allowed else ctx.settings.render.engine


def _decide(ctx: ServiceContext, f: _Facts, tag: str) -> VariantOption:
    fld = _field_of(tag)
    if fld is not None and getattr(f.direction, fld) == tag:
        return VariantOption(tag, None, reason=f"{f.bg_name} is already {tag}")
    # 1. re-vote over aligned repaints of every board the approved render painted from
    with_variant = [b for b in f.boards if tag in (b.variants or {})]
    painted_over = f.approved is not None and f.under is not None and f.under.id != f.approved.id
    if with_variant and f.under is not None and (not painted_over or _carries_paint(ctx, f)):
        have = {b.id for b in with_variant}
        missing = f.parent_board_ids - have
        if f.parent_board_ids and not missing:
            names = tuple(b.name for b in with_variant if b.id in f.parent_board_ids)
            keeps = ""
            if painted_over:
                assert f.approved is not None
                what = "paint-over" if f.approved.kind == "human" else "retake"
                keeps = (
                    f"r{f.approved.revision}'s {what} kept, re-coloured through the same change "
                    f"(the correspondences of r{f.under.revision})"
                )
            return VariantOption(tag, "revote", f.under.engine or "exemplar", names, keeps=keeps)
    # 2. re-render the layout with the tag as the season / time of day, from boards tagged so
    tagged = [b for b in f.boards if tag in (b.tags or [])]
    if fld is not None and tagged:
        engine = _fallback_engine(ctx, f.approved.engine if f.approved is not None else None)
        picked = _boards_picked(f, variant_direction(f.direction_text, tag))
        rev = f"r{f.approved.revision}" if f.approved is not None else "the approved version"
        if (
            f.approved is not None
            and f.approved.kind == "render"
            and {b.id for b in picked} == f.parent_board_ids
        ):
            # the same boards, the same seed, the same layout: the same picture (honest: not offered)
            return VariantOption(
                tag,
                None,
                reason=f"a '{tag}' re-render of {f.bg_name} would paint from the same board"
                f"{'s' if len(picked) != 1 else ''} ({', '.join(b.name for b in picked)}) as {rev} "
                "with the same seed: it would not differ",
            )
        return VariantOption(tag, "rerender", engine, tuple(b.name for b in picked), redo=_dropped(f))
    # 3. img2img with the sd engine and the changed direction
    if fld is not None and _sd_configured(ctx):
        return VariantOption(tag, "sd", "sd")
    # 4. not possible: say what stands in the way and what would make it possible
    rev = f"r{f.approved.revision}" if f.approved is not None else "the approved version"
    problems = []
    if with_variant and painted_over and not _carries_paint(ctx, f):
        problems.append(
            f"a re-vote would not keep {rev}'s paint-over ([engines.exemplar] seam_blend = 0 in haikei.toml)"
        )
    elif with_variant and f.approved is not None and f.under is None:
        problems.append(
            f"the aligned '{tag}' repaint of {', '.join(b.name for b in with_variant)} can only be re-voted over "
            f"an exemplar render, and {rev} has no source map"
        )
    elif with_variant:
        missing_names = [
            b.name
            for b in f.boards
            if b.id in f.parent_board_ids and b.id not in {x.id for x in with_variant}
        ]
        problems.append(
            f"{', '.join(missing_names) or 'the boards'} ({rev} was painted from them) need a '{tag}' repaint too"
        )
    else:
        problems.append(f"no art board has an aligned '{tag}' repaint")
    if fld is not None:
        problems.append(
            f"no consented art board is tagged '{tag}' (haikei artboard add ... --tags {tag} --consent) "
            "and the sd engine is not configured ([engines.sd] in haikei.toml)"
        )
    return VariantOption(
        tag, None, reason=f"no '{tag}' variant of {f.bg_name} can be made: {'; '.join(problems)}"
    )


def _boards_picked(f: _Facts, direction_text: str) -> list[ArtBoardRow]:
    """The boards an engine paints from for this direction: those carrying the most of its tags
    (every board when none carries any), as the exemplar's and the baseline's board choice does."""
    wanted = (parse_direction(direction_text) if direction_text.strip() else Direction()).tags()
    scores = [len(wanted & set(b.tags or [])) for b in f.boards]
    top = max(scores, default=0)
    return [b for b, sc in zip(f.boards, scores, strict=True) if sc == top]


def _dropped(f: _Facts) -> str:
    """What a re-render of the layout would not carry over from the approved version: its
    paint-over or engine retake ("" when it is a plain render)."""
    if f.approved is None or f.approved.kind == "render":
        return ""
    what = "paint-over" if f.approved.kind == "human" else "retake"
    return f"r{f.approved.revision}'s {what} is not carried over: needs paint-over again"


def _candidate_tags(ctx: ServiceContext, f: _Facts) -> list[str]:
    tags: set[str] = set()
    for b in f.boards:
        tags.update((b.variants or {}).keys())
        tags.update(t for t in (b.tags or []) if _field_of(t) is not None)
    if _sd_configured(ctx):
        for tokens in CLOSED_TOKENS.values():
            tags.update(tokens)
    return sorted(tags, key=tag_order)


# the order a person reads a variant set in: seasons, then times of day, then other tags
_ORDER = ("spring", "summer", "autumn", "winter", "dawn", "morning", "noon", "afternoon", "evening", "night")


def tag_order(tag: str) -> tuple[int, str]:
    return (_ORDER.index(tag) if tag in _ORDER else len(_ORDER), tag)


def variant_options(ctx: ServiceContext, ref: str) -> dict[str, VariantOption]:
    """The tags this BG's variants can be made for, each with its method (available ones only)."""
    with ctx.db.session() as s:
        f = _facts(s, ref)
        options = {t: _decide(ctx, f, t) for t in _candidate_tags(ctx, f)}
    return {t: o for t, o in options.items() if o.available}


# -- the direction with the tag as season / time of day --------------------------------------


def _english_forms() -> dict[tuple[str, str], str]:
    """(field, token) -> an English surface form that means exactly that token: the token itself
    where the glossary lists it, else the shortest."""

    def rank(key: tuple[str, str], form: str) -> tuple[bool, int, str]:
        return (form != key[1].replace("_", " "), len(form), form)

    best: dict[tuple[str, str], str] = {}
    for words, meaning in load_glossary().en_forms.items():
        if len(meaning.terms) != 1:
            continue
        key = (meaning.primary.field, meaning.primary.token)
        form = " ".join(words)
        if key not in best or rank(key, form) < rank(key, best[key]):
            best[key] = form
    return best


def _serialise(d: Direction) -> str:
    forms = _english_forms()

    def say(fld: str, token: str) -> str:
        return forms.get((fld, token), token.replace("_", " "))

    parts = [say(fld, v) for fld in ("season", "time_of_day", "weather", "light") if (v := getattr(d, fld))]
    parts += [say("tag", t) for t in d.extra_tags] + [say("mood", t) for t in d.mood]
    parts += [f"no {say(*a.split('.', 1))}" for a in d.avoid]
    parts += list(d.free_text)
    return ", ".join(p for p in parts if p)


def _same(a: Direction, b: Direction) -> bool:
    keys = ("season", "time_of_day", "weather", "light")
    return all(getattr(a, k) == getattr(b, k) for k in keys) and (
        set(a.extra_tags),
        set(a.mood),
        set(a.avoid),
        list(a.free_text),
    ) == (set(b.extra_tags), set(b.mood), set(b.avoid), list(b.free_text))


def same_direction(a: Direction, b: Direction) -> bool:
    """Whether two directions ask for the same thing (fields, tags, mood, avoid, free text)."""
    return _same(a, b)


def english_direction(d: Direction, fallback: str) -> str:
    """``d`` written as English glossary words that parse back to exactly ``d``; ``fallback``
    where they would not (free text that reads as direction words)."""
    out = _serialise(d)
    return out if _same(parse_direction(out), d) else fallback


def variant_direction(text: str, tag: str) -> str:
    """The direction ``text`` with its season or time of day replaced by ``tag``, as text that
    parses back to exactly that (English glossary words; free text kept as written)."""
    fld = _field_of(tag)
    if fld is None:
        raise InputError(f"'{tag}' is not a season or a time of day; only those replace the direction's")
    d = parse_direction(text) if text.strip() else Direction()
    want = Direction(
        **{**{k: getattr(d, k) for k in ("season", "time_of_day", "weather", "light")}, fld: tag},
        mood=d.mood,
        free_text=d.free_text,
        extra_tags=d.extra_tags,
        avoid=d.avoid,
    )
    out = _serialise(want)
    if not _same(parse_direction(out), want):
        # free text that reads as direction words: put the tag first (the first one written wins)
        out = f"{tag}, {text}"
    return out


# -- specs for a variant request -------------------------------------------------------------


def variant_specs(
    ctx: ServiceContext, ref: str, tags: list[str], actor: str
) -> tuple[list[RenderSpec], list[VariantOption], int]:
    """One RenderSpec per tag (refusing, with the reason, any tag that cannot be made), the options
    used, and the approved version's id."""
    with ctx.db.session() as s:
        f = _facts(s, ref)
        if f.approved is None:
            raise RenderRefused(f"{f.bg_name} has no approved version; approve one before making variants")
        options = [_decide(ctx, f, t) for t in tags]
        approved_id = f.approved.id
        seed = int((f.approved.recipe or {}).get("seed") or 0)
        # a paint-over re-voted whole: the engine re-colours the artist's paint (its changed pixels)
        # by the change fitted around it; a paint-over of a paint-over: the change at the source
        # (a retake by an engine that keeps no source map: its mask is what it painted)
        rec = f.approved.recipe or {}
        paint = rec.get("changed_mask") or (rec.get("inputs") or {}).get("mask")
        paint = paint if f.under is not None and f.approved.parent_id == f.under.id else None
    refused = [o for o in options if not o.available]
    if refused:
        offered = ", ".join(variant_options(ctx, ref)) or "none"
        raise InputError("; ".join(o.reason for o in refused) + f" (available for {f.bg_name}: {offered})")
    specs = []
    for o in options:
        fld = _field_of(o.tag)
        direction = (
            variant_direction(f.direction_text, o.tag) if fld is not None and o.method != "revote" else None
        )
        specs.append(
            RenderSpec(
                bg=f.bg_name,
                engine=o.engine,
                seed=seed,
                kind="render" if o.method == "rerender" else "variant",
                parent_version_id=approved_id,
                variant=o.tag,
                direction=direction,
                mask_blob=str(paint) if paint and o.method == "revote" else None,
                actor=actor,
            )
        )
    return specs, options, approved_id


def needs_paint_over_again(s: Any, bg_ids: list[int] | None = None) -> dict[int, list[str]]:
    """{BG id: variant tags} of variants re-rendered from the layout of an approved version that
    carried a paint-over or an engine retake: the variant does not have them, so it needs the
    paint-over again (shown on the BG's page and by ``haikei status``)."""
    q = select(VersionRow).where(VersionRow.variant.is_not(None))
    if bg_ids is not None:
        q = q.where(VersionRow.background_id.in_(bg_ids))
    out: dict[int, list[str]] = {}
    for v in s.scalars(q.order_by(VersionRow.id)):
        if (v.recipe or {}).get("kind") != "render" or v.parent_id is None:
            continue
        parent = s.get(VersionRow, v.parent_id)
        if parent is not None and parent.kind in ("human", "composite"):
            out.setdefault(v.background_id, [])
            if v.variant not in out[v.background_id]:
                out[v.background_id].append(str(v.variant))
    return out

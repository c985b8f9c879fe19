"""A retake's note read as art direction (Japanese or English, the same parser as a BG's
direction): what the engine that re-renders the masked area can use goes into the render
request (and so into the recipe), and the page says, before the retake is sent, what was
understood and what the engine will ignore.

- season / time of day / weather / light replace the BG's; mood and content words are added;
  ``no ...`` is added to what to avoid. The BG's own direction text is not changed: only this
  retake's render gets the merged direction.
- ``exemplar`` and ``baseline`` choose art boards by those tags (boards tagged with them win).
- ``exemplar`` also reads colour words ("darker", "warmer", "less grey", "乾いた土", 少し暗く ...,
  :mod:`haikei.engines.exemplar.adjust`): they go into the render's options (``palette_adjust``,
  and so into the recipe) and move the masked area toward the part of its boards' paint that
  answers them. Other words do not reach the board engines (nor colour words ``baseline``):
  they repaint the masked area from the boards as they are. Said plainly, never pretended.
- ``sd`` (and ``comfyui``) put the whole merged direction, free text included, into the prompt
  for the masked area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from haikei.domain.direction import Direction, parse_direction
from haikei.engines.exemplar.adjust import WANTS, ColourReading, read_colour_words
from haikei.services.context import ServiceContext
from haikei.services.rendering import find_background
from haikei.services.review_variants import english_direction, same_direction

__all__ = ["NoteReading", "merged_direction", "read_note"]

SINGLE = ("season", "time_of_day", "weather", "light")
PROMPT_ENGINES = ("sd", "comfyui")
BOARD_ENGINES = ("exemplar", "baseline")
COLOUR_ENGINES = ("exemplar",)  # engines that read a note's colour words (engines.exemplar.adjust)


@dataclass(frozen=True)
class NoteReading:
    engine: str
    direction: str  # the direction text the retake renders with ("" = the BG's own, unchanged)
    understood: list[tuple[str, str]] = field(default_factory=list)  # (field, value) from the note
    used: list[str] = field(default_factory=list)  # what the engine does with it, in words
    ignored: list[str] = field(default_factory=list)  # what it does not use, in words
    options: dict[str, Any] = field(default_factory=dict)  # engine options the note sets (palette_adjust)

    def as_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "direction": self.direction,
            "options": dict(self.options),
            "understood": [{"field": k, "value": v} for k, v in self.understood],
            "used": list(self.used),
            "ignored": list(self.ignored),
        }


def merged_direction(base: Direction, note: Direction) -> Direction:
    """The BG's direction with the note's season / time / weather / light (where it says one),
    plus its mood, content words, avoid list and free text."""

    def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a + b))

    return Direction(
        **{k: getattr(note, k) or getattr(base, k) for k in SINGLE},
        mood=union(base.mood, note.mood),
        free_text=union(base.free_text, note.free_text),
        extra_tags=union(base.extra_tags, note.extra_tags),
        avoid=union(base.avoid, note.avoid),
    )


def _understood(note: Direction) -> list[tuple[str, str]]:
    out = [(k.replace("_", " "), str(getattr(note, k))) for k in SINGLE if getattr(note, k)]
    out += [("mood", m) for m in note.mood] + [("content", t) for t in note.extra_tags]
    out += [("avoid", a.split(".", 1)[-1]) for a in note.avoid]
    out += [("as written", t) for t in note.free_text]
    return out


def read_note(ctx: ServiceContext, ref: str, text: str, engine: str) -> NoteReading:
    """How ``engine`` will read the retake note ``text`` on BG ``ref``."""
    from sqlalchemy import select

    from haikei.store.tables import ArtBoardRow

    with ctx.db.session() as s:
        bg = find_background(s, ref)
        bg_text = bg.direction_text or ""
        board_tags = {
            b.name: set(b.tags or [])
            for b in s.scalars(select(ArtBoardRow).order_by(ArtBoardRow.id))
            if b.consent and (not bg.artboard_ids or b.id in set(bg.artboard_ids))
        }
    base = parse_direction(bg_text) if bg_text.strip() else Direction()
    note = parse_direction(text) if text.strip() else Direction()
    understood = _understood(note)
    used: list[str] = []
    ignored: list[str] = []
    options: dict[str, Any] = {}
    colours = read_colour_words(text) if engine in COLOUR_ENGINES else ColourReading()
    if colours:
        # the exemplar reads colour words: they leave the free text it would ignore
        understood = [
            (k, v) for k, v in understood if not (k == "as written" and _colour_only(colours, v))
        ] + [("colour", w) for w in colours.words]
        options["palette_adjust"] = colours.as_options()
        for want, amount in colours.wants:
            how = "a little " if amount < 0.5 else ("much " if amount > 0.8 else "")
            used.append(
                f"colour {want.replace('_', ' ')}: {engine} moves the masked area {how}toward "
                f"{WANTS[want]} of that class"
            )
    if engine in PROMPT_ENGINES:
        merged = merged_direction(base, note)
        if understood:
            used.append(
                f"{engine}: the note's words go into the prompt for the masked area "
                f"({', '.join(v for _k, v in understood)})"
            )
    else:
        # board engines: only the tags choose boards; free text does not reach them
        merged = merged_direction(
            base,
            Direction(**{k: getattr(note, k) for k in SINGLE}, mood=note.mood, extra_tags=note.extra_tags),
        )
        for k, v in understood:
            if k == "colour":
                continue
            if k == "as written":
                ignored.append(
                    f"“{v}”: {engine} repaints the masked area from the art boards; it does not read words"
                )
            elif k == "avoid":
                ignored.append(f"no {v}: {engine} does not steer away from words")
            else:
                token = v.replace(" ", "_")
                boards = sorted(n for n, tags in board_tags.items() if token in tags or v in tags)
                if boards:
                    used.append(f"{k} {v}: {engine} prefers the art boards tagged {v} ({', '.join(boards)})")
                else:
                    ignored.append(f"{k} {v}: no art board is tagged {v}, so it changes nothing")
        if engine not in BOARD_ENGINES:
            used = [u.replace(f"{engine} prefers", f"given to {engine}; it may prefer") for u in used]
    if not understood:
        ignored.append(
            "the note has no direction words: the masked area is repainted with the BG's own direction"
        )
    changed = not same_direction(merged, base) if understood else False
    direction = english_direction(merged, fallback=f"{bg_text}, {text}".strip(", ")) if changed else ""
    return NoteReading(
        engine=engine, direction=direction, understood=understood, used=used, ignored=ignored, options=options
    )


def _colour_only(colours: ColourReading, stretch: str) -> bool:
    """Whether a stretch of the note the direction parser did not know says only colour words
    (or is part of one: 乾いた of 乾いた土, whose 土 the parser read as ground)."""
    return colours.covers(stretch) or any(stretch in w for w in colours.words)


def read_note_on(
    ctx: ServiceContext, ref: str, text: str, version_id: int, engine: str | None = None
) -> NoteReading:
    """:func:`read_note` for a retake of ``version_id``: the engine the retake would use (the
    version's own where the production allows it, else the default), as review.request_retake."""
    from haikei.errors import NotFoundError
    from haikei.store.tables import VersionRow

    with ctx.db.session() as s:
        bg = find_background(s, ref)
        v = s.get(VersionRow, int(version_id))
        if v is None or v.background_id != bg.id:
            raise NotFoundError(f"version {version_id} is not a version of {bg.name}")
        parent_engine = v.engine
    if not engine:
        allowed = ctx.settings.render.allowed_engines
        engine = parent_engine if parent_engine in allowed else ctx.settings.render.engine
    return read_note(ctx, ref, text, engine)

"""A version's recipe as a card a person reads: what made it, from which boards (and whose),
which seed, what direction the engine understood, how long it took. The raw JSON stays one click
away on the page; this is only a reading of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from haikei.provenance.recipe import used_board_keys

__all__ = ["RecipeCard", "recipe_card"]

_DIRECTION_SKIP = {"text", "free_text", "unknown", "ignored", "source"}


@dataclass(frozen=True)
class RecipeCard:
    made_by: str  # "exemplar 1.4 (engine)" / "paint-over by kenji"
    kind: str
    seed: int | None
    boards: list[tuple[str, str, bool]] = field(default_factory=list)  # (board, painter, painted from it)
    direction_text: str = ""
    understood: list[tuple[str, str]] = field(default_factory=list)  # (field, value)
    timings: list[tuple[str, str]] = field(default_factory=list)  # (step, "1.2 s")
    warnings: list[str] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)  # anything else worth a line


def _words(v: Any) -> str:
    if isinstance(v, list | tuple):
        return ", ".join(str(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k} {x}" for k, x in v.items())
    return str(v)


def recipe_card(
    recipe: dict[str, Any], engine: str = "", engine_version: str = "", created_by: str = ""
) -> RecipeCard:
    kind = str(recipe.get("kind", ""))
    if kind == "human":
        share = recipe.get("changed_share")
        said = [("file", str(recipe.get("file_name", "")))]
        if isinstance(share, int | float):
            said.append(("changed", f"{share:.1%} of pixels"))
        return RecipeCard(
            made_by=f"paint-over by {recipe.get('actor') or created_by or 'someone'}",
            kind=kind,
            seed=None,
            facts=said,
        )
    inputs = recipe.get("inputs") or {}
    used = used_board_keys(recipe)
    boards = [
        (
            str(b.get("name", "?")),
            str(b.get("artist") or "unknown painter"),
            used is None or b.get("hash") in used,
        )
        for b in inputs.get("artboards", [])
        if isinstance(b, dict)
    ]
    d = inputs.get("direction") or {}
    understood = [
        (str(k).replace("_", " "), _words(v))
        for k, v in d.items()
        if k not in _DIRECTION_SKIP and v not in (None, "", [], {}, False)
    ]
    timings = [
        (str(k).removeprefix("seconds_").replace("_", " "), f"{float(v):.1f} s")
        for k, v in (recipe.get("timings") or {}).items()
        if isinstance(v, int | float)
    ]
    eng = recipe.get("engine") or engine
    ver = recipe.get("engine_version") or engine_version
    facts: list[tuple[str, str]] = []
    if recipe.get("candidate") is not None:
        facts.append(("candidate", str(int(recipe["candidate"]) + 1)))
    if inputs.get("variant"):
        facts.append(("variant", str(inputs["variant"])))
    if inputs.get("mask"):
        facts.append(("retake", "re-rendered inside a mask; the rest kept from the parent"))
    if recipe.get("actor"):
        facts.append(("asked by", str(recipe["actor"])))
    return RecipeCard(
        made_by=f"{eng} {ver}".strip() + " (engine)",
        kind=kind,
        seed=int(recipe["seed"]) if isinstance(recipe.get("seed"), int) else None,
        boards=boards,
        direction_text=str(d.get("text") or ""),
        understood=understood,
        timings=timings,
        warnings=[str(w) for w in recipe.get("warnings") or []],
        facts=facts,
    )

"""The recipe: what made one version of a background, and the render key derived from it.

A recipe is the provenance record every version carries, in the database and inside its PNG
(iTXt chunk ``haikei:recipe``). Its *render key* is the sha256 of the canonical recipe without the
fields that say who asked, when, and how long it took, so identical requests get the same key and
the key can be used as a render cache key.

Canonical JSON (:func:`canonical_json`) is UTF-8, keys sorted, no spaces, and has one spelling per
number: integral floats are written as integers (``1.0`` -> ``1``), other floats in Python's
shortest round-trip form, ``-0.0`` as ``0``; NaN and infinities are refused. Tuples become lists.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from haikei.errors import InputError
from haikei.imaging.io import read_png_text, save_png

__all__ = [
    "RECIPE_PNG_KEY",
    "Actor",
    "EngineRef",
    "InputHashes",
    "Recipe",
    "canonical_json",
    "hash_array",
    "hash_bytes",
    "read_recipe_png",
    "recipe_from_json",
    "recipe_png_text",
    "render_key",
    "save_png_with_recipe",
    "used_board_keys",
]

RECIPE_PNG_KEY = "haikei:recipe"
# fields that describe who/when/how long, not what: left out of the render key
KEY_EXCLUDED_FIELDS = frozenset({"timings", "actor", "created_at", "parent", "note"})
_MAX_SAFE_INT_FLOAT = 2.0**53
_SHA256_PATTERN = r"^[0-9a-f]{64}$"
Sha256 = Annotated[str, StringConstraints(pattern=_SHA256_PATTERN)]


def _canonical_value(obj: Any, where: str) -> Any:
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError(f"canonical_json: {where} is {obj}; NaN and infinities have no JSON form")
        if obj == 0.0:
            return 0
        if obj.is_integer() and abs(obj) < _MAX_SAFE_INT_FLOAT:
            return int(obj)
        return obj
    if isinstance(obj, np.generic):
        return _canonical_value(obj.item(), where)
    if isinstance(obj, BaseModel):
        return _canonical_value(obj.model_dump(mode="json"), where)
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise TypeError(f"canonical_json: key {k!r} at {where} is not a string")
            out[k] = _canonical_value(v, f"{where}.{k}")
        return out
    if isinstance(obj, list | tuple):
        return [_canonical_value(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise TypeError(f"canonical_json: {where} has type {type(obj).__name__}, which has no canonical form")


def canonical_json(obj: Any) -> bytes:
    """One byte string per value: sorted keys, compact, UTF-8, one spelling per number."""
    value = _canonical_value(obj, "$")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def hash_bytes(data: bytes) -> str:
    """sha256 hex of raw bytes (e.g. a file as stored in the blob store)."""
    return hashlib.sha256(data).hexdigest()


def hash_array(arr: np.ndarray) -> str:
    """sha256 hex of an array's dtype, shape and C-order bytes (two arrays hash equal iff equal)."""
    h = hashlib.sha256()
    h.update(f"{arr.dtype.str}|{'x'.join(map(str, arr.shape))}|".encode())
    h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(_Model):
    """The person who acted (asked for the render, uploaded the paint-over, approved)."""

    name: str = Field(min_length=1, max_length=200, description="the person's real name as credited")
    role: str = Field(min_length=1, max_length=64, description="their role, e.g. art_director, bg_artist")


class EngineRef(_Model):
    name: str = Field(min_length=1, max_length=64, description="engine name, e.g. exemplar, sd")
    version: str = Field(min_length=1, max_length=64, description="the engine's own version string")
    digital_source_type: str = Field(
        default="", max_length=200, description="the engine's IPTC digital source type URI"
    )


class InputHashes(_Model):
    """sha256 hex digests of everything the version was made from."""

    lines: str | None = Field(default=None, pattern=_SHA256_PATTERN, description="layout line drawing")
    regions: str | None = Field(default=None, pattern=_SHA256_PATTERN, description="region map")
    boards: tuple[Sha256, ...] = Field(default=(), description="art boards, in the order the engine got them")
    mask: str | None = Field(default=None, pattern=_SHA256_PATTERN, description="retake mask, if any")
    init: str | None = Field(default=None, pattern=_SHA256_PATTERN, description="parent image, if any")
    vocabulary: str | None = Field(default=None, pattern=_SHA256_PATTERN, description="class vocabulary")


class Recipe(_Model):
    """How one version was made. ``kind``: render (an engine), human (uploaded by a person),
    composite (assembled from other versions, e.g. a retake region pasted over its parent)."""

    schema_version: Literal[1] = 1
    kind: Literal["render", "human", "composite"]
    engine: EngineRef | None = None
    inputs: InputHashes = Field(default_factory=InputHashes)
    parameters: dict[str, Any] = Field(default_factory=dict, description="resolved engine options")
    direction: dict[str, Any] = Field(default_factory=dict, description="structured art direction")
    variant: str | None = None
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    models: dict[str, Sha256] = Field(default_factory=dict, description="model/weights name -> sha256")
    # not part of the render key:
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per step")
    actor: Actor | None = None
    created_at: str | None = Field(default=None, description="ISO 8601 UTC time the version was made")
    parent: str | None = Field(default=None, max_length=200, description="id of the parent version")
    note: str = Field(default="", max_length=4000)

    def model_post_init(self, context: Any, /) -> None:
        if self.kind == "render" and self.engine is None:
            raise ValueError("a render recipe needs its engine (name and version)")
        if self.kind == "human" and self.actor is None:
            raise ValueError("a human recipe needs the person who made it (actor)")
        # parameters/direction must have a canonical form (refuses NaN, sets, objects ...)
        canonical_json(self.parameters)
        canonical_json(self.direction)

    def key_fields(self) -> dict[str, Any]:
        """The recipe as plain JSON data without who/when/how long (what render_key hashes)."""
        data = self.model_dump(mode="json")
        for f in KEY_EXCLUDED_FIELDS:
            data.pop(f, None)
        return data

    def to_json(self) -> str:
        return canonical_json(self.model_dump(mode="json")).decode("utf-8")


def render_key(recipe: Recipe) -> str:
    """sha256 hex of the canonical recipe without timings, actor, time, parent id and note."""
    return hashlib.sha256(canonical_json(recipe.key_fields())).hexdigest()


def recipe_from_json(text: str | bytes, source: str = "<recipe>") -> Recipe:
    """Parse a recipe; a malformed one is an InputError naming what is wrong."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: the haikei recipe is not valid JSON ({exc})") from None
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "recipe"
        raise InputError(f"{source}: the haikei recipe is malformed at {loc}: {first['msg']}") from None


def recipe_png_text(recipe: Recipe) -> dict[str, str]:
    """The iTXt chunks that carry a recipe in a PNG."""
    return {RECIPE_PNG_KEY: recipe.to_json()}


def save_png_with_recipe(
    path: str | os.PathLike[str], arr: np.ndarray, recipe: Recipe, text: Mapping[str, str] | None = None
) -> None:
    """Atomically write ``arr`` as PNG with the recipe in iTXt ``haikei:recipe`` (plus any ``text``)."""
    chunks = dict(text or {})
    if RECIPE_PNG_KEY in chunks:
        raise InputError(f"text chunk {RECIPE_PNG_KEY!r} is reserved for the recipe; drop it from text")
    chunks.update(recipe_png_text(recipe))
    save_png(path, arr, text=chunks)


def read_recipe_png(source: str | os.PathLike[str] | bytes) -> Recipe:
    """The recipe embedded in a PNG written by :func:`save_png_with_recipe`."""
    label = "<upload>" if isinstance(source, bytes) else str(source)
    text = read_png_text(source if isinstance(source, bytes) else Path(source))
    if RECIPE_PNG_KEY not in text:
        raise InputError(
            f"{label}: has no haikei recipe (iTXt {RECIPE_PNG_KEY!r}); it was not written by haikei "
            "or its metadata was stripped"
        )
    return recipe_from_json(text[RECIPE_PNG_KEY], label)


def used_board_keys(recipe: dict[str, Any]) -> set[str] | None:
    """The art boards an engine says it painted from (None: it does not say, so all it was given).

    Engines report ``boards_used`` (list of board keys); older exemplar recipes list them per class.
    """
    er = recipe.get("engine_recipe") or {}
    if isinstance(er.get("boards_used"), list):
        return {str(k) for k in er["boards_used"]}
    classes = er.get("classes")
    if isinstance(classes, dict) and classes:
        keys: set[str] = set()
        for plan in classes.values():
            if isinstance(plan, dict):
                keys.update(str(k) for k in plan.get("boards", []))
        return keys
    return None

"""Garbage collection of blobs nobody references (``haikei gc``).

A worker writes its image blob before the transaction that records the version; a crash in
between leaves an unreferenced blob (never a half-written one: blobs are renamed into place).
This finds every blob the database references and removes the others older than an age guard.
It also removes the hidden staging folders (``.haikei-export-*``) that a killed export left in any
folder this production exported to (services/delivery.py: a live export holds a lock on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from haikei.errors import ConflictError
from haikei.services.context import ServiceContext
from haikei.services.delivery import clean_stale_staging, export_destinations
from haikei.store.tables import ArtBoardRow, Base, JobRow, VersionRow

__all__ = ["GcReport", "collect_garbage", "referenced_blobs"]

SAFE_AGE_S = 3600.0
_HASH = re.compile(r"^[0-9a-f]{64}$")


# the recipe fields that name blobs of this store (a paint-over's changed-pixel mask and diff
# overlay live only there); a recipe's other hashes (inputs, models, options) name no blob
RECIPE_BLOB_FIELDS = ("changed_mask", "diff_overlay")


def _blobs_in_recipe(recipe: Any) -> set[str]:
    if not isinstance(recipe, dict):
        return set()
    found = {recipe.get(name) for name in RECIPE_BLOB_FIELDS}
    found.update(v for k, v in recipe.items() if k.endswith("_blob"))
    return {v for v in found if isinstance(v, str) and _HASH.match(v)}


@dataclass(frozen=True)
class GcReport:
    referenced: int
    kept: int
    removed: list[str]
    stale_exports: list[str] = field(default_factory=list)  # staging folders of killed exports


def referenced_blobs(ctx: ServiceContext) -> set[str]:
    """Every blob key the database points at: each ``*_blob`` column of every table, art board
    variants, masks named in job parameters, and blobs named in version recipes (a paint-over's
    changed-pixel mask and diff overlay live only there)."""
    keys: set[str] = set()
    with ctx.db.session() as s:
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if col.name.endswith("_blob"):
                    keys.update(k for k in s.execute(select(col).where(col.is_not(None))).scalars() if k)
        for variants in s.scalars(select(ArtBoardRow.variants)):
            keys.update(v for v in (variants or {}).values() if isinstance(v, str))
        for recipe in s.scalars(select(VersionRow.recipe)):
            keys.update(_blobs_in_recipe(recipe))
        for params in s.scalars(select(JobRow.params)):
            mask = (params or {}).get("mask_blob")
            if mask:
                keys.add(mask)
    return keys


def collect_garbage(ctx: ServiceContext, *, min_age_s: float = SAFE_AGE_S) -> GcReport:
    """Remove unreferenced blobs (and stale temp files) older than ``min_age_s``. A shorter
    guard than an hour is refused while jobs are running: a blob a few seconds old may be a
    running job's image waiting for its transaction."""
    if min_age_s < SAFE_AGE_S:
        with ctx.db.session() as s:
            running = int(
                s.scalar(select(func.count()).select_from(JobRow).where(JobRow.state == "running")) or 0
            )
        if running:
            raise ConflictError(
                f"{running} job(s) are running; a guard under {SAFE_AGE_S:.0f} s could remove their "
                "freshly written images. Wait for them, or run without --min-age"
            )
    keep = referenced_blobs(ctx)
    removed = ctx.blobs.collect_garbage(keep, min_age_s=min_age_s)
    total = len(list(ctx.blobs.keys()))
    stale: list[str] = []
    for dest in export_destinations(ctx):  # no age guard needed: a live export holds its lock
        stale.extend(str(p) for p in clean_stale_staging(dest))
    return GcReport(referenced=len(keep), kept=total, removed=removed, stale_exports=stale)

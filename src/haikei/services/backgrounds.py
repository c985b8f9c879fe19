"""Per-BG settings a person chooses: art direction and art boards."""

from __future__ import annotations

from collections.abc import Sequence

from haikei.domain.direction import Direction, parse_direction
from haikei.services.artboards import get_artboard
from haikei.services.context import ServiceContext
from haikei.services.rendering import find_background

__all__ = ["choose_artboards", "set_direction"]


def set_direction(ctx: ServiceContext, bg_ref: str, text: str) -> Direction:
    """Set the art direction (Japanese or English) of a BG; returns the parsed structure."""
    direction = parse_direction(text)
    with ctx.db.session() as s:
        bg = find_background(s, bg_ref)
        bg.direction_text = text.strip()
    return direction


def choose_artboards(ctx: ServiceContext, bg_ref: str, boards: Sequence[str]) -> list[str]:
    """Pin a BG to named art boards (empty = let the engine choose from every board with consent)."""
    chosen = [get_artboard(ctx, b) for b in boards]
    with ctx.db.session() as s:
        bg = find_background(s, bg_ref)
        bg.artboard_ids = [b.id for b in chosen]
    return [b.name for b in chosen]

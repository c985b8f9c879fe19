"""The built-in ``exemplar`` engine: paints layouts from the studio's own labelled art boards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from haikei.engines.exemplar.engine import ExemplarEngine
from haikei.engines.exemplar.options import ExemplarOptions

__all__ = ["ExemplarEngine", "ExemplarOptions", "create"]


def create(config: Mapping[str, Any] | None = None) -> ExemplarEngine:
    """Entry-point factory; ``config`` is the ``[engines.exemplar]`` table (option defaults)."""
    return ExemplarEngine(dict(config or {}))

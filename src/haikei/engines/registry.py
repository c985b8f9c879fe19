"""Engines are found through the ``haikei.engines`` entry-point group.

Each entry point names a factory ``f(config: Mapping[str, Any]) -> Engine``; ``config`` is the
engine's table from haikei.toml (``[engines.NAME]``), empty when absent. A factory whose
optional extra is missing raises :class:`MissingExtraError` ("install haikei[sd]").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from haikei.engines.base import Engine
from haikei.errors import InputError

__all__ = ["available_engines", "load_engine"]

GROUP = "haikei.engines"
# engines shipped inside haikei, found even where the installed metadata predates them
BUILTIN = {"comfyui": "haikei.engines.comfyui:create"}


def _factories() -> dict[str, EntryPoint]:
    """Entry points by name, not yet loaded (loading imports the engine and its extras)."""
    eps = {ep.name: ep for ep in entry_points(group=GROUP)}
    for name, value in BUILTIN.items():
        eps.setdefault(name, EntryPoint(name, value, GROUP))
    return eps


def available_engines() -> list[str]:
    return sorted(_factories())


def load_engine(name: str, config: Mapping[str, Any] | None = None) -> Engine:
    eps = _factories()
    if name not in eps:
        raise InputError(f"unknown engine {name!r}; available: {', '.join(sorted(eps)) or 'none'}")
    factory: Callable[[Mapping[str, Any]], Engine] = eps[name].load()
    engine: Engine = factory(dict(config or {}))
    return engine

"""The ``sd`` engine: Stable Diffusion + ControlNet through diffusers, local weights only.

``import haikei.engines.sd`` needs neither torch nor diffusers; :func:`create` imports them and
raises :class:`MissingExtraError` ("install haikei[sd]") when they are missing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from haikei.engines.sd.config import SDConfig, SDOptions, parse_config
from haikei.errors import MissingExtraError

if TYPE_CHECKING:
    from haikei.engines.sd.engine import SDEngine

__all__ = ["SDConfig", "SDOptions", "create"]

_NEEDED = ("torch", "diffusers", "transformers", "safetensors")


def create(config: Mapping[str, Any]) -> SDEngine:
    """Build the engine from the [engines.sd] table; loads the weights (local files only)."""
    cfg = parse_config(config)
    missing = [m for m in _NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError("sd", f"the sd engine (missing {', '.join(missing)})")
    from haikei.engines.sd.engine import SDEngine

    return SDEngine(cfg)

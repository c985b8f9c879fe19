"""The ``comfyui`` engine: paint through a studio's own ComfyUI servers.

``import haikei.engines.comfyui`` needs no network client; :func:`create` checks the template
and its binding (one-line errors naming node and input) and raises :class:`MissingExtraError`
("install haikei[comfyui]") when the websocket client is missing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from haikei.engines.comfyui.config import ComfyUIConfig, ComfyUIOptions, load_template, parse_config
from haikei.errors import MissingExtraError

if TYPE_CHECKING:
    from haikei.engines.comfyui.engine import ComfyUIEngine

__all__ = ["ComfyUIConfig", "ComfyUIOptions", "create"]


def create(config: Mapping[str, Any]) -> ComfyUIEngine:
    """Build the engine from the [engines.comfyui] table. Talks to no server yet."""
    cfg = parse_config(config)
    template = load_template(cfg)
    if importlib.util.find_spec("websockets") is None:
        raise MissingExtraError("comfyui", "the comfyui engine (missing websockets)")
    from haikei.engines.comfyui.engine import ComfyUIEngine

    return ComfyUIEngine(cfg, template)

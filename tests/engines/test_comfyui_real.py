"""The comfyui engine against a real ComfyUI server: runs only when HAIKEI_COMFYUI_URL names one
(e.g. http://gpu1:8188), with the shipped SDXL example or the API-format template and binding
named by HAIKEI_COMFYUI_TEMPLATE (a JSON file) and HAIKEI_COMFYUI_BINDING (a TOML file).

    HAIKEI_COMFYUI_URL=http://gpu1:8188 .venv/bin/python -m pytest -m comfyui tests/engines/test_comfyui_real.py
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("websockets")

from haikei.engines.base import EngineContext
from haikei.engines.comfyui import create
from tests.engines.contract import tiny_board, tiny_layout
from tests.engines.test_comfyui import request

URL = os.environ.get("HAIKEI_COMFYUI_URL", "")

pytestmark = [
    pytest.mark.comfyui,
    pytest.mark.skipif(not URL, reason="set HAIKEI_COMFYUI_URL to a ComfyUI server to run"),
]


def config() -> dict[str, Any]:
    cfg: dict[str, Any] = {"servers": [URL], "template": "example:sdxl_lineart_ipadapter", "timeout_s": 900}
    if os.environ.get("HAIKEI_COMFYUI_TEMPLATE"):
        cfg["template"] = os.environ["HAIKEI_COMFYUI_TEMPLATE"]
        cfg["binding"] = tomllib.loads(Path(os.environ["HAIKEI_COMFYUI_BINDING"]).read_text("utf-8"))
    return cfg


def test_real_server_paints_a_layout_and_a_retake() -> None:
    lines, regions = tiny_layout(512, 768)
    seen: list[float] = []
    req = request(seed=123, lines=lines, regions=regions, boards=(tiny_board(h=384, w=640),))
    res = create(config()).render(req, EngineContext(progress=lambda f, m: seen.append(f)))
    assert res.image.shape == (512, 768, 3) and res.image.std() > 2
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert res.recipe["template_sha256"] and res.recipe["models"]
    # the same request is the same job: found again on the server, not painted twice
    again = create(config()).render(req, EngineContext())
    assert again.recipe["found_again"] and again.image.tobytes() == res.image.tobytes()
    mask = np.zeros((512, 768), bool)
    mask[100:300, 200:500] = True
    retake = create(config()).render(
        request(seed=124, lines=lines, regions=regions, boards=req.boards, mask=mask, init=res.image),
        EngineContext(),
    )
    assert np.array_equal(retake.image[~mask], res.image[~mask])

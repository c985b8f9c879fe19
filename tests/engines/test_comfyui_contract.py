"""The comfyui engine passes the shared engine contract against the stand-in ComfyUI server
(tests/engines/comfy_server.py stands in for ComfyUI, which cannot be installed here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("websockets")

from haikei.engines.base import Engine
from haikei.engines.comfyui import create
from tests.engines.comfy_server import ComfyStandIn
from tests.engines.contract import EngineContract


@pytest.fixture(scope="module")
def comfy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ComfyStandIn]:
    server = ComfyStandIn(tmp_path_factory.mktemp("comfy")).start()
    yield server
    server.stop()


class TestComfyUIContract(EngineContract):
    @pytest.fixture(autouse=True)
    def _server(self, comfy: ComfyStandIn) -> Iterator[None]:
        self.server = comfy
        comfy.control(step_delay=0.0)
        yield
        comfy.control(step_delay=0.0)

    def make_engine(self) -> Engine:
        return create({"servers": [self.server.url], "template": "example:sdxl_lineart_ipadapter"})

    def big_request(self):  # type: ignore[no-untyped-def]
        # the stand-in samples fast; slow its steps so there is a render to cancel
        self.server.control(step_delay=0.05)
        return super().big_request()


def test_template_paths_exist() -> None:
    pkg = Path(__file__).resolve().parents[2] / "src/haikei/engines/comfyui/templates"
    assert (pkg / "sdxl_lineart_ipadapter.json").is_file()

"""The sd engine passes the shared engine contract on CPU with tiny random models."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("diffusers")

from haikei.engines.base import Engine
from haikei.engines.sd import create
from tests.engines import sd_tiny
from tests.engines.contract import EngineContract


@pytest.fixture(scope="session")
def sd_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return sd_tiny.tiny_models(tmp_path_factory.getbasetemp() / "sd_tiny")


class TestSDContract(EngineContract):
    @pytest.fixture(autouse=True)
    def _paths(self, sd_paths: dict[str, Path]) -> None:
        self.paths = sd_paths

    def make_engine(self) -> Engine:
        return create(sd_tiny.engine_config(self.paths))

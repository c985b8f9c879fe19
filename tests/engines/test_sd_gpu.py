"""The sd engine on a CUDA GPU (fp16), tiny models; skipped without CUDA."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from haikei.engines.base import EngineContext  # noqa: E402
from haikei.engines.sd import create  # noqa: E402
from tests.engines import sd_tiny  # noqa: E402
from tests.engines.contract import tiny_layout  # noqa: E402
from tests.engines.test_sd import request  # noqa: E402

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]


@pytest.fixture(scope="module")
def gpu_engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    paths = sd_tiny.tiny_models(tmp_path_factory.getbasetemp() / "sd_tiny")
    return create(sd_tiny.engine_config(paths, device="cuda", dtype="auto"))


def test_fp16_on_gpu_deterministic_by_seed(gpu_engine) -> None:  # type: ignore[no-untyped-def]
    a = gpu_engine.render(request(seed=3), EngineContext())
    b = gpu_engine.render(request(seed=3), EngineContext())
    assert a.recipe["dtype"] == "float16" and a.recipe["device"].startswith("cuda")
    assert a.image.tobytes() == b.image.tobytes()
    assert np.isfinite(a.image).all() and a.image.std() > 2.0


def test_gpu_pan_and_retake(gpu_engine) -> None:  # type: ignore[no-untyped-def]
    lines, regions = tiny_layout(32, 192)
    pan = gpu_engine.render(
        request(lines=lines, regions=regions, options={"tile": 16, "tile_stride": 8}), EngineContext()
    )
    assert pan.image.shape == (32, 192, 3)
    init = np.full((40, 64, 3), 90, np.uint8)
    mask = np.zeros((40, 64), bool)
    mask[10:30, 10:50] = True
    res = gpu_engine.render(request(init=init, mask=mask), EngineContext())
    assert np.array_equal(res.image[~mask], init[~mask])

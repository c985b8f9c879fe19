"""The sd engine's other model paths on CPU: SDXL, IP-Adapter style reference, LoRA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytest.importorskip("diffusers")

from haikei.engines.base import BoardInput, EngineContext  # noqa: E402
from haikei.engines.sd import create  # noqa: E402
from haikei.errors import ConfigError  # noqa: E402
from tests.engines import sd_tiny  # noqa: E402
from tests.engines.contract import tiny_board, tiny_layout  # noqa: E402
from tests.engines.test_sd import mad, render, request  # noqa: E402


@pytest.fixture(scope="session")
def sd_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return sd_tiny.tiny_models(tmp_path_factory.getbasetemp() / "sd_tiny")


def test_sdxl_with_controlnet_and_tiles(tmp_path: Path, sd_paths: dict[str, Path]) -> None:
    model = sd_tiny.save_sdxl(tmp_path)
    net = sd_tiny.save_controlnet(tmp_path, model, "cn_xl", seed=5)
    cfg = sd_tiny.engine_config(sd_paths, model=str(model), family="sdxl",
                                controlnets=[{"kind": "scribble", "path": str(net)}])  # fmt: skip
    eng = create(cfg)
    a = eng.render(request(seed=2), EngineContext())
    assert a.recipe["family"] == "sdxl" and a.image.shape == (40, 64, 3)
    assert eng.render(request(seed=2), EngineContext()).image.tobytes() == a.image.tobytes()
    lines, regions = tiny_layout(32, 192)
    pan = render(eng, request(lines=lines, regions=regions, options={"tile": 16, "tile_stride": 8}))
    assert pan.shape == (32, 192, 3)
    # an SD1.5 ControlNet on an SDXL model is refused by name, not a shape error mid-render
    with pytest.raises(ConfigError, match=r"controlnets\[0\].*another model family"):
        create({**cfg, "controlnets": [{"kind": "lineart", "path": str(sd_paths["cn_line"])}]})
    with pytest.raises(ConfigError, match="family = 'sdxl'"):
        create({**cfg, "family": "sd15", "controlnets": []})


def test_ip_adapter_uses_the_art_board(tmp_path: Path, sd_paths: dict[str, Path]) -> None:
    weights, encoder = sd_tiny.save_ip_adapter(tmp_path, sd_paths["sd15"])
    eng = create(
        sd_tiny.engine_config(
            sd_paths, ip_adapter={"path": str(weights), "image_encoder": str(encoder), "scale": 1.0}
        )
    )
    a = eng.render(request(), EngineContext())
    b0 = tiny_board()
    other = BoardInput(key="inv", image=(255 - b0.image), labels=b0.labels, name="inverted")
    b = eng.render(request(boards=(other,)), EngineContext())
    assert a.recipe["ip_adapter"] == {"scale": 1.0, "style_boards": [tiny_board().key]}
    assert mad(a.image, b.image) > 0.1, "the art board did not reach the UNet"
    procs = {type(p).__name__ for p in eng.models.pipe.unet.attn_processors.values()}
    assert any(n.startswith("IPAdapter") for n in procs)
    plain = create(sd_tiny.engine_config(sd_paths))
    assert mad(a.image, render(plain, request())) > 0.1


def test_lora_is_fused(tmp_path: Path, sd_paths: dict[str, Path]) -> None:
    lora = sd_tiny.save_lora(tmp_path, sd_paths["sd15"])
    name = "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_q.weight"

    def engine_and_weight(weight: float | None):  # type: ignore[no-untyped-def]
        loras = [] if weight is None else [{"path": str(lora), "weight": weight}]
        eng = create(sd_tiny.engine_config(sd_paths, loras=loras))
        return eng, dict(eng.models.pipe.unet.named_parameters())[name].detach().clone()

    base, w0 = engine_and_weight(None)
    full, w1 = engine_and_weight(1.0)
    _, w_half = engine_and_weight(0.5)
    delta = w1 - w0
    assert delta.abs().mean() > 1e-3, "the LoRA did not change the UNet"
    assert torch.allclose(w_half - w0, 0.5 * delta, atol=1e-5), "the LoRA weight is not the fuse scale"
    res = full.render(request(), EngineContext())
    assert mad(res.image, render(base, request())) > 0.0
    assert res.recipe["loras"][0]["weight"] == 1.0 and "lora0" in res.recipe["model_hashes"]
    assert np.array_equal(res.image, render(full, request()))


def test_nine_channel_inpainting_unet(tmp_path: Path, sd_paths: dict[str, Path]) -> None:
    """An inpainting UNet (latents + mask + masked-image latents) takes the retake path too."""
    model = sd_tiny.save_sd15(tmp_path, in_channels=9)
    eng = create(sd_tiny.engine_config(sd_paths, model=str(model), controlnets=[]))
    init = np.full((40, 64, 3), 100, np.uint8)
    mask = np.zeros((40, 64), bool)
    mask[4:36, 8:40] = True
    res = eng.render_batch(request(init=init, mask=mask), EngineContext(), 2)
    for r in res:
        assert np.array_equal(r.image[~mask], init[~mask])
        assert mad(r.image[mask], init[mask]) > 1.0

"""GPU throughput of the sd engine against a plain diffusers ControlNet pipeline call.

Full-size SD1.5 / SDXL architectures (configs written here from the published models' shapes)
with random weights: timing does not depend on weight values, and nothing is downloaded.
Both paths share the same modules in the same process, so the comparison is like for like.

    from haikei.engines.sd.bench import run_sd_bench
    run_sd_bench("sdxl", sizes=((1024, 1024), (1920, 1080)), steps=30)
"""

from __future__ import annotations

import functools
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["run_sd_bench"]


def _configs(family: str, tiny: bool) -> dict[str, dict[str, Any]]:
    if tiny:  # CPU smoke test: same code path, toy sizes
        unet = dict(
            block_out_channels=(8, 16), layers_per_block=1, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32, norm_num_groups=4,
            attention_head_dim=2,
        )  # fmt: skip
        text = dict(
            hidden_size=32,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            projection_dim=32,
        )
        vae = dict(block_out_channels=(4, 4, 8, 8), norm_num_groups=2, layers_per_block=1)
        if family == "sdxl":
            unet.update(
                addition_embed_type="text_time", addition_time_embed_dim=8, cross_attention_dim=64,
                projection_class_embeddings_input_dim=8 * 6 + 32, use_linear_projection=True,
            )  # fmt: skip
        return {"unet": unet, "text": text, "text2": text, "vae": vae}
    vae = dict(block_out_channels=(128, 256, 512, 512), norm_num_groups=32, layers_per_block=2)
    if family == "sd15":
        return {
            "unet": dict(sample_size=64, cross_attention_dim=768, attention_head_dim=8),
            "text": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                         projection_dim=768),
            "vae": vae,
        }  # fmt: skip
    return {
        "unet": dict(
            sample_size=128, block_out_channels=(320, 640, 1280),
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20), cross_attention_dim=2048,
            use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
            projection_class_embeddings_input_dim=2816,
        ),
        "text": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                     projection_dim=768),
        "text2": dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20,
                      projection_dim=1280),
        "vae": {**vae, "scaling_factor": 0.13025},
    }  # fmt: skip


def _letter_tokenizer(folder: Path) -> Any:
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in "abcdefghijklmnopqrstuvwxyz,.-'":
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault(ch + "</w>", len(vocab))
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), pad_token="<|endoftext|>", model_max_length=77
    )


def _build(family: str, tiny: bool, device: Any, dtype: Any) -> tuple[Any, Any]:
    import diffusers
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    cf = _configs(family, tiny)
    torch.manual_seed(0)
    with torch.device(device):
        unet = diffusers.UNet2DConditionModel(**cf["unet"])
        controlnet = diffusers.ControlNetModel.from_unet(unet)
        n_vae = len(cf["vae"]["block_out_channels"])
        vae = diffusers.AutoencoderKL(
            down_block_types=("DownEncoderBlock2D",) * n_vae, up_block_types=("UpDecoderBlock2D",) * n_vae,
            latent_channels=4, force_upcast=False, **cf["vae"],
        )  # fmt: skip
        te = CLIPTextModel(CLIPTextConfig(vocab_size=49408, **cf["text"]))
        te2 = (
            CLIPTextModelWithProjection(CLIPTextConfig(vocab_size=49408, **cf["text2"]))
            if family == "sdxl"
            else None
        )
    sched = diffusers.DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
        set_alpha_to_one=False, steps_offset=1,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tok = _letter_tokenizer(Path(tmp))
    modules: tuple[Any, ...] = (unet, controlnet, vae, te)
    parts = [m.to(device, dtype).eval() for m in modules]
    unet, controlnet, vae, te = parts
    pipe: Any
    if family == "sd15":
        pipe = diffusers.StableDiffusionControlNetPipeline(
            vae=vae, text_encoder=te, tokenizer=tok, unet=unet, controlnet=controlnet, scheduler=sched,
            safety_checker=None, feature_extractor=None, requires_safety_checker=False,
        )  # fmt: skip
    else:
        assert te2 is not None
        pipe = diffusers.StableDiffusionXLControlNetPipeline(
            vae=vae, text_encoder=te, text_encoder_2=te2.to(device, dtype).eval(), tokenizer=tok, tokenizer_2=tok,
            unet=unet, controlnet=controlnet, scheduler=sched,
        )  # fmt: skip
    return pipe, controlnet


def _layout(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w]
    lines = np.full((h, w), 255, np.uint8)
    lines[(np.abs(yy - (h * 0.4 + h * 0.05 * np.sin(xx / 37.0))) < 1.5) | (xx % 240 < 2)] = 0
    return lines, np.zeros((h, w), np.uint8)


def run_sd_bench(
    family: Literal["sd15", "sdxl"] = "sdxl",
    sizes: tuple[tuple[int, int], ...] = ((1024, 1024), (1920, 1080)),
    steps: int = 30,
    guidance: float = 7.0,
    batch: int = 1,
    repeats: int = 2,
    sdpa: bool = True,
    channels_last: bool = False,
    compile: bool = False,
    device: str = "cuda",
    dtype: str = "float16",
    tiny: bool = False,
) -> dict[str, Any]:
    """Seconds per image and images per hour, ours vs diffusers, for each (width, height)."""
    import torch

    from haikei.domain.direction import Direction
    from haikei.engines.base import BoardInput, EngineContext, RenderRequest
    from haikei.engines.sd.config import SDConfig
    from haikei.engines.sd.engine import SDEngine, line_condition
    from haikei.engines.sd.loading import LoadedModels

    dev, dt = torch.device(device), getattr(torch, dtype)
    pipe, controlnet = _build(family, tiny, dev, dt)
    pipe.set_progress_bar_config(disable=True)
    if not sdpa:
        from diffusers.models.attention_processor import AttnProcessor

        pipe.unet.set_attn_processor(AttnProcessor())
        controlnet.set_attn_processor(AttnProcessor())
    if channels_last:
        pipe.unet.to(memory_format=torch.channels_last)
        controlnet.to(memory_format=torch.channels_last)
    if compile:
        pipe.unet.compile(fullgraph=False)
        controlnet.compile(fullgraph=False)
    cfg = SDConfig.model_validate(
        {
            "model": "(random weights)", "family": family, "steps": steps, "guidance": guidance, "device": device,
            "dtype": dtype, "controlnets": [{"kind": "lineart", "path": "(random weights)"}],
            "require_board_coverage": False,
        }
    )  # fmt: skip
    engine = SDEngine(cfg, LoadedModels(pipe, [controlnet], None, dev, dt, {}))
    board = BoardInput(
        key="bench", image=np.zeros((64, 64, 3), np.uint8), labels=np.zeros((64, 64), np.uint8)
    )

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    results = []
    for w, h in sizes:
        lines, regions = _layout(h, w)
        req = RenderRequest(
            lines=lines, regions=regions, boards=(board,), direction=Direction(season="autumn"), seed=0,
            options={"tile": 512, "tile_stride": 512},
        )  # fmt: skip
        cond = torch.from_numpy(line_condition(lines, "lineart")).permute(2, 0, 1)[None].to(dev, dt)
        first = engine.render_batch(req, EngineContext(), batch)[0]  # warm-up (and compile)
        prompt, negative = first.recipe["prompt"], first.recipe["negative_prompt"]

        ours = functools.partial(engine.render_batch, req, EngineContext(), batch)
        plain = functools.partial(
            pipe, prompt, image=cond, negative_prompt=negative, num_inference_steps=steps, guidance_scale=guidance,
            num_images_per_prompt=batch, height=h, width=w, output_type="np",
            generator=torch.Generator("cpu").manual_seed(0),
        )  # fmt: skip

        plain()  # warm-up
        row: dict[str, Any] = {"size": [w, h]}
        for name, fn in (("ours", ours), ("diffusers", plain)):
            if dev.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            times = []
            for _ in range(repeats):
                sync()
                t0 = time.perf_counter()
                fn()
                sync()
                times.append(time.perf_counter() - t0)
            s_img = float(np.median(times)) / batch
            row[f"{name}_s_per_image"] = round(s_img, 3)
            row[f"{name}_images_per_hour"] = round(3600.0 / s_img, 1)
            if dev.type == "cuda":
                row[f"{name}_peak_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        results.append(row)
    return {
        "family": family, "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        "dtype": dtype, "steps": steps, "guidance": guidance, "batch": batch, "repeats": repeats, "sdpa": sdpa,
        "channels_last": channels_last, "compile": compile, "tiny": tiny, "controlnet": "lineart",
        "results": results,
    }  # fmt: skip

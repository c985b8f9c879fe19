"""The sd engine: Stable Diffusion (SD1.5 / SDXL) + ControlNet from local weights.

render_batch() reads top to bottom: check, build conditions, encode text and style, prepare
latents for the mode (txt2img, img2img refine / variant, retake inpaint), denoise (tiled across
wide PANs), decode, restore pixels outside a retake mask, describe.
"""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import numpy as np
import torch
from pydantic import BaseModel
from scipy import ndimage

from haikei.engines.base import (
    TRAINED_ALGORITHMIC_MEDIA,
    BoardInput,
    EngineContext,
    RenderRequest,
    RenderResult,
    check_board_coverage,
    check_common_inputs,
    composite_retake,
    parse_options,
)
from haikei.engines.sd.ade20k import seg_condition
from haikei.engines.sd.config import SDConfig, SDOptions
from haikei.engines.sd.denoise import ControlInput, DenoiseInputs, denoise
from haikei.engines.sd.loading import HashCache, LoadedModels, load_models
from haikei.engines.sd.prompts import direction_prompt
from haikei.errors import RenderRefused

__all__ = ["SDEngine", "line_condition"]

SCHEDULERS = {
    "ddim": "DDIMScheduler",
    "euler": "EulerDiscreteScheduler",
    "unipc": "UniPCMultistepScheduler",
    "dpmpp_2m": "DPMSolverMultistepScheduler",
}
STOCHASTIC = ("EulerAncestralDiscreteScheduler", "DDPMScheduler", "KDPM2AncestralDiscreteScheduler")


def line_condition(lines: np.ndarray, kind: str) -> np.ndarray:
    """Layout lines (0 = ink) -> HxWx3 float32 white lines on black, as lineart/scribble nets expect."""
    ink = (255.0 - lines.astype(np.float32)) / 255.0
    if kind == "scribble":  # scribble nets were trained on thick strokes
        ink = ndimage.grey_dilation(ink, size=(3, 3))
    return np.repeat(ink[..., None], 3, axis=2)


# modules before which a render checks for cancel: every resnet, attention and resampling step
_CANCEL_POINTS = frozenset({"ResnetBlock2D", "BasicTransformerBlock", "Downsample2D", "Upsample2D", "Conv2d"})


def _cancel_hooks(models: list[Any], context: EngineContext) -> list[Any]:
    """Check cancel between the blocks of each forward pass, so a big window stops quickly.

    Only the rendering thread's own forward passes are checked (an engine may serve two threads).
    """
    me = threading.get_ident()

    def hook(_module: Any, _args: Any) -> None:
        if threading.get_ident() == me:
            context.check_cancel()

    handles = []
    for model in models:
        for mod in model.modules():
            if type(mod).__name__ in _CANCEL_POINTS:
                handles.append(mod.register_forward_pre_hook(hook))
    return handles


def _pad_to(a: np.ndarray, h: int, w: int) -> np.ndarray:
    pad = [(0, h - a.shape[0]), (0, w - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
    return np.pad(a, pad, mode="edge") if a.dtype != np.bool_ else np.pad(a, pad, constant_values=False)


class SDEngine:
    name: ClassVar[str] = "sd"
    version: ClassVar[str] = "0.2.0"  # 0.2: IP-Adapter style references are all of a BG's location boards
    digital_source_type: ClassVar[str] = TRAINED_ALGORITHMIC_MEDIA
    options_model: ClassVar[type[BaseModel]] = SDOptions

    def __init__(self, config: SDConfig, models: LoadedModels | None = None) -> None:
        self.config = config
        self.models = models if models is not None else load_models(config)
        self._hashes = HashCache()
        import diffusers

        base = self.models.pipe.scheduler
        self._warnings: list[str] = []
        if config.scheduler != "model":
            base = getattr(diffusers, SCHEDULERS[config.scheduler]).from_config(base.config)
        if type(base).__name__ in STOCHASTIC:
            # ancestral samplers draw fresh noise every step, which breaks "same seed, same image"
            self._warnings.append(
                f"the model's {type(base).__name__} is stochastic; rendering with DDIMScheduler "
                "(set scheduler in [engines.sd] to choose another deterministic one)"
            )
            base = diffusers.DDIMScheduler.from_config(base.config)
        self._scheduler_cls, self._scheduler_config = type(base), base.config
        self.model_hashes()  # hash once at start-up; later renders hit the cache

    # -- public ---------------------------------------------------------------------------
    def render(self, request: RenderRequest, context: EngineContext) -> RenderResult:
        return self.render_batch(request, context, None)[0]

    def model_hashes(self) -> dict[str, dict[str, str]]:
        out = {}
        for group, files in self.models.files.items():
            root = files[0].parent if files else None
            if group == "model" and self.config.model.is_dir():
                root = self.config.model
            out[group] = self._hashes.hashes(files, root)
        return out

    def render_batch(
        self, request: RenderRequest, context: EngineContext, n: int | None = None
    ) -> list[RenderResult]:
        """Render ``n`` candidates (default: options.candidates) with seeds seed, seed+1, ..."""
        t0 = time.perf_counter()
        # 1. check inputs and options
        context.check_cancel()
        check_common_inputs(request)
        opts = parse_options(SDOptions, self.name, request.options)
        n = n or opts.candidates
        cfg, m = self.config, self.models
        if self.config.require_board_coverage:
            check_board_coverage(request, "sd")
        steps = opts.steps or cfg.steps
        guidance = opts.guidance if opts.guidance is not None else cfg.guidance
        mode = "inpaint" if request.mask is not None else ("txt2img" if request.init is None else "img2img")
        if mode == "img2img" and request.variant is not None:
            mode = "variant"
        h, w = request.height, request.width
        ph, pw = -(-h // 8) * 8, -(-w // 8) * 8  # latents need multiples of 8; pad, render, crop back
        dev, dt = m.device, m.dtype

        # 2. build the ControlNet conditions from the layout (lines, region map)
        controls = []
        for spec, net in zip(cfg.controlnets, m.controlnets, strict=True):
            if spec.kind == "seg":
                arr = seg_condition(request.regions, request.vocabulary).astype(np.float32) / 255.0
            else:
                arr = line_condition(request.lines, spec.kind)
            img = torch.from_numpy(_pad_to(arr, ph, pw)).permute(2, 0, 1)[None].to(dev, dt)
            controls.append(ControlInput(net, img, spec.weight * opts.control_scale))

        # 3. encode direction (and variant) as text, the art board as IP-Adapter style
        direction = request.direction
        extra = ", ".join(p for p in (opts.prompt, request.variant or "") if p)
        prompt, negative = direction_prompt(direction, cfg.text_language, extra, opts.negative_prompt)
        cfg_on = guidance > 1.0
        with torch.inference_mode():
            pooled = None
            if cfg.family == "sdxl":
                pe, ne, pp, npool = m.pipe.encode_prompt(
                    prompt,
                    device=dev,
                    num_images_per_prompt=n,
                    do_classifier_free_guidance=cfg_on,
                    negative_prompt=negative,
                )
                pooled = torch.cat([npool, pp]) if cfg_on else pp
            else:
                pe, ne = m.pipe.encode_prompt(
                    prompt,
                    dev,
                    n,
                    cfg_on,
                    negative_prompt=negative,
                )
            embeds = torch.cat([ne, pe]) if cfg_on else pe
            image_embeds = self._style_embeds(request, n, cfg_on)
            context.check_cancel()

            # 4. latents: fresh noise per candidate (torch.Generator seed+i), init for img2img/inpaint
            vae, sf = m.pipe.vae, m.pipe.vae.config.scaling_factor
            noise = torch.cat(
                [
                    torch.randn(
                        (1, 4, ph // 8, pw // 8),
                        generator=torch.Generator("cpu").manual_seed(request.seed + i),
                    )
                    for i in range(n)
                ]
            ).to(dev, dt)
            scheduler = self._scheduler_cls.from_config(self._scheduler_config)
            scheduler.set_timesteps(steps, device=dev)
            timesteps = scheduler.timesteps
            init_latents = latent_mask = None
            strength = 1.0 if mode in ("txt2img", "inpaint") else opts.strength
            if request.init is not None:
                init = (
                    torch.from_numpy(_pad_to(request.init, ph, pw)).permute(2, 0, 1)[None].float() / 127.5
                    - 1.0
                )
                init = init.to(dev, vae.dtype)
                init_latents = (vae.encode(init).latent_dist.mean * sf).to(dt).expand(n, -1, -1, -1)
            if strength < 1.0:
                keep = min(int(steps * strength), steps)
                start = max(steps - keep, 0) * scheduler.order
                timesteps = timesteps[start:]
                if hasattr(scheduler, "set_begin_index"):
                    scheduler.set_begin_index(start)
                if len(timesteps) == 0:
                    raise RenderRefused(
                        f"strength {strength} with {steps} steps leaves no step to run; raise either"
                    )
                assert init_latents is not None
                latents = scheduler.add_noise(init_latents, noise, timesteps[:1])
            else:
                latents = noise * scheduler.init_noise_sigma
            inpaint_extra = None
            if mode == "inpaint":
                assert request.mask is not None and init_latents is not None
                mk = torch.from_numpy(_pad_to(request.mask, ph, pw)).float()[None, None]
                latent_mask = torch.nn.functional.max_pool2d(mk, 8).to(dev, dt).expand(n, -1, -1, -1)
                if m.pipe.unet.config.in_channels == 9:
                    masked = init * (1.0 - mk.to(dev, init.dtype))
                    masked_lat = (vae.encode(masked).latent_dist.mean * sf).to(dt).expand(n, -1, -1, -1)
                    inpaint_extra = torch.cat([latent_mask, masked_lat], dim=1)  # one row per candidate
            t_prep = time.perf_counter()

            # 5. denoise (MultiDiffusion windows when the latent is wider/taller than the tile)
            total = len(timesteps) + 1

            def on_step(i: int, count: int) -> None:
                context.progress((i + 1) / total, f"step {i + 1}/{count}")

            hooks = _cancel_hooks([m.pipe.unet, *m.controlnets], context)
            try:
                latents = denoise(
                    m.pipe.unet,
                    scheduler,
                    DenoiseInputs(
                        latents=latents,
                        timesteps=timesteps,
                        prompt_embeds=embeds,
                        guidance=guidance,
                        controls=controls,
                        pooled_embeds=pooled,
                        image_embeds=image_embeds,
                        init_latents=init_latents,
                        noise=noise,
                        latent_mask=latent_mask,
                        inpaint_extra=inpaint_extra,
                        tile=opts.tile,
                        stride=min(opts.tile_stride, opts.tile),
                    ),
                    on_step,
                    context.check_cancel,
                )
            finally:
                for hk in hooks:
                    hk.remove()
            t_denoise = time.perf_counter()

            # 6. decode (tiled VAE for very large PANs keeps memory bounded)
            context.check_cancel()
            if max(ph, pw) > 2048:
                vae.enable_tiling()
            images = []
            for i in range(n):
                out = vae.decode(latents[i : i + 1].to(vae.dtype) / sf, return_dict=False)[0]
                arr = (
                    ((out[0].float().clamp(-1, 1) + 1.0) * 127.5)
                    .round()
                    .byte()
                    .permute(1, 2, 0)
                    .cpu()
                    .numpy()
                )
                images.append(arr[:h, :w])
            vae.disable_tiling()
        t_decode = time.perf_counter()

        # 7. retake: outside the mask the parent's pixels exactly; a feathered seam inside it
        if mode == "inpaint":
            assert request.mask is not None and request.init is not None
            images = [composite_retake(request.init, img, request.mask, opts.feather) for img in images]
        context.progress(1.0, "done")

        # 8. describe: recipe (parameters, model hashes), timings
        base_recipe: dict[str, Any] = {
            "engine": self.name,
            "engine_version": self.version,
            "family": cfg.family,
            "mode": mode,
            "model": str(cfg.model),
            "model_hashes": self.model_hashes(),
            "controlnets": [
                {"kind": c.kind, "weight": c.weight * opts.control_scale} for c in cfg.controlnets
            ],
            "ip_adapter": None
            if cfg.ip_adapter is None
            else {"scale": cfg.ip_adapter.scale, "style_boards": [b.key for b in self.style_boards(request)]},
            "loras": [{"path": str(lo.path), "weight": lo.weight} for lo in cfg.loras],
            "scheduler": self._scheduler_cls.__name__,
            "steps": steps,
            "steps_run": len(timesteps),
            "guidance": guidance,
            "strength": strength,
            "prompt": prompt,
            "negative_prompt": negative,
            "text_language": cfg.text_language,
            "variant": request.variant,
            "tile": opts.tile,
            "tile_stride": opts.tile_stride,
            "feather": opts.feather if mode == "inpaint" else None,
            "device": str(dev),
            "dtype": str(dt).removeprefix("torch."),
            "candidates": n,
            "size": [w, h],
            "boards": [b.key for b in request.boards],
        }
        timings = {
            "prepare_s": t_prep - t0,
            "denoise_s": t_denoise - t_prep,
            "decode_s": t_decode - t_denoise,
            "total_s": time.perf_counter() - t0,
        }
        return [
            RenderResult(
                image=img,
                warnings=list(self._warnings),
                recipe={**base_recipe, "seed": request.seed + i, "candidate": i},
                timings=dict(timings),
            )
            for i, img in enumerate(images)
        ]

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def style_boards(request: RenderRequest) -> list[BoardInput]:
        """The IP-Adapter's style references: every location board of the BG's place (the
        approved BGs of the place, services/locations.py), else the first board as before."""
        located = [b for b in request.boards if b.location]
        return located or list(request.boards[:1])

    def _style_embeds(self, request: RenderRequest, n: int, cfg_on: bool) -> torch.Tensor | None:
        """CLIP image embeddings of the style boards (their variant when one is asked for), one
        image per board: (n or 2n) x boards x D, the IP-Adapter's multi-image input (its image
        tokens of every board side by side in the cross-attention, so each board's look counts;
        a single board is exactly today's one-image input)."""
        enc = self.models.image_encoder
        if enc is None:
            return None
        size = int(enc.config.image_size)
        mean = torch.tensor([0.48145466, 0.4578275, 0.40821073])[None, :, None, None]
        std = torch.tensor([0.26862954, 0.26130258, 0.27577711])[None, :, None, None]
        xs = []
        for board in self.style_boards(request):
            img = board.variants.get(request.variant, board.image) if request.variant else board.image
            x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0
            x = torch.nn.functional.interpolate(
                x, size=(size, size), mode="bicubic", align_corners=False, antialias=True
            )
            xs.append((x - mean) / std)
        x = torch.cat(xs).to(self.models.device, enc.dtype)
        emb = enc(x).image_embeds.to(self.models.dtype)[None].repeat(n, 1, 1)  # n x boards x D
        return torch.cat([torch.zeros_like(emb), emb]) if cfg_on else emb

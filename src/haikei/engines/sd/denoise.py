"""Our own denoising loop: multi-ControlNet, IP-Adapter, img2img, latent-blend inpainting and
MultiDiffusion tiling across wide PAN backgrounds, for SD1.5 and SDXL UNets.

diffusers' pipelines each cover one of these; a PAN needs them all at once, so the loop is
written here, top to bottom, with the diffusers models and schedulers as building blocks.

Tiling (MultiDiffusion, Bar-Tal et al. 2023): at every step the latent is cut into overlapping
windows; each window gets its own noise prediction, with the ControlNet conditions cropped to
the same pixels, and the predictions are blended with weights that ramp down across the
overlaps. The scheduler then takes one step on the whole latent. A window that covers the
whole latent is exactly the plain, untiled loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["ControlInput", "DenoiseInputs", "denoise", "window_grid", "window_weight"]


@dataclass
class ControlInput:
    net: Any  # diffusers ControlNetModel
    image: torch.Tensor  # 1x3xHxW in [0, 1], H and W = 8 x latent size
    scale: float


@dataclass
class DenoiseInputs:
    latents: torch.Tensor  # Bx4xhxw, already noised for img2img / scaled by init_noise_sigma
    timesteps: torch.Tensor
    prompt_embeds: torch.Tensor  # (2B or B)xTxD; with CFG: [negative, positive]
    guidance: float
    controls: Sequence[ControlInput] = ()
    pooled_embeds: torch.Tensor | None = None  # SDXL: (2B or B)xD
    image_embeds: torch.Tensor | None = None  # IP-Adapter: (2B or B) x style boards x D
    # inpainting by latent blending: keep init outside latent_mask (1 = repaint)
    init_latents: torch.Tensor | None = None
    noise: torch.Tensor | None = None
    latent_mask: torch.Tensor | None = None  # Bx1xhxw
    # 9-channel inpainting UNets get [latents, mask, masked-image latents]
    inpaint_extra: torch.Tensor | None = None  # Bx5xhxw
    tile: int = 96
    stride: int = 64
    extra: dict[str, Any] = field(default_factory=dict)


def window_grid(size: int, tile: int, stride: int) -> list[tuple[int, int]]:
    """Start/end of windows along one axis: covers [0, size), last window flush with the end."""
    if size <= tile:
        return [(0, size)]
    starts = list(range(0, size - tile, stride))
    if starts[-1] != size - tile:
        starts.append(size - tile)
    return [(s, s + tile) for s in starts]


def _ramp(n: int, lo_open: bool, hi_open: bool, overlap: int) -> torch.Tensor:
    """1 in the middle, ramping linearly towards an edge that overlaps a neighbour."""
    w = torch.ones(n)
    r = max(1, min(overlap, n // 2))
    ramp = (torch.arange(r, dtype=torch.float32) + 1.0) / (r + 1.0)
    if lo_open:
        w[:r] = ramp
    if hi_open:
        w[n - r :] = ramp.flip(0)
    return w


def window_weight(
    ys: tuple[int, int], xs: tuple[int, int], h: int, w: int, tile: int, stride: int
) -> torch.Tensor:
    overlap = tile - stride
    wy = _ramp(ys[1] - ys[0], ys[0] > 0, ys[1] < h, overlap)
    wx = _ramp(xs[1] - xs[0], xs[0] > 0, xs[1] < w, overlap)
    return wy[:, None] * wx[None, :]


def _time_ids(full_hw: tuple[int, int], top_left: tuple[int, int], target_hw: tuple[int, int]) -> list[int]:
    return [full_hw[0], full_hw[1], top_left[0], top_left[1], target_hw[0], target_hw[1]]


def denoise(
    unet: Any,
    scheduler: Any,
    inp: DenoiseInputs,
    on_step: Callable[[int, int], None],
    before_forward: Callable[[], None],
) -> torch.Tensor:
    """Run the sampling loop; returns the final latents. ``before_forward`` may raise (cancel)."""
    latents = inp.latents
    _, _, h, w = latents.shape
    cfg = inp.guidance > 1.0
    rows = window_grid(h, inp.tile, inp.stride)
    cols = window_grid(w, inp.tile, inp.stride)
    single = len(rows) == 1 and len(cols) == 1
    dev = latents.device
    weights = {
        (ys, xs): window_weight(ys, xs, h, w, inp.tile, inp.stride).to(dev, torch.float32)
        for ys in rows
        for xs in cols
    }
    n = len(inp.timesteps)
    for i, t in enumerate(inp.timesteps):
        scaled = scheduler.scale_model_input(latents, t)
        if inp.inpaint_extra is not None:
            scaled = torch.cat([scaled, inp.inpaint_extra], dim=1)
        if single:
            noise_pred = _predict(unet, inp, scaled, t, (0, h), (0, w), (h, w), cfg, before_forward)
        else:
            acc = torch.zeros_like(latents, dtype=torch.float32)
            cnt = torch.zeros((1, 1, h, w), device=dev, dtype=torch.float32)
            for ys in rows:
                for xs in cols:
                    crop = scaled[:, :, ys[0] : ys[1], xs[0] : xs[1]]
                    pred = _predict(unet, inp, crop, t, ys, xs, (h, w), cfg, before_forward)
                    wt = weights[(ys, xs)]
                    acc[:, :, ys[0] : ys[1], xs[0] : xs[1]] += pred.float() * wt
                    cnt[:, :, ys[0] : ys[1], xs[0] : xs[1]] += wt
            noise_pred = (acc / cnt).to(latents.dtype)
        latents = scheduler.step(noise_pred, t, latents, return_dict=False)[0]
        if inp.latent_mask is not None and inp.init_latents is not None and inp.inpaint_extra is None:
            keep = inp.init_latents
            if i < n - 1 and inp.noise is not None:
                keep = scheduler.add_noise(inp.init_latents, inp.noise, inp.timesteps[i + 1 : i + 2])
            latents = (1.0 - inp.latent_mask) * keep + inp.latent_mask * latents
        on_step(i, n)
    return latents


def _predict(
    unet: Any,
    inp: DenoiseInputs,
    x: torch.Tensor,
    t: torch.Tensor,
    ys: tuple[int, int],
    xs: tuple[int, int],
    full_hw: tuple[int, int],
    cfg: bool,
    before_forward: Callable[[], None],
) -> torch.Tensor:
    """Noise prediction (with CFG) for one latent window."""
    before_forward()
    x_in = torch.cat([x, x]) if cfg else x
    x_in = x_in.to(inp.prompt_embeds.dtype)
    emb = inp.prompt_embeds
    added: dict[str, Any] | None = None
    if inp.pooled_embeds is not None:  # SDXL micro-conditioning: full size, window offset, window size
        ids = _time_ids(
            (full_hw[0] * 8, full_hw[1] * 8),
            (ys[0] * 8, xs[0] * 8),
            ((ys[1] - ys[0]) * 8, (xs[1] - xs[0]) * 8),
        )
        time_ids = torch.tensor([ids], device=x.device, dtype=emb.dtype).repeat(x_in.shape[0], 1)
        added = {"text_embeds": inp.pooled_embeds, "time_ids": time_ids}
    down: list[torch.Tensor] | None = None
    mid: torch.Tensor | None = None
    for c in inp.controls:
        if c.scale == 0.0:
            continue
        img = c.image[:, :, ys[0] * 8 : ys[1] * 8, xs[0] * 8 : xs[1] * 8].to(x_in.device, x_in.dtype)
        img = img.expand(x_in.shape[0], -1, -1, -1)
        d, m = c.net(
            x_in[:, :4],
            t,
            encoder_hidden_states=emb,
            controlnet_cond=img,
            conditioning_scale=c.scale,
            added_cond_kwargs=added,
            return_dict=False,
        )
        if down is None or mid is None:
            down, mid = list(d), m
        else:
            down = [a + b for a, b in zip(down, d, strict=True)]
            mid = mid + m
    unet_added = dict(added) if added is not None else None
    if inp.image_embeds is not None:
        unet_added = unet_added or {}
        unet_added["image_embeds"] = [inp.image_embeds]
    pred = unet(
        x_in,
        t,
        encoder_hidden_states=emb,
        added_cond_kwargs=unet_added,
        down_block_additional_residuals=down,
        mid_block_additional_residual=mid,
        return_dict=False,
    )[0]
    if cfg:
        uncond, cond = pred.chunk(2)
        pred = uncond + inp.guidance * (cond - uncond)
    return pred

"""The sd engine's configuration ([engines.sd] in haikei.toml) and per-request options.

Pure pydantic: importing this module needs neither torch nor diffusers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from haikei.errors import ConfigError

__all__ = ["ControlNetSpec", "IPAdapterSpec", "LoraSpec", "SDConfig", "SDOptions", "parse_config"]


class ControlNetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["lineart", "scribble", "seg"] = Field(
        description="what the net was trained on: lineart/scribble get the layout's lines as white on "
        "black, seg gets the region map in the ADE20K palette"
    )
    path: Path = Field(description="local diffusers ControlNet folder, or a single .safetensors file")
    config: Path | None = Field(
        None, description="for a single .safetensors file: local folder holding the net's config.json"
    )
    weight: float = Field(1.0, ge=0.0, le=2.0, description="conditioning scale of this net")


class IPAdapterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path = Field(
        description="IP-Adapter weights (.safetensors with image_proj.* and ip_adapter.* keys)"
    )
    image_encoder: Path = Field(description="local CLIPVisionModelWithProjection folder")
    scale: float = Field(0.6, ge=0.0, le=2.0, description="strength of the art board as style reference")


class LoraSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="LoRA weights, a local .safetensors file")
    weight: float = Field(1.0, ge=-2.0, le=2.0, description="scale the LoRA is fused at")


class SDConfig(BaseModel):
    """[engines.sd]: which local weights to load and how to run them. Nothing is ever downloaded."""

    model_config = ConfigDict(extra="forbid")

    model: Path = Field(description="local diffusers folder (with model_index.json) or a .safetensors file")
    config: Path | None = Field(
        None, description="for a single-file model: local diffusers folder with the configs and tokenizers"
    )
    family: Literal["sd15", "sdxl"] = Field("sd15", description="model architecture family")
    controlnets: list[ControlNetSpec] = Field(default_factory=list)
    ip_adapter: IPAdapterSpec | None = None
    vae: Path | None = Field(None, description="local AutoencoderKL folder that replaces the model's VAE")
    loras: list[LoraSpec] = Field(default_factory=list)
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="auto: float16 on CUDA, float32 on CPU"
    )
    device: str = Field("auto", description="auto, cpu, cuda or cuda:N")
    steps: int = Field(30, ge=1, le=200, description="denoising steps (default for requests)")
    guidance: float = Field(7.0, ge=1.0, le=30.0, description="classifier-free guidance scale")
    text_language: Literal["en", "ja"] = Field(
        "en", description="language of the text encoder: en (CLIP) or ja (rinna's Japanese encoder)"
    )
    scheduler: Literal["model", "ddim", "euler", "unipc", "dpmpp_2m"] = Field(
        "model", description="sampler; 'model' keeps the model folder's own (deterministic ones only)"
    )
    require_board_coverage: bool = Field(
        True, description="refuse a layout class that no art board shows (even along its fallback chain)"
    )


class SDOptions(BaseModel):
    """Per-request options (RenderRequest.options)."""

    model_config = ConfigDict(extra="forbid")

    steps: int | None = Field(None, ge=1, le=200, description="denoising steps; default from [engines.sd]")
    guidance: float | None = Field(None, ge=1.0, le=30.0, description="CFG scale; default from [engines.sd]")
    strength: float = Field(
        0.45, gt=0.0, le=1.0, description="img2img/variant strength: how much of the init is re-noised"
    )
    candidates: int = Field(1, ge=1, le=16, description="images per batch (seed, seed+1, ...)")
    tile: int = Field(
        96, ge=16, le=512, description="MultiDiffusion window in latent pixels (x8 image pixels)"
    )
    tile_stride: int = Field(64, ge=8, le=512, description="step between windows in latent pixels")
    feather: int = Field(8, ge=0, le=128, description="retake: feather width in pixels inside the mask")
    prompt: str = Field("", max_length=2000, description="extra prompt text appended to the direction")
    negative_prompt: str = Field("", max_length=2000, description="extra negative prompt text")
    control_scale: float = Field(1.0, ge=0.0, le=2.0, description="multiplies every ControlNet weight")


def parse_config(config: Mapping[str, Any]) -> SDConfig:
    try:
        return SDConfig.model_validate(dict(config))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(table)"
        raise ConfigError(
            f"[engines.sd] {where}: {first['msg']} ({exc.error_count()} problem(s)); fix haikei.toml"
        ) from None

"""Loading local weights only: check every file first, then load with local_files_only=True.

A missing file is named in the error, with the haikei.toml key that points at it. Model file
hashes go into every recipe; they are cached by (path, size, mtime) so that gigabytes are
hashed once per engine, not once per render.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from haikei.engines.sd.config import SDConfig
from haikei.errors import ConfigError

__all__ = ["HashCache", "LoadedModels", "check_files", "load_models", "resolve_device_dtype"]

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth", ".model")
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "spiece.model", "tokenizer_config.json")
MODEL_COMPONENTS = ("unet", "vae", "text_encoder", "text_encoder_2", "controlnet", "image_encoder")


def _missing(what: str, path: Path, key: str) -> ConfigError:
    return ConfigError(
        f"sd engine: {what} not found: {path} (set by [engines.sd] {key}); no download is tried"
    )


class HashCache:
    """sha256 of files, remembered by (path, size, mtime_ns). One per engine, never global."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, int, int], str] = {}

    def sha256(self, path: Path) -> str:
        st = path.stat()
        key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        if key not in self._known:
            h = hashlib.sha256()
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 22), b""):
                    h.update(chunk)
            self._known[key] = h.hexdigest()
        return self._known[key]

    def hashes(self, files: list[Path], root: Path | None = None) -> dict[str, str]:
        out = {}
        for p in files:
            name = str(p.relative_to(root)) if root is not None and p.is_relative_to(root) else str(p)
            out[name] = self.sha256(p)
        return out


def _weights_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)


def _check_model_folder(folder: Path, key: str) -> list[Path]:
    """A diffusers pipeline folder: model_index.json, each listed component's config and weights."""
    if not folder.is_dir():
        raise _missing("model folder", folder, key)
    index = folder / "model_index.json"
    if not index.is_file():
        raise _missing("model_index.json (is this a diffusers folder?)", index, key)
    try:
        spec = json.loads(index.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"sd engine: {index} is not readable JSON ({exc}); fix or replace the model"
        ) from None
    weights: list[Path] = []
    for name, value in spec.items():
        if name.startswith("_") or not isinstance(value, list) or value[0] is None:
            continue
        sub = folder / name
        if not sub.is_dir():
            raise _missing(f"component folder {name!r} listed in model_index.json", sub, key)
        if name.startswith("tokenizer"):
            if not any((sub / f).is_file() for f in TOKENIZER_FILES):
                raise _missing(f"tokenizer files ({', '.join(TOKENIZER_FILES)})", sub, key)
        elif name in MODEL_COMPONENTS:
            weights += _check_component(sub, key, name)
    return weights


def _check_component(sub: Path, key: str, name: str = "model") -> list[Path]:
    if not sub.is_dir():
        raise _missing(f"{name} folder", sub, key)
    if not (sub / "config.json").is_file():
        raise _missing(f"{name} config.json", sub / "config.json", key)
    found = _weights_in(sub)
    if not found:
        raise _missing(f"{name} weights (*.safetensors or *.bin)", sub, key)
    return found


def _check_file(path: Path, key: str, what: str) -> list[Path]:
    if not path.is_file():
        raise _missing(what, path, key)
    return [path]


def check_files(cfg: SDConfig) -> dict[str, list[Path]]:
    """Every file the config names exists, before anything heavy is imported or loaded."""
    files: dict[str, list[Path]] = {}
    if cfg.model.suffix in (".safetensors", ".ckpt"):
        files["model"] = _check_file(cfg.model, "model", "single-file checkpoint")
        if cfg.config is None:
            raise ConfigError(
                "sd engine: a single-file model needs config = a local diffusers folder with its "
                "configs and tokenizers ([engines.sd] config); nothing is fetched from the Hub"
            )
        if not (cfg.config / "model_index.json").is_file():
            raise _missing("model_index.json of the config folder", cfg.config / "model_index.json", "config")
    else:
        files["model"] = _check_model_folder(cfg.model, "model")
    for i, cn in enumerate(cfg.controlnets):
        k = f"controlnets[{i}].path"
        if cn.path.suffix == ".safetensors":
            files[f"controlnet{i}"] = _check_file(cn.path, k, f"{cn.kind} ControlNet weights")
            if cn.config is None or not (cn.config / "config.json").is_file():
                where = (cn.config or cn.path.parent) / "config.json"
                raise _missing(f"{cn.kind} ControlNet config.json", where, f"controlnets[{i}].config")
        else:
            files[f"controlnet{i}"] = _check_component(cn.path, k, f"{cn.kind} ControlNet")
    if cfg.vae is not None:
        files["vae"] = _check_component(cfg.vae, "vae", "VAE")
    for i, lo in enumerate(cfg.loras):
        files[f"lora{i}"] = _check_file(lo.path, f"loras[{i}].path", "LoRA weights")
    if cfg.ip_adapter is not None:
        files["ip_adapter"] = _check_file(cfg.ip_adapter.path, "ip_adapter.path", "IP-Adapter weights")
        files["image_encoder"] = _check_component(
            cfg.ip_adapter.image_encoder, "ip_adapter.image_encoder", "IP-Adapter image encoder"
        )
    return files


def resolve_device_dtype(cfg: SDConfig) -> tuple[torch.device, torch.dtype]:
    if cfg.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            device = torch.device(cfg.device)
        except RuntimeError:
            raise ConfigError(
                f"sd engine: device {cfg.device!r} is not a torch device (auto, cpu, cuda:0)"
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError("sd engine: device = cuda but no CUDA GPU is visible; use device = 'cpu'")
    if cfg.dtype == "auto":
        dtype = torch.float16 if device.type == "cuda" else torch.float32
    else:
        dtype = getattr(torch, cfg.dtype)
        if device.type == "cpu" and dtype != torch.float32:
            raise ConfigError(f"sd engine: dtype {cfg.dtype} is for GPUs; use float32 (or auto) on the CPU")
    return device, dtype


@dataclass
class LoadedModels:
    pipe: Any  # StableDiffusionPipeline / StableDiffusionXLPipeline (used for its parts and encode_prompt)
    controlnets: list[Any]
    image_encoder: Any | None
    device: torch.device
    dtype: torch.dtype
    files: dict[str, list[Path]] = field(default_factory=dict)


def _offline() -> None:
    # Belt and braces next to local_files_only=True: nothing in this process may reach the Hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def load_models(cfg: SDConfig) -> LoadedModels:
    _offline()
    files = check_files(cfg)
    device, dtype = resolve_device_dtype(cfg)
    import diffusers
    from transformers import CLIPVisionModelWithProjection

    pipe_cls = (
        diffusers.StableDiffusionPipeline if cfg.family == "sd15" else diffusers.StableDiffusionXLPipeline
    )
    kw: dict[str, Any] = {"dtype": dtype, "local_files_only": True}
    if cfg.family == "sd15":
        kw.update(safety_checker=None, requires_safety_checker=False, feature_extractor=None)
    if cfg.vae is not None:
        kw["vae"] = diffusers.AutoencoderKL.from_pretrained(cfg.vae, dtype=dtype, local_files_only=True)
    try:
        if cfg.model.is_file():
            pipe = pipe_cls.from_single_file(str(cfg.model), config=str(cfg.config), **kw)
        else:
            pipe = pipe_cls.from_pretrained(str(cfg.model), **kw)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"sd engine: cannot load the {cfg.family} model at {cfg.model}: {exc}") from None
    is_xl = pipe.unet.config.get("addition_embed_type") == "text_time"
    if cfg.family == "sdxl" and not is_xl:
        raise ConfigError(
            f"sd engine: {cfg.model} is not an SDXL model (no text_time conditioning); set family = 'sd15'"
        )
    if cfg.family == "sd15" and is_xl:
        raise ConfigError(f"sd engine: {cfg.model} is an SDXL model; set family = 'sdxl'")

    controlnets = []
    for i, spec in enumerate(cfg.controlnets):
        try:
            if spec.path.is_file():
                net = diffusers.ControlNetModel.from_single_file(
                    str(spec.path), config=str(spec.config), dtype=dtype, local_files_only=True
                )
            else:
                net = diffusers.ControlNetModel.from_pretrained(spec.path, dtype=dtype, local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"sd engine: cannot load controlnets[{i}] at {spec.path}: {exc}") from None
        if net.config.cross_attention_dim != pipe.unet.config.cross_attention_dim:
            raise ConfigError(
                f"sd engine: controlnets[{i}] ({spec.path}) is for another model family "
                f"(cross-attention {net.config.cross_attention_dim}, model {pipe.unet.config.cross_attention_dim})"
            )
        controlnets.append(net.to(device).eval())

    if cfg.loras:
        names = []
        for i, lo in enumerate(cfg.loras):
            name = f"lora{i}"
            try:
                pipe.load_lora_weights(str(lo.path.parent), weight_name=lo.path.name, adapter_name=name)
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(f"sd engine: cannot load loras[{i}] at {lo.path}: {exc}") from None
            names.append(name)
        pipe.set_adapters(names, adapter_weights=[lo.weight for lo in cfg.loras])
        pipe.fuse_lora(adapter_names=names)
        pipe.unload_lora_weights()

    image_encoder: Any = None
    if cfg.ip_adapter is not None:
        from safetensors.torch import load_file

        raw = load_file(str(cfg.ip_adapter.path))
        state: dict[str, dict[str, torch.Tensor]] = {"image_proj": {}, "ip_adapter": {}}
        for k, v in raw.items():
            head, _, rest = k.partition(".")
            if head not in state:
                raise ConfigError(
                    f"sd engine: {cfg.ip_adapter.path} has key {k!r}; IP-Adapter files hold only "
                    "image_proj.* and ip_adapter.* tensors"
                )
            state[head][rest] = v
        image_encoder = CLIPVisionModelWithProjection.from_pretrained(
            cfg.ip_adapter.image_encoder, dtype=dtype, local_files_only=True
        )
        image_encoder.to(device)
        pipe.unet._load_ip_adapter_weights([state])
        _set_ip_scale(pipe.unet, cfg.ip_adapter.scale)

    pipe.to(device)
    if pipe.vae.config.get("force_upcast", False) and dtype == torch.float16:
        pipe.vae.to(torch.float32)  # SDXL's VAE overflows in float16
    return LoadedModels(pipe, controlnets, image_encoder, device, dtype, files)


def _set_ip_scale(unet: Any, scale: float) -> None:
    for proc in unet.attn_processors.values():
        if hasattr(proc, "scale") and hasattr(proc, "to_k_ip"):
            proc.scale = [scale] * len(proc.to_k_ip)

"""[engines.comfyui] in haikei.toml: the servers, the workflow template and its binding.

The template is a ComfyUI graph saved in API format (node id -> {"class_type", "inputs"}). The
binding says which node inputs receive what haikei sends (layout lines, region map, art boards,
prompts, seed, size, init image, mask, denoise) and which node's images are the result. It is
checked against the template when the engine loads: every error is one line naming the binding
key, the node and the input.

Importing this module needs no network client.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from haikei.engines.base import parse_config as _parse_engine_config
from haikei.errors import ConfigError

__all__ = [
    "EXAMPLES",
    "Binding",
    "ComfyUIConfig",
    "ComfyUIOptions",
    "LinesTarget",
    "Target",
    "Template",
    "load_template",
    "parse_config",
]

EXAMPLE_PREFIX = "example:"
EXAMPLES = ("sdxl_lineart_ipadapter", "flux_lineart")

# inputs of loader nodes that name a model file on the server (recorded in the recipe)
MODEL_INPUTS = frozenset(
    {
        "ckpt_name",
        "unet_name",
        "vae_name",
        "clip_name",
        "clip_name1",
        "clip_name2",
        "clip_name3",
        "control_net_name",
        "lora_name",
        "ipadapter_file",
        "clip_vision",
        "style_model_name",
        "model_name",
    }
)

# binding keys whose inputs take an uploaded image's file name (LoadImage.image, LoadImageMask.image)
IMAGE_KEYS = ("lines", "regions", "art_boards", "init", "mask")
TEXT_KEYS = ("positive", "negative")
INT_KEYS = ("seed", "width", "height")
FLOAT_KEYS = ("denoise",)


class Target(BaseModel):
    """One node input of the template: ``{ node = "12", input = "image" }``."""

    model_config = ConfigDict(extra="forbid")

    node: str = Field(min_length=1, description="node id in the API-format graph (the JSON object's key)")
    input: str = Field(min_length=1, description="name of the node's input that receives the value")

    @field_validator("node", mode="before")
    @classmethod
    def _node_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v


class LinesTarget(Target):
    polarity: Literal["white_on_black", "black_on_white"] = Field(
        "white_on_black",
        description="line-art ControlNets want white lines on black; a template that inverts the "
        "image itself (ImageInvert) wants the layout as drawn, black on white",
    )


class Binding(BaseModel):
    """Which node inputs receive what. Every key but ``output`` takes one target or a list."""

    model_config = ConfigDict(extra="forbid")

    output: str = Field(min_length=1, description="node id whose images are the result (SaveImage)")
    lines: list[LinesTarget] = Field(default_factory=list)
    regions: list[Target] = Field(default_factory=list, description="region map in the ADE20K palette")
    art_boards: list[Target] = Field(
        default_factory=list, description="style references: board 1 to the first target, board 2 ..."
    )
    positive: list[Target] = Field(default_factory=list)
    negative: list[Target] = Field(default_factory=list)
    seed: list[Target] = Field(default_factory=list)
    width: list[Target] = Field(default_factory=list)
    height: list[Target] = Field(default_factory=list)
    init: list[Target] = Field(default_factory=list, description="parent image (retake, refine, variant)")
    mask: list[Target] = Field(default_factory=list, description="retake mask, white = repaint")
    denoise: list[Target] = Field(default_factory=list)

    @field_validator("output", mode="before")
    @classmethod
    def _output_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator(
        "lines",
        "regions",
        "art_boards",
        "positive",
        "negative",
        "seed",
        "width",
        "height",
        "init",
        "mask",
        "denoise",
        mode="before",
    )
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, Mapping) else v

    def targets(self) -> list[tuple[str, Target]]:
        out: list[tuple[str, Target]] = []
        for key in (*IMAGE_KEYS, *TEXT_KEYS, *INT_KEYS, *FLOAT_KEYS):
            out += [(key, t) for t in getattr(self, key)]
        return out


class ComfyUIConfig(BaseModel):
    """[engines.comfyui]: where the ComfyUI servers are and which graph they run."""

    model_config = ConfigDict(extra="forbid")

    servers: list[str] = Field(
        min_length=1, description="ComfyUI base URLs; several form a pool (one job per server at a time)"
    )
    template: str = Field(
        description="API-format workflow JSON (absolute path, or relative to the working directory), "
        f"or one of the shipped examples: {', '.join(EXAMPLE_PREFIX + e for e in EXAMPLES)}"
    )
    binding: Binding | None = Field(
        None, description="node inputs that receive haikei's values; a shipped example brings its own"
    )
    prompt_language: Literal["en", "ja"] = Field(
        "en", description="language of the text encoder behind the template's prompt nodes"
    )
    timeout_s: float = Field(1800.0, gt=0, le=86400, description="the most one job may take on a server")
    connect_timeout_s: float = Field(10.0, gt=0, le=600, description="HTTP connect/read timeout")
    size_multiple: int = Field(
        8, ge=1, le=128, description="inputs are padded to this multiple, the result cropped"
    )
    require_board_coverage: bool = Field(
        True, description="refuse a layout class that no art board shows (even along its fallback chain)"
    )
    check_nodes: bool = Field(
        True, description="check the template's node classes, inputs and model files against /object_info"
    )

    @field_validator("servers")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        out = []
        for url in v:
            u = url.strip().rstrip("/")
            if not (u.startswith("http://") or u.startswith("https://")):
                raise ValueError(f"server {url!r} must start with http:// or https://")
            out.append(u)
        if len(set(out)) != len(out):
            raise ValueError("a server is listed twice")
        return out


class ComfyUIOptions(BaseModel):
    """Per-request options (RenderRequest.options)."""

    model_config = ConfigDict(extra="forbid")

    strength: float = Field(
        0.45, gt=0.0, le=1.0, description="refine/variant: denoise of the parent (how much is repainted)"
    )
    retake_denoise: float = Field(1.0, gt=0.0, le=1.0, description="retake: denoise inside the mask")
    feather: int = Field(8, ge=0, le=128, description="retake: feather width in pixels inside the mask")
    note: str = Field("", max_length=2000, description="the retake's note (Japanese or English)")
    prompt: str = Field("", max_length=2000, description="extra prompt text appended to the direction")
    negative_prompt: str = Field("", max_length=2000, description="extra negative prompt text")


@dataclass(frozen=True)
class Template:
    """A loaded workflow template: the graph, where it came from, its hash and its binding."""

    source: str
    graph: dict[str, Any]
    sha256: str
    binding: Binding

    def class_of(self, node: str) -> str:
        return str(self.graph[node].get("class_type", "?"))

    def model_files(self) -> dict[str, dict[str, str]]:
        """Model file names the template's loader nodes name: node id -> {input: file}."""
        out: dict[str, dict[str, str]] = {}
        for nid, node in sorted(self.graph.items()):
            for name, value in (node.get("inputs") or {}).items():
                if name in MODEL_INPUTS and isinstance(value, str):
                    out.setdefault(nid, {})[name] = value
        return out


def _problem(where: str, text: str) -> ConfigError:
    return ConfigError(f"[engines.comfyui] {where}: {text}; fix haikei.toml")


def parse_config(config: Mapping[str, Any]) -> ComfyUIConfig:
    """The [engines.comfyui] table, checked like every engine's (engines.base.parse_config)."""
    return _parse_engine_config(ComfyUIConfig, "comfyui", config)


def _read_template(spec: str) -> tuple[str, bytes, dict[str, Any] | None]:
    """(source, bytes, example binding table or None)."""
    if spec.startswith(EXAMPLE_PREFIX):
        name = spec[len(EXAMPLE_PREFIX) :]
        if name not in EXAMPLES:
            raise _problem("template", f"no shipped example {name!r}; shipped: {', '.join(EXAMPLES)}")
        pkg = resources.files("haikei.engines.comfyui") / "templates"
        data = (pkg / f"{name}.json").read_bytes()
        binding = tomllib.loads((pkg / f"{name}.binding.toml").read_text("utf-8"))
        return spec, data, binding
    path = Path(spec).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _problem("template", f"cannot read {path}: {exc.strerror or exc}") from None
    return str(path), data, None


def load_template(cfg: ComfyUIConfig) -> Template:
    """Read the template, take its binding, and check the one against the other."""
    source, data, example_binding = _read_template(cfg.template)
    try:
        graph = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _problem("template", f"{source} is not JSON ({exc})") from None
    if not isinstance(graph, dict) or not graph:
        raise _problem("template", f"{source} is not an API-format graph (a JSON object of nodes)")
    if "nodes" in graph and "links" in graph:
        raise _problem(
            "template",
            f"{source} is a UI workflow, not API format; in ComfyUI use Workflow > Export (API)",
        )
    for nid, node in graph.items():
        if not isinstance(node, dict) or "class_type" not in node or not isinstance(node.get("inputs"), dict):
            raise _problem("template", f"{source}: node {nid!r} has no class_type/inputs (not API format)")
    if cfg.binding is not None:
        binding = cfg.binding
    elif example_binding is not None:
        binding = Binding.model_validate(example_binding)
    else:
        raise _problem("binding", "missing; add [engines.comfyui.binding] (see specs/engines.md)")
    check_binding(binding, graph, source)
    digest = hashlib.sha256(data).hexdigest()
    return Template(source=source, graph=graph, sha256=digest, binding=binding)


def check_binding(binding: Binding, graph: dict[str, Any], source: str) -> None:
    """Every target names a node of the graph and one of its literal inputs of the right kind."""
    name = Path(source).name
    if binding.output not in graph:
        raise _problem("binding.output", f"node {binding.output!r} is not in the template {name}")
    if not binding.lines and not binding.regions:
        raise _problem("binding", "binds neither lines nor regions; the layout must reach the graph")
    if bool(binding.init) != bool(binding.mask):
        raise _problem("binding", "init and mask go together (a retake needs both); bind both or neither")
    for key, t in binding.targets():
        where = f"binding.{key}"
        if t.node not in graph:
            raise _problem(where, f"node {t.node!r} is not in the template {name}")
        cls = graph[t.node]["class_type"]
        inputs = graph[t.node]["inputs"]
        if t.input not in inputs:
            have = ", ".join(sorted(inputs)) or "none"
            raise _problem(where, f"node {t.node} ({cls}) has no input {t.input!r}; its inputs: {have}")
        value = inputs[t.input]
        if isinstance(value, list):
            raise _problem(
                where,
                f"node {t.node} ({cls}) input {t.input!r} is wired to node {value[0]!r}; "
                "bind a literal input (e.g. a LoadImage's image, a KSampler's seed)",
            )
        if key in IMAGE_KEYS or key in TEXT_KEYS:
            ok = isinstance(value, str)
            want = "a file name (LoadImage / LoadImageMask image)" if key in IMAGE_KEYS else "text"
        elif key in INT_KEYS:
            ok = isinstance(value, int) and not isinstance(value, bool)
            want = "an integer"
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            want = "a number"
        if not ok:
            raise _problem(
                where, f"node {t.node} ({cls}) input {t.input!r} holds {value!r}; {key} needs {want}"
            )

"""A protocol-faithful stand-in for a ComfyUI server, for the comfyui engine's tests.

It stands in for ComfyUI because ComfyUI itself cannot be installed here (its server is not on the
package registries). It implements, from ComfyUI's documented behaviour, the routes haikei uses:
``POST /upload/image`` (multipart ``image``/``type``/``subfolder``/``overwrite``, same-name
duplicates detected by hash), ``POST /prompt`` (``prompt``, ``client_id``, ``prompt_id``,
``extra_data``; 400 with ``error`` and ``node_errors`` on validation failure, ``invalid_prompt`` for
an unknown node class), ``GET /queue`` / ``POST /queue {"delete"|"clear"}``, ``POST /interrupt``
(an optional ``prompt_id`` only interrupts that job), ``GET /history[/{id}]``, ``GET /view``,
``GET /object_info[/{class}]`` and the websocket ``/ws?clientId=`` with ``status``,
``execution_start``, ``execution_cached``, ``executing`` (``node: null`` at the end), ``progress``,
``executed``, ``execution_success``, ``execution_error`` and ``execution_interrupted``, sent to the
client that queued the job; a client reconnecting with the same clientId takes over its session.

It executes a graph for real, one job at a time, on a few image nodes (LoadImage, LoadImageMask,
ImageInvert, ImageBlend, SaveImage, PreviewImage) and pass-through stand-ins for the model nodes
the shipped templates use (checkpoint/UNet/CLIP/VAE/ControlNet/IP-Adapter loaders, CLIPTextEncode,
ControlNetApplyAdvanced, IPAdapterAdvanced, VAEEncode/Decode, SetLatentNoiseMask, EmptyLatentImage,
KSampler): the "sampler" paints the IP-Adapter style image under the control images' lines with
seeded grain, honours denoise and the latent noise mask, and reports a progress message per
step, so the result depends on every input. It paints nothing like a diffusion model would.

It can be told to fail a node class, stall before sampling, lack a node class, drop a client's
socket after N progress messages, or take longer per step (``control``; also over HTTP at
``/_test/control`` when run as a process: ``python -m tests.engines.comfy_server --port P --root D``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import socket
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

__all__ = ["ComfyStandIn", "free_port"]

MODELS = {
    "ckpt_name": ["sd_xl_base_1.0.safetensors", "illustriousXL_v01.safetensors"],
    "unet_name": ["flux1-dev.safetensors"],
    "clip_name1": ["t5xxl_fp16.safetensors", "clip_l.safetensors"],
    "clip_name2": ["t5xxl_fp16.safetensors", "clip_l.safetensors"],
    "vae_name": ["ae.safetensors", "sdxl_vae.safetensors"],
    "control_net_name": [
        "mistoLine_rank256.safetensors",
        "FLUX.1-dev-ControlNet-Union-Pro-2.0.safetensors",
        "control_v11p_sd15_seg.pth",
    ],
}


class Interrupted(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- node classes: inputs (required), optional, outputs, output node ---------------------------
def _combo(values: list[str]) -> list[Any]:
    return [values, {}]


def _node_defs(input_files: list[str]) -> dict[str, dict[str, Any]]:
    img = ["IMAGE"]
    floats = ["FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0}]
    return {
        "CheckpointLoaderSimple": {
            "required": {"ckpt_name": _combo(MODELS["ckpt_name"])},
            "output": ("MODEL", "CLIP", "VAE"),
        },
        "UNETLoader": {
            "required": {
                "unet_name": _combo(MODELS["unet_name"]),
                "weight_dtype": _combo(["default", "fp8_e4m3fn"]),
            },
            "output": ("MODEL",),
        },
        "DualCLIPLoader": {
            "required": {
                "clip_name1": _combo(MODELS["clip_name1"]),
                "clip_name2": _combo(MODELS["clip_name2"]),
                "type": _combo(["sdxl", "sd3", "flux"]),
            },
            "output": ("CLIP",),
        },
        "VAELoader": {"required": {"vae_name": _combo(MODELS["vae_name"])}, "output": ("VAE",)},
        "CLIPTextEncode": {
            "required": {"text": ["STRING", {"multiline": True}], "clip": ["CLIP"]},
            "output": ("CONDITIONING",),
        },
        "FluxGuidance": {
            "required": {"conditioning": ["CONDITIONING"], "guidance": floats},
            "output": ("CONDITIONING",),
        },
        "ControlNetLoader": {
            "required": {"control_net_name": _combo(MODELS["control_net_name"])},
            "output": ("CONTROL_NET",),
        },
        "ControlNetApplyAdvanced": {
            "required": {
                "positive": ["CONDITIONING"],
                "negative": ["CONDITIONING"],
                "control_net": ["CONTROL_NET"],
                "image": img,
                "strength": floats,
                "start_percent": floats,
                "end_percent": floats,
            },
            "optional": {"vae": ["VAE"]},
            "output": ("CONDITIONING", "CONDITIONING"),
        },
        "IPAdapterUnifiedLoader": {
            "required": {
                "model": ["MODEL"],
                "preset": _combo(["PLUS (high strength)", "STANDARD (medium strength)"]),
            },
            "output": ("MODEL", "IPADAPTER"),
        },
        "IPAdapterAdvanced": {
            "required": {
                "model": ["MODEL"],
                "ipadapter": ["IPADAPTER"],
                "image": img,
                "weight": floats,
                "weight_type": _combo(["linear", "style transfer", "composition"]),
                "combine_embeds": _combo(["concat", "add", "average"]),
                "start_at": floats,
                "end_at": floats,
                "embeds_scaling": _combo(["V only", "K+V"]),
            },
            "output": ("MODEL",),
        },
        "LoadImage": {
            "required": {"image": [sorted(input_files), {"image_upload": True}]},
            "output": ("IMAGE", "MASK"),
        },
        "LoadImageMask": {
            "required": {
                "image": [sorted(input_files), {}],
                "channel": _combo(["alpha", "red", "green", "blue"]),
            },
            "output": ("MASK",),
        },
        "ImageInvert": {"required": {"image": img}, "output": ("IMAGE",)},
        "ImageBlend": {
            "required": {
                "image1": img,
                "image2": img,
                "blend_factor": floats,
                "blend_mode": _combo(["normal", "multiply", "screen", "difference"]),
            },
            "output": ("IMAGE",),
        },
        "EmptyLatentImage": {
            "required": {
                "width": ["INT", {"default": 1024}],
                "height": ["INT", {"default": 1024}],
                "batch_size": ["INT", {"default": 1}],
            },
            "output": ("LATENT",),
        },
        "VAEEncode": {"required": {"pixels": img, "vae": ["VAE"]}, "output": ("LATENT",)},
        "VAEDecode": {"required": {"samples": ["LATENT"], "vae": ["VAE"]}, "output": ("IMAGE",)},
        "SetLatentNoiseMask": {"required": {"samples": ["LATENT"], "mask": ["MASK"]}, "output": ("LATENT",)},
        "KSampler": {
            "required": {
                "model": ["MODEL"],
                "seed": ["INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF}],
                "steps": ["INT", {"default": 20}],
                "cfg": floats,
                "sampler_name": _combo(["euler", "euler_ancestral", "dpmpp_2m"]),
                "scheduler": _combo(["normal", "karras", "simple"]),
                "positive": ["CONDITIONING"],
                "negative": ["CONDITIONING"],
                "latent_image": ["LATENT"],
                "denoise": floats,
            },
            "output": ("LATENT",),
        },
        "SaveImage": {
            "required": {"images": img, "filename_prefix": ["STRING", {"default": "ComfyUI"}]},
            "output": (),
            "output_node": True,
        },
        "PreviewImage": {"required": {"images": img}, "output": (), "output_node": True},
    }


def _text_colour(text: str) -> np.ndarray:
    d = hashlib.sha256(text.encode("utf-8")).digest()
    return np.array([d[0], d[1], d[2]], np.float32) / 255.0


class ComfyStandIn:
    """The server: state, the graph executor (a worker thread) and the Starlette app."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root)
        self.input_dir = self.root / "input"
        self.output_dir = self.root / "output"
        self.input_dir.mkdir(parents=True, exist_ok=True)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # queue and history, like ComfyUI's PromptQueue
        self._mutex = threading.RLock()
        self._cv = threading.Condition(self._mutex)
        self.pending: list[list[Any]] = []
        self.running: list[Any] | None = None
        self.history: dict[str, dict[str, Any]] = {}
        self.number = 0
        self._interrupt = threading.Event()
        # what tests look at
        self.posts: list[bytes] = []
        self.executions: Counter[str] = Counter()
        self.uploads: list[str] = []
        self.max_depth = 0
        # what tests control
        self.step_delay = 0.0
        self.fail_class: str | None = None
        self.missing_classes: set[str] = set()
        self.stall = threading.Event()
        self.stall.set()  # set = run freely; clear = stall before sampling until set again
        self.stalled = threading.Event()  # set while a job waits at the stall
        self.drop_after_progress: int | None = None
        self.last_node: str | None = None
        # websocket sessions: client id -> (socket, loop)
        self._sockets: dict[str, tuple[WebSocket, asyncio.AbstractEventLoop]] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self.app = self._build_app()

    # -- control ---------------------------------------------------------------------------
    def control(self, **kw: Any) -> None:
        for k, v in kw.items():
            if k == "stall":
                (self.stall.clear if v else self.stall.set)()
            elif k == "missing_classes":
                self.missing_classes = set(v)
            elif k in ("step_delay", "fail_class", "drop_after_progress"):
                setattr(self, k, v)
            else:
                raise KeyError(k)

    def state(self) -> dict[str, Any]:
        with self._mutex:
            return {
                "posts": len(self.posts),
                "executions": dict(self.executions),
                "uploads": list(self.uploads),
                "max_depth": self.max_depth,
                "pending": [p[1] for p in self.pending],
                "running": self.running[1] if self.running else None,
                "history": sorted(self.history),
                "stalled": self.stalled.is_set(),
            }

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> ComfyStandIn:
        self._stop.clear()
        self._worker = threading.Thread(target=self._work, name="comfy-standin-worker", daemon=True)
        self._worker.start()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ws="websockets-sansio",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="comfy-standin-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"stand-in server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop like a killed ComfyUI: queue and history are in memory and gone; inputs stay on disk."""
        self._stop.set()
        self._interrupt.set()
        self.stall.set()
        with self._cv:
            self._cv.notify_all()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._worker is not None:
            self._worker.join(10)
        with self._mutex:
            self.pending.clear()
            self.running = None
            self.history.clear()
        self._interrupt.clear()
        self._sockets.clear()

    # -- messages ---------------------------------------------------------------------------
    def send(self, kind: str, data: dict[str, Any], sid: str | None) -> None:
        if sid is None or sid not in self._sockets:
            return
        ws, loop = self._sockets[sid]
        text = json.dumps({"type": kind, "data": data})
        fut = asyncio.run_coroutine_threadsafe(ws.send_text(text), loop)
        with contextlib.suppress(Exception):
            fut.result(5)

    def drop(self, sid: str) -> None:
        if sid in self._sockets:
            ws, loop = self._sockets.pop(sid)
            fut = asyncio.run_coroutine_threadsafe(ws.close(code=1011), loop)
            with contextlib.suppress(Exception):
                fut.result(5)

    def _queue_info(self) -> dict[str, Any]:
        with self._mutex:
            n = len(self.pending) + (1 if self.running else 0)
        return {"exec_info": {"queue_remaining": n}}

    # -- validation (like execution.validate_prompt) --------------------------------------
    def _defs(self) -> dict[str, dict[str, Any]]:
        files = [str(p.relative_to(self.input_dir)) for p in self.input_dir.rglob("*") if p.is_file()]
        return {k: v for k, v in _node_defs(files).items() if k not in self.missing_classes}

    def validate(self, prompt: Any) -> tuple[bool, Any, list[str], dict[str, Any]]:
        if not isinstance(prompt, dict):
            return (
                False,
                {"type": "invalid_prompt", "message": "Invalid prompt", "details": "", "extra_info": {}},
                [],
                {},
            )
        defs = self._defs()
        for nid, node in prompt.items():
            if "class_type" not in node:
                return (
                    False,
                    {
                        "type": "invalid_prompt",
                        "message": "Cannot execute because a node is missing the class_type property.",
                        "details": f"Node ID '#{nid}'",
                        "extra_info": {},
                    },
                    [],
                    {},
                )
            if node["class_type"] not in defs:
                cls = node["class_type"]
                return (
                    False,
                    {
                        "type": "invalid_prompt",
                        "message": f"Cannot execute because node {cls} does not exist.",
                        "details": f"Node ID '#{nid}'",
                        "extra_info": {},
                    },
                    [],
                    {},
                )
        outputs = [nid for nid, node in prompt.items() if defs[node["class_type"]].get("output_node")]
        if not outputs:
            return (
                False,
                {
                    "type": "prompt_no_outputs",
                    "message": "Prompt has no outputs",
                    "details": "",
                    "extra_info": {},
                },
                [],
                {},
            )
        node_errors: dict[str, Any] = {}
        for nid, node in prompt.items():
            d = defs[node["class_type"]]
            errors = []
            for name, spec in d["required"].items():
                if name not in node["inputs"]:
                    errors.append(
                        {
                            "type": "required_input_missing",
                            "message": "Required input is missing",
                            "details": name,
                            "extra_info": {"input_name": name},
                        }
                    )
                    continue
                value = node["inputs"][name]
                if isinstance(value, list):
                    src = str(value[0])
                    if src not in prompt:
                        errors.append(
                            {
                                "type": "bad_linked_input",
                                "message": "Bad linked input, must be a length-2 list of [string, int]",
                                "details": f"{name}",
                                "extra_info": {"input_name": name},
                            }
                        )
                    continue
                if isinstance(spec[0], list) and value not in spec[0]:
                    if node["class_type"] in ("LoadImage", "LoadImageMask"):
                        errors.append(
                            {
                                "type": "custom_validation_failed",
                                "message": "Custom validation failed for node",
                                "details": f"{name} - Invalid image file: {value}",
                                "extra_info": {"input_name": name},
                            }
                        )
                    else:
                        shown = ", ".join(spec[0][:6])
                        errors.append(
                            {
                                "type": "value_not_in_list",
                                "message": "Value not in list",
                                "details": f"{name}: '{value}' not in [{shown}]",
                                "extra_info": {"input_name": name, "received_value": value},
                            }
                        )
            if errors:
                node_errors[nid] = {
                    "errors": errors,
                    "dependent_outputs": outputs,
                    "class_type": node["class_type"],
                }
        if node_errors:
            return (
                False,
                {
                    "type": "prompt_outputs_failed_validation",
                    "message": "Prompt outputs failed validation",
                    "details": "",
                    "extra_info": {},
                },
                [],
                node_errors,
            )
        return True, None, outputs, {}

    # -- execution -------------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            with self._cv:
                while not self.pending and not self._stop.is_set():
                    self._cv.wait(0.1)
                if self._stop.is_set():
                    return
                self.pending.sort(key=lambda it: it[0])
                item = self.pending.pop(0)
                self.running = item
            number, prompt_id, prompt, extra, outputs = item
            sid = extra.get("client_id")
            self._interrupt.clear()
            messages: list[list[Any]] = []

            def note(kind: str, data: dict[str, Any], sid: Any = sid, messages: list[Any] = messages) -> None:
                messages.append([kind, data])
                self.send(kind, data, sid)

            note("execution_start", {"prompt_id": prompt_id, "timestamp": int(time.time() * 1000)})
            note(
                "execution_cached",
                {"nodes": [], "prompt_id": prompt_id, "timestamp": int(time.time() * 1000)},
            )
            results: dict[str, tuple[Any, ...]] = {}
            ui: dict[str, Any] = {}
            status = "success"
            with self._mutex:
                self.executions[prompt_id] += 1
            try:
                for out in outputs:
                    self._execute(prompt, out, results, ui, prompt_id, sid)
                note("execution_success", {"prompt_id": prompt_id, "timestamp": int(time.time() * 1000)})
            except Interrupted as exc:
                if self._stop.is_set():
                    return  # killed: a dead server says nothing and records nothing
                status = "error"
                nid = str(exc)
                note(
                    "execution_interrupted",
                    {
                        "prompt_id": prompt_id,
                        "node_id": nid,
                        "node_type": prompt[nid]["class_type"],
                        "executed": list(results),
                    },
                )
            except Exception as exc:
                status = "error"
                nid = getattr(exc, "node_id", "?")
                note(
                    "execution_error",
                    {
                        "prompt_id": prompt_id,
                        "node_id": nid,
                        "node_type": prompt.get(nid, {}).get("class_type", "?"),
                        "executed": list(results),
                        "exception_message": str(exc),
                        "exception_type": type(exc).__name__,
                        "traceback": [],
                        "current_inputs": {},
                        "current_outputs": {},
                    },
                )
            if self._stop.is_set():
                return  # killed: nothing is recorded
            with self._mutex:
                self.history[prompt_id] = {
                    "prompt": [number, prompt_id, prompt, extra, outputs],
                    "outputs": ui,
                    "status": {"status_str": status, "completed": status == "success", "messages": messages},
                    "meta": {},
                }
                self.running = None
            self.send("executing", {"node": None, "prompt_id": prompt_id}, sid)

    def _execute(
        self,
        prompt: dict[str, Any],
        nid: str,
        results: dict[str, Any],
        ui: dict[str, Any],
        pid: str,
        sid: Any,
    ) -> tuple[Any, ...]:
        if nid in results:
            return results[nid]  # type: ignore[no-any-return]
        node = prompt[nid]
        args: dict[str, Any] = {}
        for name, value in node["inputs"].items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
                args[name] = self._execute(prompt, str(value[0]), results, ui, pid, sid)[value[1]]
            else:
                args[name] = value
        self.last_node = nid
        self.send("executing", {"node": nid, "display_node": nid, "prompt_id": pid}, sid)
        cls = node["class_type"]
        try:
            if cls == self.fail_class:
                raise RuntimeError(f"{cls} failed on purpose (stand-in told to fail)")
            out = self._run_node(cls, args, nid, pid, sid)
        except Interrupted:
            raise Interrupted(nid) from None
        except Exception as exc:
            exc.node_id = nid  # type: ignore[attr-defined]
            raise
        results[nid] = out
        if cls in ("SaveImage", "PreviewImage"):
            images = out[0]
            ui[nid] = {"images": images}
            self.send(
                "executed",
                {"node": nid, "display_node": nid, "output": {"images": images}, "prompt_id": pid},
                sid,
            )
            return ()
        return out

    def _load(self, name: str) -> Image.Image:
        path = (self.input_dir / name).resolve()
        if self.input_dir.resolve() not in path.parents:
            raise ValueError(f"bad image path {name}")
        return Image.open(path)

    def _run_node(self, cls: str, a: dict[str, Any], nid: str, pid: str, sid: Any) -> tuple[Any, ...]:
        if cls == "CheckpointLoaderSimple":
            m = {"name": a["ckpt_name"], "style": []}
            return m, {"name": a["ckpt_name"]}, {"name": a["ckpt_name"]}
        if cls == "UNETLoader":
            return ({"name": a["unet_name"], "style": []},)
        if cls in ("DualCLIPLoader", "VAELoader", "ControlNetLoader"):
            return ({"name": next(iter(a.values()))},)
        if cls == "CLIPTextEncode":
            return ({"text": a["text"], "controls": []},)
        if cls == "FluxGuidance":
            return ({**a["conditioning"], "guidance": a["guidance"]},)
        if cls == "ControlNetApplyAdvanced":
            c = (a["image"], float(a["strength"]))
            pos, neg = a["positive"], a["negative"]
            return {**pos, "controls": [*pos["controls"], c]}, {**neg, "controls": [*neg["controls"], c]}
        if cls == "IPAdapterUnifiedLoader":
            return a["model"], {"preset": a["preset"]}
        if cls == "IPAdapterAdvanced":
            m = a["model"]
            return ({**m, "style": [*m["style"], (a["image"], float(a["weight"]))]},)
        if cls == "LoadImage":
            with self._load(a["image"]) as im:
                rgba = im.convert("RGBA")
            arr = np.asarray(rgba, np.float32) / 255.0
            return arr[..., :3], 1.0 - arr[..., 3]
        if cls == "LoadImageMask":
            with self._load(a["image"]) as im:
                rgba = np.asarray(im.convert("RGBA"), np.float32) / 255.0
            ch = {"red": 0, "green": 1, "blue": 2, "alpha": 3}[a["channel"]]
            mask = rgba[..., ch]
            return (1.0 - mask if ch == 3 else mask,)
        if cls == "ImageInvert":
            return (1.0 - a["image"],)
        if cls == "ImageBlend":
            i1, i2, f = a["image1"], a["image2"], float(a["blend_factor"])
            mode = a["blend_mode"]
            mixed = {
                "normal": i2,
                "multiply": i1 * i2,
                "screen": 1 - (1 - i1) * (1 - i2),
                "difference": np.abs(i1 - i2),
            }[mode]
            return (i1 * (1 - f) + mixed * f,)
        if cls == "EmptyLatentImage":
            return (
                {"pixels": np.full((int(a["height"]), int(a["width"]), 3), 0.5, np.float32), "mask": None},
            )
        if cls == "VAEEncode":
            return ({"pixels": a["pixels"], "mask": None},)
        if cls == "VAEDecode":
            return (a["samples"]["pixels"],)
        if cls == "SetLatentNoiseMask":
            return ({**a["samples"], "mask": a["mask"]},)
        if cls == "KSampler":
            return (self._sample(a, nid, pid, sid),)
        if cls in ("SaveImage", "PreviewImage"):
            kind = "output" if cls == "SaveImage" else "temp"
            img = np.clip(np.rint(a["images"] * 255.0), 0, 255).astype(np.uint8)
            name = f"{a.get('filename_prefix', 'ComfyUI')}_{uuid.uuid4().hex[:8]}_.png"
            out_dir = self.output_dir if kind == "output" else self.root / "temp"
            out_dir.mkdir(exist_ok=True)
            Image.fromarray(img).save(out_dir / name)
            return ([{"filename": name, "subfolder": "", "type": kind}],)
        raise RuntimeError(f"stand-in has no implementation of {cls}")

    def _sample(self, a: dict[str, Any], nid: str, pid: str, sid: Any) -> dict[str, Any]:
        self.stalled.set()
        while not self.stall.wait(0.05):
            if self._interrupt.is_set() or self._stop.is_set():
                self.stalled.clear()
                raise Interrupted(nid)
        self.stalled.clear()
        latent = a["latent_image"]
        base = latent["pixels"]
        h, w = base.shape[:2]
        steps = int(a["steps"])
        for i in range(steps):
            if self._interrupt.is_set() or self._stop.is_set():
                raise Interrupted(nid)
            if self.step_delay:
                time.sleep(self.step_delay)
            self.send("progress", {"value": i + 1, "max": steps, "prompt_id": pid, "node": nid}, sid)
            if self.drop_after_progress is not None and i + 1 == self.drop_after_progress and sid:
                self.drop_after_progress = None
                self.drop(sid)
        # the "painting": the style images under the control lines, tinted by the prompt, seeded grain
        model, pos = a["model"], a["positive"]
        if model["style"]:
            layers = []
            for img, weight in model["style"]:
                pil = Image.fromarray(np.clip(img * 255, 0, 255).astype(np.uint8)).resize(
                    (w, h), Image.Resampling.BICUBIC
                )
                layers.append((np.asarray(pil, np.float32) / 255.0, weight))
            total = sum(wt for _, wt in layers) or 1.0
            paint = sum(im * wt for im, wt in layers) / total
        else:
            paint = np.broadcast_to(_text_colour(pos["text"]), (h, w, 3)).copy()
        paint = 0.85 * paint + 0.15 * _text_colour(pos["text"])
        rng = np.random.default_rng(int(a["seed"]))
        paint = paint + rng.normal(0, 0.04, (h, w, 1)).astype(np.float32)
        for img, strength in pos["controls"]:
            ctl = (
                np.asarray(
                    Image.fromarray(np.clip(img * 255, 0, 255).astype(np.uint8)).resize((w, h)), np.float32
                )
                / 255.0
            )
            ink = ctl.mean(axis=2, keepdims=True)
            paint = paint * (1.0 - 0.85 * min(strength, 1.0) * ink)
        denoise = float(a["denoise"])
        new = denoise * paint + (1.0 - denoise) * base
        mask = latent.get("mask")
        if mask is not None:
            mk = (
                np.asarray(
                    Image.fromarray(np.clip(mask * 255, 0, 255).astype(np.uint8)).resize((w, h)), np.float32
                )[..., None]
                / 255.0
            )
            new = mk * new + (1 - mk) * base
        return {"pixels": np.clip(new, 0, 1).astype(np.float32), "mask": None}

    # -- HTTP and websocket ----------------------------------------------------------------
    def _build_app(self) -> Starlette:
        async def ws_endpoint(ws: WebSocket) -> None:
            await ws.accept()
            sid = ws.query_params.get("clientId") or uuid.uuid4().hex
            self._sockets.pop(sid, None)  # reusing an existing session: the old one is dropped
            self._sockets[sid] = (ws, asyncio.get_running_loop())
            try:
                await ws.send_text(
                    json.dumps({"type": "status", "data": {"status": self._queue_info(), "sid": sid}})
                )
                with self._mutex:
                    running = self.running
                if running is not None and running[3].get("client_id") == sid:
                    await ws.send_text(
                        json.dumps(
                            {"type": "executing", "data": {"node": self.last_node, "prompt_id": running[1]}}
                        )
                    )
                while True:
                    await ws.receive_text()
            except (WebSocketDisconnect, RuntimeError):
                pass
            finally:
                if self._sockets.get(sid, (None,))[0] is ws:
                    self._sockets.pop(sid, None)

        async def post_prompt(request: Request) -> Response:
            raw = await request.body()
            data = json.loads(raw)
            with self._mutex:
                self.posts.append(raw)
            if "prompt" not in data:
                return JSONResponse(
                    {
                        "error": {
                            "type": "no_prompt",
                            "message": "No prompt provided",
                            "details": "",
                            "extra_info": {},
                        },
                        "node_errors": {},
                    },
                    status_code=400,
                )
            prompt = data["prompt"]
            ok, error, outputs, node_errors = self.validate(prompt)
            if not ok:
                return JSONResponse({"error": error, "node_errors": node_errors}, status_code=400)
            extra = dict(data.get("extra_data") or {})
            if "client_id" in data:
                extra["client_id"] = data["client_id"]
            prompt_id = str(data.get("prompt_id") or uuid.uuid4())
            with self._cv:
                number = self.number
                self.number += 1
                self.pending.append([number, prompt_id, prompt, extra, outputs])
                depth = len(self.pending) + (1 if self.running else 0)
                self.max_depth = max(self.max_depth, depth)
                self._cv.notify_all()
            return JSONResponse({"prompt_id": prompt_id, "number": number, "node_errors": {}})

        async def get_queue(request: Request) -> Response:
            with self._mutex:
                running = [self.running] if self.running else []
                pending = sorted(self.pending, key=lambda it: it[0])
            return JSONResponse({"queue_running": running, "queue_pending": pending})

        async def post_queue(request: Request) -> Response:
            data = await request.json()
            with self._mutex:
                if data.get("clear"):
                    self.pending.clear()
                for pid in data.get("delete", []):
                    self.pending = [it for it in self.pending if it[1] != pid]
            return Response(status_code=200)

        async def post_interrupt(request: Request) -> Response:
            body = await request.body()
            target = json.loads(body).get("prompt_id") if body else None
            with self._mutex:
                running = self.running[1] if self.running else None
            if target is None or target == running:
                self._interrupt.set()
            return Response(status_code=200)

        async def get_history(request: Request) -> Response:
            pid = request.path_params.get("prompt_id")
            with self._mutex:
                if pid is None:
                    return JSONResponse(dict(self.history))
                return JSONResponse({pid: self.history[pid]} if pid in self.history else {})

        async def view(request: Request) -> Response:
            q = request.query_params
            name = q.get("filename", "")
            if not name or name.startswith("/") or ".." in name:
                return Response(status_code=400)
            base = {"output": self.output_dir, "input": self.input_dir, "temp": self.root / "temp"}.get(
                q.get("type", "output")
            )
            if base is None:
                return Response(status_code=400)
            path = base / q.get("subfolder", "") / Path(name).name
            if not path.is_file():
                return Response(status_code=404)
            return Response(path.read_bytes(), media_type="image/png")

        async def upload(request: Request) -> Response:
            form = await request.form()
            image = form.get("image")
            if image is None or isinstance(image, str) or not image.filename:
                return Response(status_code=400)
            kind = str(form.get("type") or "input")
            if kind != "input":
                return Response(status_code=400)
            sub = str(form.get("subfolder") or "")
            folder = (self.input_dir / sub).resolve()
            if folder != self.input_dir.resolve() and self.input_dir.resolve() not in folder.parents:
                return Response(status_code=400)
            folder.mkdir(parents=True, exist_ok=True)
            data = await image.read()
            name = image.filename
            overwrite = str(form.get("overwrite") or "") in ("true", "1")
            path = folder / name
            if not overwrite:
                stem, ext = Path(name).stem, Path(name).suffix
                i = 1
                while path.exists() and path.read_bytes() != data:
                    name = f"{stem} ({i}){ext}"
                    path = folder / name
                    i += 1
            path.write_bytes(data)
            with self._mutex:
                self.uploads.append(f"{sub}/{name}" if sub else name)
            return JSONResponse({"name": name, "subfolder": sub, "type": kind})

        def info(cls: str, d: dict[str, Any]) -> dict[str, Any]:
            inputs = {"required": d["required"], **({"optional": d["optional"]} if "optional" in d else {})}
            return {
                "input": inputs,
                "input_order": {k: list(v) for k, v in inputs.items()},
                "output": list(d["output"]),
                "output_is_list": [False] * len(d["output"]),
                "output_name": list(d["output"]),
                "name": cls,
                "display_name": cls,
                "description": "",
                "python_module": "nodes",
                "category": "stand-in",
                "output_node": bool(d.get("output_node")),
            }

        async def object_info(request: Request) -> Response:
            cls = request.path_params.get("node_class")
            defs = self._defs()
            if cls is not None:
                return JSONResponse({cls: info(cls, defs[cls])} if cls in defs else {})
            return JSONResponse({k: info(k, v) for k, v in defs.items()})

        async def get_prompt(request: Request) -> Response:
            return JSONResponse(self._queue_info())

        async def test_control(request: Request) -> Response:
            self.control(**(await request.json()))
            return JSONResponse(self.state())

        async def test_state(request: Request) -> Response:
            return JSONResponse(self.state())

        routes = [
            WebSocketRoute("/ws", ws_endpoint),
            Route("/prompt", post_prompt, methods=["POST"]),
            Route("/prompt", get_prompt, methods=["GET"]),
            Route("/queue", get_queue, methods=["GET"]),
            Route("/queue", post_queue, methods=["POST"]),
            Route("/interrupt", post_interrupt, methods=["POST"]),
            Route("/history", get_history, methods=["GET"]),
            Route("/history/{prompt_id}", get_history, methods=["GET"]),
            Route("/view", view, methods=["GET"]),
            Route("/upload/image", upload, methods=["POST"]),
            Route("/object_info", object_info, methods=["GET"]),
            Route("/object_info/{node_class}", object_info, methods=["GET"]),
            Route("/_test/control", test_control, methods=["POST"]),
            Route("/_test/state", test_state, methods=["GET"]),
        ]
        return Starlette(routes=routes)


def main() -> None:
    ap = argparse.ArgumentParser(description="stand-in ComfyUI server for haikei's tests")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--step-delay", type=float, default=0.0)
    args = ap.parse_args()
    server = ComfyStandIn(args.root, args.port)
    server.step_delay = args.step_delay
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()

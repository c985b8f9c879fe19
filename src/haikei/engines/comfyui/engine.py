"""The comfyui engine: paint through a studio's own ComfyUI servers.

render() reads top to bottom: check the request; build the images the graph receives (layout
lines in the template's polarity, the region map in the ADE20K palette, art boards, parent and
mask); fill the template through its binding; derive the job's prompt_id from the filled graph
(so a restarted haikei finds its job on a server instead of queueing it twice); run it on a free
server of the pool (upload, queue, follow the websocket, fetch through /history and /view);
composite the parent's pixels outside a retake mask; describe.

What the server paints is its business; haikei guarantees the request: the same request and
seed give the same bytes to the server, recorded in the recipe with the template's hash and the
model files the graph names.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from PIL import Image
from pydantic import BaseModel
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from haikei.domain.direction import BASE_PROMPT_EN, BASE_PROMPT_JA, parse_direction, prompt_terms
from haikei.engines.base import (
    TRAINED_ALGORITHMIC_MEDIA,
    EngineContext,
    RenderRequest,
    RenderResult,
    check_board_coverage,
    check_common_inputs,
    composite_retake,
    parse_options,
)
from haikei.engines.comfyui.client import ComfyClient, ServerDown, parse_message
from haikei.engines.comfyui.config import ComfyUIConfig, ComfyUIOptions, Template
from haikei.engines.comfyui.pool import ServerPool, pool_for
from haikei.engines.sd.ade20k import seg_condition
from haikei.engines.sd.prompts import direction_prompt
from haikei.errors import EngineError, HaikeiError, RenderCanceled, RenderRefused

__all__ = ["ComfyUIEngine", "line_image"]

# the most times one render queues its graph again after a server lost it (restart)
MAX_RESUBMITS = 2
POLL_S = 2.0  # with no websocket message for this long, ask /queue and /history
RECV_S = 0.1  # websocket read slice: cancel is checked at least this often


def line_image(lines: np.ndarray, polarity: str) -> np.ndarray:
    """Layout lines (0 = ink) -> HxWx3 uint8 in the template's polarity."""
    gray = 255 - lines if polarity == "white_on_black" else lines
    return np.repeat(gray[..., None], 3, axis=2).astype(np.uint8)


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _pad(a: np.ndarray, h: int, w: int) -> np.ndarray:
    if a.shape[0] == h and a.shape[1] == w:
        return a
    pad = [(0, h - a.shape[0]), (0, w - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
    return np.pad(a, pad, mode="edge")


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class _Upload:
    key: str  # binding key (lines, regions, art_boards, init, mask)
    index: int  # target index within the key
    name: str  # file name haikei gives it (content hash)
    data: bytes
    board: str | None = None


@dataclass
class _Job:
    prompt_id: str
    client_id: str
    graph: dict[str, Any]
    body: bytes
    uploads: list[_Upload]
    events: list[str] = field(default_factory=list)
    server: str = ""
    found_again: bool = False
    submissions: int = 0
    t_queued: float = 0.0
    t_started: float = 0.0
    t_finished: float = 0.0


class ComfyUIEngine:
    name: ClassVar[str] = "comfyui"
    version: ClassVar[str] = "0.1.0"
    digital_source_type: ClassVar[str] = TRAINED_ALGORITHMIC_MEDIA
    options_model: ClassVar[type[BaseModel]] = ComfyUIOptions

    def __init__(self, config: ComfyUIConfig, template: Template) -> None:
        self.config = config
        self.template = template
        self.pool: ServerPool = pool_for(config.servers, config.connect_timeout_s)
        self._checked: set[str] = set()  # servers whose /object_info matched the template
        self._check_lock = threading.Lock()
        self._board_png: dict[tuple[str, str | None], bytes] = {}  # art board PNGs by (key, variant)

    # -- public ---------------------------------------------------------------------------
    def render(self, request: RenderRequest, context: EngineContext) -> RenderResult:
        t0 = time.perf_counter()
        # 1. check inputs and options
        context.check_cancel()
        check_common_inputs(request)
        opts = parse_options(ComfyUIOptions, self.name, request.options)
        if self.config.require_board_coverage:
            check_board_coverage(request, "comfyui")
        b = self.template.binding
        mode = "retake" if request.mask is not None else ("render" if request.init is None else "refine")
        if mode == "refine" and request.variant is not None:
            mode = "variant"
        if mode == "retake" and not request.mask.any():  # type: ignore[union-attr]
            raise RenderRefused("the retake mask is empty; mark the area to repaint")
        if mode != "render" and not b.init:
            raise RenderRefused(
                f"the template {self.template.source} binds no init image and mask, so it cannot "
                f"paint a {mode}; bind init and mask in [engines.comfyui.binding] (see specs/engines.md)"
            )
        if mode in ("refine", "variant") and not b.denoise:
            raise RenderRefused(
                f"a {mode} repaints the parent partly: bind denoise (e.g. the KSampler's denoise) in "
                "[engines.comfyui.binding]"
            )

        # 2. the images and values the graph receives
        job, bound = self._build_job(request, opts, mode)
        context.progress(0.05, "prepared")
        t_prep = time.perf_counter()

        # 3. run it on a server of the pool (or pick it up where a killed haikei left it)
        png = self._run(job, context)
        t_run = time.perf_counter()

        # 4. decode, crop the padding, composite the parent outside a retake mask
        h, w = request.height, request.width
        ph, pw = self._padded(h, w)
        warnings: list[str] = []
        try:
            with Image.open(io.BytesIO(png)) as im:
                im.load()
                got = im.convert("RGB")
        except Exception as exc:
            raise EngineError(
                f"ComfyUI at {job.server} returned an image haikei cannot read ({exc})"
            ) from None
        if got.size not in ((pw, ph), (w, h)):
            warnings.append(
                f"the server returned {got.size[0]}x{got.size[1]} for {pw}x{ph}; resampled to the frame "
                "(bind width and height so the graph paints at the frame's size)"
            )
            got = got.resize((pw, ph), Image.Resampling.LANCZOS)
        image = np.asarray(got, dtype=np.uint8)[:h, :w].copy()
        if mode == "retake":
            assert request.mask is not None and request.init is not None
            image = composite_retake(request.init, image, request.mask, opts.feather)
        context.progress(1.0, "done")

        # 5. describe
        cfg = self.config
        boards_used = sorted({u.board for u in job.uploads if u.board})
        recipe: dict[str, Any] = {
            "engine": self.name,
            "engine_version": self.version,
            "mode": mode,
            "server": job.server,
            "servers": list(cfg.servers),
            "template": self.template.source,
            "template_sha256": self.template.sha256,
            "prompt_id": job.prompt_id,
            "client_id": job.client_id,
            "request_sha256": hashlib.sha256(job.body).hexdigest(),
            "bound": bound,
            "models": self._models(job.graph),
            "seed": int(request.seed),
            "size": [w, h],
            "graph_size": [pw, ph],
            "prompt_language": cfg.prompt_language,
            "variant": request.variant,
            "feather": opts.feather if mode == "retake" else None,
            "boards": [bd.key for bd in request.boards],
            "boards_used": boards_used,
            "found_again": job.found_again,
            "submissions": job.submissions,
            "events": job.events[-20:],
        }
        queue_wait = max(0.0, job.t_started - job.t_queued) if job.t_queued and job.t_started else 0.0
        server_s = max(0.0, job.t_finished - job.t_started) if job.t_started else t_run - t_prep
        timings = {
            "prepare_s": t_prep - t0,
            "queue_wait_s": queue_wait,
            "server_s": server_s,
            "run_s": t_run - t_prep,
            "total_s": time.perf_counter() - t0,
        }
        return RenderResult(image=image, recipe=recipe, warnings=warnings, timings=timings)

    # -- building the request -------------------------------------------------------------
    def _padded(self, h: int, w: int) -> tuple[int, int]:
        m = self.config.size_multiple
        return -(-h // m) * m, -(-w // m) * m

    def _prompts(self, request: RenderRequest, opts: ComfyUIOptions) -> tuple[str, str]:
        lang = self.config.prompt_language
        extra = [opts.prompt]
        if opts.note.strip():
            try:
                note = parse_direction(opts.note)
            except HaikeiError as exc:
                raise RenderRefused(f"retake note: {exc}") from None
            positive, _neg = prompt_terms(note, lang)
            sep = "、" if lang == "ja" else ", "
            base = set(BASE_PROMPT_JA if lang == "ja" else BASE_PROMPT_EN)
            extra.append(sep.join(p for p in positive.split(sep) if p and p not in base))
        if request.variant:
            extra.append(request.variant.replace("_", " "))
        sep = "、" if lang == "ja" else ", "
        return direction_prompt(
            request.direction, lang, sep.join(e for e in extra if e), opts.negative_prompt
        )

    def _build_job(
        self, request: RenderRequest, opts: ComfyUIOptions, mode: str
    ) -> tuple[_Job, dict[str, Any]]:
        b = self.template.binding
        h, w = request.height, request.width
        ph, pw = self._padded(h, w)
        graph = copy.deepcopy(self.template.graph)
        uploads: list[_Upload] = []
        bound: dict[str, list[dict[str, Any]]] = {}

        def put(key: str, i: int, node: str, inp: str, value: Any, shown: Any = None) -> None:
            graph[node]["inputs"][inp] = value
            bound.setdefault(key, []).append(
                {"node": node, "class": self.template.class_of(node), "input": inp, "value": shown or value}
            )

        def image(key: str, i: int, node: str, inp: str, arr: np.ndarray, board: str | None = None) -> None:
            if board is not None:  # a board's PNG is made once per process (every cut sends it)
                cache_key = (board, request.variant)
                with self._check_lock:
                    hit = self._board_png.get(cache_key)
                data = hit if hit is not None else _png(arr)
                with self._check_lock:
                    self._board_png[cache_key] = data
                    while len(self._board_png) > 8:
                        self._board_png.pop(next(iter(self._board_png)))
            else:
                data = _png(arr)
            digest = hashlib.sha256(data).hexdigest()
            name = f"haikei-{key}-{digest[:24]}.png"
            uploads.append(_Upload(key, i, name, data, board))
            put(key, i, node, inp, f"haikei/{name}", {"file": f"haikei/{name}", "sha256": digest})

        for i, lt in enumerate(b.lines):
            image("lines", i, lt.node, lt.input, _pad(line_image(request.lines, lt.polarity), ph, pw))
        if b.regions:
            seg = _pad(seg_condition(request.regions, request.vocabulary), ph, pw)
            for i, t in enumerate(b.regions):
                image("regions", i, t.node, t.input, seg)
        for i, t in enumerate(b.art_boards):
            bd = request.boards[i % len(request.boards)]
            img = bd.variants.get(request.variant, bd.image) if request.variant else bd.image
            image("art_boards", i, t.node, t.input, np.ascontiguousarray(img), bd.key)
        if b.init:
            # a fresh render: mid grey under a full mask, fully denoised
            init = np.full((ph, pw, 3), 128, np.uint8) if request.init is None else _pad(request.init, ph, pw)
            mask = (
                np.ones((ph, pw), bool)
                if request.mask is None
                else np.pad(request.mask, [(0, ph - h), (0, pw - w)], constant_values=False)
            )
            mask_img = np.repeat(np.where(mask, 255, 0).astype(np.uint8)[..., None], 3, axis=2)
            for i, t in enumerate(b.init):
                image("init", i, t.node, t.input, init)
            for i, t in enumerate(b.mask):
                image("mask", i, t.node, t.input, mask_img)
        positive, negative = self._prompts(request, opts)
        for i, t in enumerate(b.positive):
            put("positive", i, t.node, t.input, positive)
        for i, t in enumerate(b.negative):
            put("negative", i, t.node, t.input, negative)
        for i, t in enumerate(b.seed):
            put("seed", i, t.node, t.input, int(request.seed) & 0xFFFFFFFFFFFFFFFF)
        for i, t in enumerate(b.width):
            put("width", i, t.node, t.input, pw)
        for i, t in enumerate(b.height):
            put("height", i, t.node, t.input, ph)
        denoise = {"render": 1.0, "retake": opts.retake_denoise}.get(mode, opts.strength)
        for i, t in enumerate(b.denoise):
            put("denoise", i, t.node, t.input, float(denoise))

        # the job's identity is the filled graph: the same request is the same job on any server
        digest = hashlib.sha256(_canonical({"engine": self.name, "version": self.version, "prompt": graph}))
        prompt_id = str(uuid.UUID(bytes=digest.digest()[:16], version=4))
        client_id = f"haikei-{prompt_id}"
        body = _canonical(
            {
                "client_id": client_id,
                "extra_data": {
                    "haikei": {"engine_version": self.version, "template_sha256": self.template.sha256}
                },
                "prompt": graph,
                "prompt_id": prompt_id,
            }
        )
        return _Job(prompt_id, client_id, graph, body, uploads), bound

    def _models(self, graph: dict[str, Any]) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for nid, files in self.template.model_files().items():
            out[nid] = {"class": str(graph[nid]["class_type"]), **files}
        return out

    # -- the server side ------------------------------------------------------------------
    def _check_nodes(self, client: ComfyClient) -> None:
        """Every node class of the template exists on the server, every bound input and model file too."""
        if not self.config.check_nodes or client.url in self._checked:
            return
        try:
            self._check_nodes_against(client, client.object_info())
        except RenderRefused:
            client.forget_object_info()  # the studio may install the node or model: ask again next time
            raise
        with self._check_lock:
            self._checked.add(client.url)

    def _check_nodes_against(self, client: ComfyClient, info: dict[str, Any]) -> None:
        graph = self.template.graph
        for nid, node in sorted(graph.items()):
            cls = node["class_type"]
            if cls not in info:
                raise RenderRefused(
                    f"ComfyUI at {client.url} has no node class {cls!r} (template node {nid}); install the "
                    "custom node that provides it there, or change the template"
                )
            spec = (info[cls] or {}).get("input") or {}
            known: dict[str, Any] = {**(spec.get("required") or {}), **(spec.get("optional") or {})}
            for inp, value in node["inputs"].items():
                if inp not in known:
                    continue  # hidden or front-end inputs; ComfyUI ignores extras too
                allowed = known[inp][0] if isinstance(known[inp], list) and known[inp] else None
                if (
                    isinstance(allowed, list)
                    and isinstance(value, str)
                    and inp != "image"
                    and value not in allowed
                ):
                    shown = ", ".join(map(str, allowed[:8])) + (" ..." if len(allowed) > 8 else "")
                    raise RenderRefused(
                        f"ComfyUI at {client.url}: node {nid} ({cls}) input {inp!r}: {value!r} is not "
                        f"on the server (it has: {shown or 'none'})"
                    )
        out = self.template.binding.output
        if not (info[graph[out]["class_type"]] or {}).get("output_node"):
            raise RenderRefused(
                f"ComfyUI at {client.url}: binding.output node {out} ({graph[out]['class_type']}) is not an "
                "output node; bind output to the SaveImage whose image is the BG"
            )
        for key, t in self.template.binding.targets():
            cls = graph[t.node]["class_type"]
            spec = (info[cls] or {}).get("input") or {}
            if t.input not in {**(spec.get("required") or {}), **(spec.get("optional") or {})}:
                raise RenderRefused(
                    f"ComfyUI at {client.url}: node {t.node} ({cls}) has no input {t.input!r} "
                    f"(binding.{key}); the server's node is another version than the template's"
                )

    def _find(self, prompt_id: str) -> tuple[str, str] | None:
        """(server, 'queued' | 'done') of a job already on a server: a restarted haikei's job."""
        for url in self.pool.urls:
            client = self.pool.client(url)
            try:
                running, pending = client.queue()
                if prompt_id in running or prompt_id in pending:
                    return url, "queued"
                entry = client.history(prompt_id)
                if entry is not None and (entry.get("status") or {}).get("status_str") != "error":
                    return url, "done"  # a failed or canceled attempt is painted again instead
            except (ServerDown, EngineError):
                continue
        return None

    def _run(self, job: _Job, context: EngineContext) -> bytes:
        found = self._find(job.prompt_id)
        state: str | None = None
        if found is not None:
            job.found_again = True
            job.events.append(f"found on {found[0]} ({found[1]})")
            state = found[1]
        deadline = time.monotonic() + self.config.timeout_s
        with self.pool.lease(context.cancel_event, prefer=found[0] if found else None, wait_s=60.0) as client:
            job.server = client.url
            while True:
                if state is None:
                    if job.submissions > MAX_RESUBMITS:
                        raise EngineError(
                            f"ComfyUI at {client.url} lost job {job.prompt_id} {job.submissions} times "
                            "(restarting?); try again when it is steady"
                        )
                    self._check_nodes(client)
                    context.check_cancel()
                    for up in job.uploads:
                        client.upload(up.name, up.data)
                    context.progress(0.1, "inputs uploaded")
                ws = self._connect(client, job, context, deadline) if state != "done" else None
                try:
                    if state is None:
                        job.submissions += 1
                        job.t_queued = time.perf_counter()
                        client.post_prompt(job.body, job.graph)
                        job.events.append(f"queued on {client.url}")
                        state = "queued"
                    if state == "queued":
                        state = self._follow(ws, client, job, context, deadline)
                finally:
                    if ws is not None:
                        ws.close()
                if state == "lost":
                    job.events.append(f"lost on {client.url}; queued again")
                    state = None
                    continue
                entry = client.history(job.prompt_id)
                if entry is None:
                    running, pending = client.queue()
                    # still finishing (history not written yet): follow on; gone: paint it again
                    state = "queued" if job.prompt_id in running + pending else None
                    continue
                self._raise_on_error(client, job, entry)
                try:
                    return self._fetch(client, job, entry)
                except RenderRefused:
                    raise  # the binding's output gave no image: painting again cannot help
                except EngineError:
                    if job.submissions > MAX_RESUBMITS:
                        raise
                    job.events.append("result file gone; queued again")
                    state = None

    def _connect(
        self, client: ComfyClient, job: _Job, context: EngineContext, deadline: float
    ) -> ClientConnection | None:
        try:
            return connect(
                f"{client.ws_url}?clientId={job.client_id}",
                open_timeout=self.config.connect_timeout_s,
                max_size=None,
                proxy=None,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            text = f"websocket: {type(exc).__name__}"
            if not job.events or job.events[-1] != text:
                job.events.append(text)
            return None  # followed by polling /queue and /history instead

    def _follow(
        self,
        ws: ClientConnection | None,
        client: ComfyClient,
        job: _Job,
        context: EngineContext,
        deadline: float,
    ) -> str:
        """Follow the job until it leaves the server's queue: 'done' (history has it) or 'lost'."""
        n_nodes = max(1, len(job.graph))
        done_nodes: set[str] = set()
        current: str | None = None
        step = 0.0
        last_fraction = 0.1
        last_seen = time.monotonic()
        next_connect, backoff = time.monotonic() + 0.5, 0.5

        def event(text: str) -> None:
            if not job.events or job.events[-1] != text:
                job.events.append(text)

        def report(text: str) -> None:
            nonlocal last_fraction
            frac = 0.1 + 0.85 * min(1.0, (len(done_nodes) + step) / n_nodes)
            if frac > last_fraction:
                last_fraction = frac
            context.progress(last_fraction, text)

        while True:
            if context.canceled:
                self._stop(client, job)
                raise RenderCanceled("render canceled")
            if time.monotonic() > deadline:
                self._stop(client, job)
                raise EngineError(
                    f"ComfyUI at {client.url}: job {job.prompt_id} took longer than timeout_s = "
                    f"{self.config.timeout_s:g} s; it was stopped"
                )
            raw: str | bytes | None = None
            if ws is not None:
                try:
                    raw = ws.recv(timeout=RECV_S)
                except TimeoutError:
                    raw = None
                except ConnectionClosed:
                    event("websocket dropped")
                    ws = None
            else:
                time.sleep(RECV_S)
            if ws is None and time.monotonic() >= next_connect:
                ws = self._connect(client, job, context, deadline)  # same clientId: the session resumes
                if ws is None:
                    next_connect, backoff = time.monotonic() + backoff, min(backoff * 2, 5.0)
                else:
                    backoff = 0.5
                last_seen = time.monotonic() - POLL_S  # poll now: messages may have been missed
            msg = parse_message(raw) if raw is not None else None
            if msg is not None:
                kind, data = msg
                pid = data.get("prompt_id")
                if pid != job.prompt_id and not (kind == "executing" and pid is None and current):
                    continue  # another client's job, or the server's status line
                last_seen = time.monotonic()
                if kind == "execution_start":
                    job.t_started = time.perf_counter()
                elif kind == "execution_cached":
                    done_nodes.update(str(n) for n in data.get("nodes") or [])
                    report("cached nodes skipped")
                elif kind == "executing":
                    node = data.get("node")
                    if current is not None:
                        done_nodes.add(current)
                    step = 0.0
                    if node is None:
                        job.t_finished = time.perf_counter()
                        return "done"
                    current = str(node)
                    if not job.t_started:
                        job.t_started = time.perf_counter()
                    report(f"node {current} ({job.graph.get(current, {}).get('class_type', '?')})")
                elif kind == "progress":
                    mx = float(data.get("max") or 1)
                    step = min(1.0, float(data.get("value") or 0) / mx) if mx > 0 else 0.0
                    report(f"step {data.get('value')}/{data.get('max')}")
                elif kind == "execution_success":
                    # ComfyUI says so before it writes the history: wait for 'executing' None
                    job.t_finished = time.perf_counter()
                    done_nodes.update(job.graph)
                    report("finished")
                elif kind == "execution_error":
                    raise EngineError(_error_line(client.url, data))
                elif kind == "execution_interrupted":
                    raise EngineError(
                        f"ComfyUI at {client.url}: job {job.prompt_id} was interrupted on the server "
                        f"(node {data.get('node_id')} {data.get('node_type', '')}); render it again"
                    )
                continue
            if time.monotonic() - last_seen >= POLL_S:
                last_seen = time.monotonic()
                try:
                    running, pending = client.queue()
                    if job.prompt_id in running or job.prompt_id in pending:
                        continue
                    if client.history(job.prompt_id) is not None:
                        job.t_finished = job.t_finished or time.perf_counter()
                        return "done"
                    return "lost"
                except ServerDown:
                    event("server not answering; waiting")
                    continue

    def _stop(self, client: ComfyClient, job: _Job) -> None:
        """Cancel: take the job off the server's queue, or interrupt it if it is the running one."""
        try:
            running, pending = client.queue()
            if job.prompt_id in pending:
                client.delete_queued(job.prompt_id)
            if job.prompt_id in running:
                client.interrupt(job.prompt_id)
        except (ServerDown, EngineError):
            pass

    def _raise_on_error(self, client: ComfyClient, job: _Job, entry: dict[str, Any]) -> None:
        status = entry.get("status") or {}
        if status.get("status_str") == "error" or status.get("completed") is False:
            for item in status.get("messages") or []:
                if isinstance(item, list) and len(item) == 2 and item[0] == "execution_error":
                    raise EngineError(_error_line(client.url, item[1]))
                if isinstance(item, list) and len(item) == 2 and item[0] == "execution_interrupted":
                    raise EngineError(
                        f"ComfyUI at {client.url}: job {job.prompt_id} was interrupted on the server; "
                        "render it again"
                    )
            raise EngineError(f"ComfyUI at {client.url}: job {job.prompt_id} did not complete")

    def _fetch(self, client: ComfyClient, job: _Job, entry: dict[str, Any]) -> bytes:
        out_node = self.template.binding.output
        outputs = (entry.get("outputs") or {}).get(out_node) or {}
        images = outputs.get("images") or []
        if not images:
            raise RenderRefused(
                f"ComfyUI at {client.url}: the output node {out_node} "
                f"({self.template.class_of(out_node)}) gave no image; bind output to a SaveImage node"
            )
        first = images[0]
        return client.view(
            str(first.get("filename")), str(first.get("subfolder", "")), str(first.get("type", "output"))
        )


def _error_line(url: str, data: dict[str, Any]) -> str:
    msg = str(data.get("exception_message") or "failed").strip().splitlines()
    return (
        f"ComfyUI at {url}: node {data.get('node_id')} ({data.get('node_type', '?')}) failed: "
        f"{data.get('exception_type', 'error')}: {msg[0] if msg else 'failed'}"
    )

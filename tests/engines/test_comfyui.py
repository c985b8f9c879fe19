"""The comfyui engine's protocol, against the stand-in ComfyUI server (tests/engines/comfy_server.py
stands in for ComfyUI, which cannot be installed here): binding checks, byte-identical requests,
what reaches the graph, progress, cancel, kill -9 of haikei mid-job, a server restart, a pool of two
servers, and the errors (one line each, nothing painted)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("websockets")

from haikei.domain.direction import parse_direction
from haikei.engines.base import EngineContext, RenderRequest
from haikei.engines.comfyui import create
from haikei.engines.comfyui.engine import ComfyUIEngine
from haikei.engines.sd.ade20k import ADE20K
from haikei.errors import ConfigError, EngineError, RenderCanceled, RenderRefused
from tests.engines.comfy_server import ComfyStandIn, free_port
from tests.engines.contract import VOCAB, tiny_board, tiny_layout

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "src/haikei/engines/comfyui/templates"
SDXL = "example:sdxl_lineart_ipadapter"


@pytest.fixture
def comfy(tmp_path: Path) -> Iterator[ComfyStandIn]:
    server = ComfyStandIn(tmp_path / "comfy").start()
    yield server
    server.stop()


def engine(server: ComfyStandIn | list[ComfyStandIn], **cfg: Any) -> ComfyUIEngine:
    servers = server if isinstance(server, list) else [server]
    e = create({"servers": [s.url for s in servers], "template": SDXL, **cfg})
    assert isinstance(e, ComfyUIEngine)
    return e


def request(seed: int = 7, **changes: Any) -> RenderRequest:
    lines, regions = tiny_layout()
    base: dict[str, Any] = dict(
        lines=lines,
        regions=regions,
        boards=(tiny_board(),),
        direction=parse_direction("summer evening, backlit"),
        vocabulary=VOCAB,
        seed=seed,
    )
    base.update(changes)
    return RenderRequest(**base)


def sdxl_graph() -> dict[str, Any]:
    return json.loads((TEMPLATES / "sdxl_lineart_ipadapter.json").read_text())


def sdxl_binding() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((TEMPLATES / "sdxl_lineart_ipadapter.binding.toml").read_text())


def write_template(tmp_path: Path, graph: dict[str, Any], name: str = "t.json") -> str:
    p = tmp_path / name
    p.write_text(json.dumps(graph))
    return str(p)


# -- the binding is checked against the template at load -------------------------------------
@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda b: b.update(seed={"node": "99", "input": "seed"}),
            "binding.seed: node '99' is not in the template",
        ),
        (
            lambda b: b.update(seed={"node": "14", "input": "noise_seed"}),
            "binding.seed: node 14 (KSampler) has no input 'noise_seed'; its inputs: cfg, denoise",
        ),
        (
            lambda b: b.update(lines={"node": "6", "input": "image"}),
            "binding.lines: node 6 (ControlNetApplyAdvanced) input 'image' is wired to node '4'",
        ),
        (lambda b: b.update(denoise={"node": "14", "input": "sampler_name"}), "denoise needs a number"),
        (lambda b: b.update(output="77"), "binding.output: node '77' is not in the template"),
        (lambda b: b.pop("mask"), "init and mask go together"),
        (lambda b: (b.pop("lines"), b.pop("art_boards")), "binds neither lines nor regions"),
    ],
)
def test_binding_errors_name_node_and_input(tmp_path: Path, change: Any, words: str) -> None:
    binding = sdxl_binding()
    change(binding)
    cfg = {"servers": ["http://127.0.0.1:9"], "template": str(TEMPLATES / "sdxl_lineart_ipadapter.json")}
    with pytest.raises(ConfigError) as exc:
        create({**cfg, "binding": binding})
    text = str(exc.value)
    assert words in text and "\n" not in text and text.startswith("[engines.comfyui]")


def test_template_errors(tmp_path: Path) -> None:
    ui = write_template(tmp_path, {"nodes": [], "links": [], "version": 0.4}, "ui.json")
    with pytest.raises(ConfigError, match="UI workflow, not API format"):
        create({"servers": ["http://127.0.0.1:9"], "template": ui, "binding": sdxl_binding()})
    with pytest.raises(ConfigError, match="no shipped example 'nope'"):
        create({"servers": ["http://127.0.0.1:9"], "template": "example:nope"})
    with pytest.raises(ConfigError, match=r"binding: missing"):
        create({"servers": ["http://127.0.0.1:9"], "template": str(TEMPLATES / "flux_lineart.json")})
    with pytest.raises(ConfigError, match=r"servers.*http://"):
        create({"servers": ["gpu1:8188"], "template": SDXL})
    # the shipped FLUX example loads with its binding
    assert (
        create(
            {"servers": ["http://127.0.0.1:9"], "template": "example:flux_lineart"}
        ).template.binding.output
        == "16"
    )


# -- the request ------------------------------------------------------------------------------
def test_same_seed_sends_byte_identical_request(tmp_path: Path) -> None:
    a = ComfyStandIn(tmp_path / "a").start()
    b = ComfyStandIn(tmp_path / "b").start()
    try:
        ra = engine(a).render(request(seed=5), EngineContext())
        rb = engine(b).render(request(seed=5), EngineContext())
        engine(a).render(request(seed=6), EngineContext())
        assert a.posts[0] == b.posts[0], "same request, same seed: the bytes sent differ"
        assert a.posts[0] != a.posts[1], "another seed must change the request"
        assert ra.recipe["prompt_id"] == rb.recipe["prompt_id"]
        assert ra.image.tobytes() == rb.image.tobytes()
        body = json.loads(a.posts[0])
        assert body["prompt_id"] == ra.recipe["prompt_id"] and body["client_id"].endswith(
            ra.recipe["prompt_id"]
        )
        assert body["prompt"]["14"]["inputs"]["seed"] == 5
        # uploads are named by their content: unique per image, the same for the same image
        import hashlib

        assert sorted(a.uploads[:4]) == sorted(b.uploads[:4])
        for name in a.uploads:
            digest = hashlib.sha256((a.input_dir / name).read_bytes()).hexdigest()
            assert name.startswith("haikei/haikei-") and digest[:24] in name
    finally:
        a.stop()
        b.stop()


def test_what_reaches_the_graph(comfy: ComfyStandIn) -> None:
    res = engine(comfy).render(request(), EngineContext())
    g = json.loads(comfy.posts[0])["prompt"]
    inputs = comfy.input_dir
    lines = np.asarray(Image.open(inputs / g["4"]["inputs"]["image"]))
    req = request()
    assert np.array_equal(lines[..., 0][: req.height, : req.width], 255 - req.lines), "white lines on black"
    board = np.asarray(Image.open(inputs / g["7"]["inputs"]["image"]))
    assert np.array_equal(board, tiny_board().image)
    mask = np.asarray(Image.open(inputs / g["12"]["inputs"]["image"]))
    assert mask.min() == 255, "a fresh render repaints everything"
    assert g["14"]["inputs"]["denoise"] == 1.0
    assert "summer" in g["2"]["inputs"]["text"] and "evening" in g["2"]["inputs"]["text"]
    assert "watermark" in g["3"]["inputs"]["text"]
    r = res.recipe
    assert r["template_sha256"] and r["models"]["1"] == {
        "class": "CheckpointLoaderSimple",
        "ckpt_name": "sd_xl_base_1.0.safetensors",
    }
    assert r["models"]["5"]["control_net_name"] == "mistoLine_rank256.safetensors"
    assert r["boards_used"] == ["tiny1"] and r["seed"] == 7 and r["engine_version"]
    assert {b["input"] for b in r["bound"]["seed"]} == {"seed"}
    assert res.timings["total_s"] >= res.timings["server_s"] >= 0


def test_flux_example_runs(comfy: ComfyStandIn) -> None:
    """The shipped FLUX template: its graph is valid for the stand-in and its binding complete."""
    e = create({"servers": [comfy.url], "template": "example:flux_lineart"})
    res = e.render(request(), EngineContext())
    assert res.image.shape == (40, 64, 3)
    models = res.recipe["models"]
    assert models["1"]["unet_name"] == "flux1-dev.safetensors" and models["3"]["vae_name"] == "ae.safetensors"
    assert models["2"]["clip_name1"] == "t5xxl_fp16.safetensors"
    assert res.recipe["boards_used"] == []  # no IP-Adapter: no board reaches the graph
    g = json.loads(comfy.posts[0])["prompt"]
    assert g["14"]["inputs"]["seed"] == 7 and "summer" in g["4"]["inputs"]["text"]


def test_polarity_and_region_map_in_a_studio_template(comfy: ComfyStandIn, tmp_path: Path) -> None:
    """A template that inverts the lines itself (black on white in) and a seg ControlNet."""
    g = sdxl_graph()
    g["20"] = {"class_type": "ImageInvert", "inputs": {"image": ["4", 0]}}
    g["6"]["inputs"]["image"] = ["20", 0]
    g["21"] = {"class_type": "LoadImage", "inputs": {"image": "seg.png"}}
    g["22"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "control_v11p_sd15_seg.pth"}}
    g["23"] = {
        "class_type": "ControlNetApplyAdvanced",
        "inputs": {
            "positive": ["6", 0],
            "negative": ["6", 1],
            "control_net": ["22", 0],
            "image": ["21", 0],
            "strength": 0.0,
            "start_percent": 0.0,
            "end_percent": 1.0,
        },
    }
    g["14"]["inputs"]["positive"] = ["23", 0]
    g["14"]["inputs"]["negative"] = ["23", 1]
    binding = sdxl_binding()
    binding["lines"] = {"node": "4", "input": "image", "polarity": "black_on_white"}
    binding["regions"] = {"node": "21", "input": "image"}
    e = create({"servers": [comfy.url], "template": write_template(tmp_path, g), "binding": binding})
    inverted = e.render(request(), EngineContext()).image
    plain = engine(comfy).render(request(), EngineContext()).image
    assert np.array_equal(inverted, plain), "black-on-white through ImageInvert paints like white-on-black"
    sent = json.loads(comfy.posts[0])["prompt"]
    lines = np.asarray(Image.open(comfy.input_dir / sent["4"]["inputs"]["image"]))
    req = request()
    assert np.array_equal(lines[..., 0][: req.height, : req.width], req.lines)
    seg = np.asarray(Image.open(comfy.input_dir / sent["21"]["inputs"]["image"]))
    assert tuple(seg[0, 0]) == ADE20K["sky"][1] and tuple(seg[-1, 0]) == ADE20K["grass"][1]


def test_retake_sends_mask_parent_and_note(comfy: ComfyStandIn) -> None:
    req = request()
    init = np.random.default_rng(1).integers(0, 256, (req.height, req.width, 3), dtype=np.uint8)
    mask = np.zeros((req.height, req.width), bool)
    mask[5:20, 10:30] = True
    res = engine(comfy).render(
        request(mask=mask, init=init, options={"note": "空をもっと夕焼けに、雲を少なく"}), EngineContext()
    )
    assert np.array_equal(res.image[~mask], init[~mask])
    g = json.loads(comfy.posts[0])["prompt"]
    sent_mask = np.asarray(Image.open(comfy.input_dir / g["12"]["inputs"]["image"]))[..., 0]
    assert np.array_equal(sent_mask[: req.height, : req.width] == 255, mask)
    sent_init = np.asarray(Image.open(comfy.input_dir / g["10"]["inputs"]["image"]))
    assert np.array_equal(sent_init[: req.height, : req.width], init)
    assert "sunset" in g["2"]["inputs"]["text"], g["2"]["inputs"]["text"]
    assert res.recipe["mode"] == "retake"
    # a refine repaints the parent partly: denoise = strength
    engine(comfy).render(request(init=init, options={"strength": 0.3}), EngineContext())
    assert json.loads(comfy.posts[1])["prompt"]["14"]["inputs"]["denoise"] == 0.3


def test_bad_options_are_refused_before_anything_is_sent(comfy: ComfyStandIn) -> None:
    with pytest.raises(RenderRefused, match=r"comfyui option strength: .*; fix the render's options"):
        engine(comfy).render(request(options={"strength": 3.0}), EngineContext())
    with pytest.raises(RenderRefused, match="comfyui option steps"):
        engine(comfy).render(request(options={"steps": 3}), EngineContext())
    assert comfy.posts == [] and comfy.uploads == []


def test_output_bound_to_a_node_that_saves_nothing(comfy: ComfyStandIn) -> None:
    binding = {**sdxl_binding(), "output": "15"}  # the VAEDecode, not the SaveImage
    template = str(TEMPLATES / "sdxl_lineart_ipadapter.json")
    with pytest.raises(RenderRefused) as exc:
        create({"servers": [comfy.url], "template": template, "binding": binding}).render(
            request(), EngineContext()
        )
    assert "binding.output node 15 (VAEDecode) is not an output node" in _one_line(exc.value)
    assert comfy.posts == []
    # without the /object_info check the job runs once and its missing image is named
    e = create({"servers": [comfy.url], "template": template, "binding": binding, "check_nodes": False})
    with pytest.raises(RenderRefused, match=r"the output node 15 \(VAEDecode\) gave no image"):
        e.render(request(), EngineContext())
    assert len(comfy.posts) == 1


def test_variant_sends_the_boards_variant_and_its_tag(comfy: ComfyStandIn) -> None:
    from dataclasses import replace

    board = tiny_board()
    winter = np.clip(board.image.astype(np.int16) + 90, 0, 255).astype(np.uint8)
    board = replace(board, variants={"winter": winter})
    req = request()
    parent = np.full((req.height, req.width, 3), 90, np.uint8)
    res = engine(comfy).render(
        request(boards=(board,), init=parent, variant="winter", options={"strength": 0.6}), EngineContext()
    )
    g = json.loads(comfy.posts[0])["prompt"]
    assert np.array_equal(np.asarray(Image.open(comfy.input_dir / g["7"]["inputs"]["image"])), winter)
    assert g["14"]["inputs"]["denoise"] == 0.6 and "winter" in g["2"]["inputs"]["text"]
    assert res.recipe["mode"] == "variant" and res.recipe["variant"] == "winter"


def test_japanese_text_encoder_gets_the_direction_as_written(comfy: ComfyStandIn) -> None:
    e = engine(comfy, prompt_language="ja")
    e.render(request(direction=parse_direction("夏の夕方、逆光")), EngineContext())
    text = json.loads(comfy.posts[0])["prompt"]["2"]["inputs"]["text"]
    assert text.startswith("夏の夕方、逆光") and "背景美術" in text


def test_template_without_init_refuses_a_retake(comfy: ComfyStandIn, tmp_path: Path) -> None:
    binding = sdxl_binding()
    binding.pop("init")
    binding.pop("mask")
    e = create(
        {
            "servers": [comfy.url],
            "template": str(TEMPLATES / "sdxl_lineart_ipadapter.json"),
            "binding": binding,
        }
    )
    req = request()
    init = np.zeros((req.height, req.width, 3), np.uint8)
    mask = np.ones((req.height, req.width), bool)
    with pytest.raises(RenderRefused, match="bind init and mask"):
        e.render(request(init=init, mask=mask), EngineContext())
    assert comfy.posts == []


# -- progress and cancel ------------------------------------------------------------------------
def test_progress_follows_the_websocket(comfy: ComfyStandIn) -> None:
    seen: list[tuple[float, str]] = []
    engine(comfy).render(request(), EngineContext(progress=lambda f, m: seen.append((f, m))))
    texts = [m for _f, m in seen]
    assert any(m == "step 28/28" for m in texts), texts
    assert any("KSampler" in m for m in texts)
    fr = [f for f, _m in seen]
    assert fr == sorted(fr) and fr[-1] == 1.0


def test_cancel_removes_a_queued_job_and_leaves_others_running(comfy: ComfyStandIn) -> None:
    """A job waiting behind someone else's job is taken off the queue; theirs is not interrupted."""
    comfy.control(stall=True)
    other = threading.Thread(target=lambda: _render_quietly(comfy, seed=100))
    other.start()
    assert comfy.stalled.wait(10)
    cancel = threading.Event()
    errors: list[BaseException] = []

    def mine() -> None:
        try:
            e = engine(comfy)
            e.pool._acquire = lambda c, p, w: comfy.url  # type: ignore[method-assign]  # queue behind it
            e.render(request(seed=101), EngineContext(cancel=cancel))
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=mine)
    t.start()
    deadline = time.monotonic() + 10
    while len(comfy.state()["pending"]) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(comfy.state()["pending"]) == 1
    cancel.set()
    t.join(5)
    assert errors and isinstance(errors[0], RenderCanceled)
    assert comfy.state()["pending"] == [], "the canceled job is still queued"
    comfy.control(stall=False)
    other.join(10)
    assert len(comfy.history) == 1 and all(
        h["status"]["status_str"] == "success" for h in comfy.history.values()
    )


def _render_quietly(server: ComfyStandIn, seed: int) -> None:
    engine(server).render(request(seed=seed), EngineContext())


def test_cancel_interrupts_the_running_job(comfy: ComfyStandIn) -> None:
    comfy.control(step_delay=0.05)
    cancel = threading.Event()
    started = threading.Event()
    t0: list[float] = []

    def progress(f: float, m: str) -> None:
        if m.startswith("step"):
            started.set()

    def stop() -> None:
        started.wait(10)
        t0.append(time.perf_counter())
        cancel.set()

    threading.Thread(target=stop).start()
    with pytest.raises(RenderCanceled):
        engine(comfy).render(request(), EngineContext(progress=progress, cancel=cancel))
    assert time.perf_counter() - t0[0] < 1.0
    deadline = time.monotonic() + 5
    while not comfy.history and time.monotonic() < deadline:
        time.sleep(0.02)
    (entry,) = comfy.history.values()
    assert entry["status"]["status_str"] == "error"
    assert entry["status"]["messages"][-1][0] == "execution_interrupted"
    # rendering it again paints it again (the canceled attempt in the history is not the result)
    comfy.control(step_delay=0.0)
    res = engine(comfy).render(request(), EngineContext())
    assert not res.recipe["found_again"] and res.recipe["submissions"] == 1
    (entry,) = comfy.history.values()
    assert entry["status"]["status_str"] == "success"


# -- errors: one line each, nothing painted -------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_server_down_is_one_line() -> None:
    port = free_port()
    e = create({"servers": [f"http://127.0.0.1:{port}"], "template": SDXL, "connect_timeout_s": 2})
    with pytest.raises(EngineError) as exc:
        e.render(request(), EngineContext())
    assert f"127.0.0.1:{port}" in _one_line(exc.value) and "answers" in str(exc.value)


def test_missing_node_class_from_object_info(comfy: ComfyStandIn) -> None:
    comfy.control(missing_classes=["IPAdapterAdvanced"])
    e = engine(comfy)
    with pytest.raises(RenderRefused) as exc:
        e.render(request(), EngineContext())
    text = _one_line(exc.value)
    assert "no node class 'IPAdapterAdvanced' (template node 9)" in text
    assert comfy.posts == [] and comfy.uploads == []
    # the studio installs the custom node: the same engine asks /object_info again and paints
    comfy.control(missing_classes=[])
    assert e.render(request(), EngineContext()).recipe["submissions"] == 1


def test_model_file_missing_on_the_server(comfy: ComfyStandIn, tmp_path: Path) -> None:
    g = sdxl_graph()
    g["1"]["inputs"]["ckpt_name"] = "noobai_xl.safetensors"
    path = write_template(tmp_path, g)
    with pytest.raises(RenderRefused) as exc:
        create({"servers": [comfy.url], "template": path, "binding": sdxl_binding()}).render(
            request(), EngineContext()
        )
    assert (
        "node 1 (CheckpointLoaderSimple) input 'ckpt_name': 'noobai_xl.safetensors' is not on the server"
        in _one_line(exc.value)
    )
    # without the /object_info check the server's own 400 says the same, from node_errors
    with pytest.raises(RenderRefused) as exc:
        create(
            {"servers": [comfy.url], "template": path, "binding": sdxl_binding(), "check_nodes": False}
        ).render(request(), EngineContext())
    assert (
        "refused the graph: node 1 (CheckpointLoaderSimple) input 'ckpt_name': ckpt_name: 'noobai_xl.safetensors' not in"
        in _one_line(exc.value)
    )
    assert comfy.history == {}


def test_unknown_class_answered_400(comfy: ComfyStandIn) -> None:
    comfy.control(missing_classes=["IPAdapterUnifiedLoader"])
    with pytest.raises(RenderRefused) as exc:
        engine(comfy, check_nodes=False).render(request(), EngineContext())
    assert "Cannot execute because node IPAdapterUnifiedLoader does not exist. (Node ID '#8')" in _one_line(
        exc.value
    )


def test_node_failing_on_the_server(comfy: ComfyStandIn) -> None:
    comfy.control(fail_class="VAEDecode")
    with pytest.raises(EngineError) as exc:
        engine(comfy).render(request(), EngineContext())
    assert "node 15 (VAEDecode) failed: RuntimeError: VAEDecode failed on purpose" in _one_line(exc.value)


# -- the socket drops, the server restarts, haikei is killed ------------------------------------
def test_dropped_socket_is_survived(comfy: ComfyStandIn) -> None:
    comfy.control(drop_after_progress=3, step_delay=0.01)
    res = engine(comfy).render(request(seed=21), EngineContext())
    assert "websocket dropped" in res.recipe["events"]
    assert res.recipe["submissions"] == 1 and sum(comfy.executions.values()) == 1
    clean = ComfyStandIn(comfy.root.parent / "clean").start()
    try:
        again = engine(clean).render(request(seed=21), EngineContext())
    finally:
        clean.stop()
    assert again.image.tobytes() == res.image.tobytes()


def test_server_restart_mid_job_queues_again(comfy: ComfyStandIn) -> None:
    comfy.control(stall=True)
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(engine(comfy).render(request(seed=31), EngineContext()))
        except Exception as exc:
            out.append(exc)

    t = threading.Thread(target=run)
    t.start()
    assert comfy.stalled.wait(10)
    comfy.stop()  # like a killed ComfyUI: its queue and history are gone, its input files stay
    time.sleep(0.5)
    comfy.start()  # same port, running freely
    t.join(30)
    assert out, "the render did not finish after the server came back"
    res = out[0]
    assert not isinstance(res, Exception), res
    assert res.recipe["submissions"] == 2 and "queued again" in " ".join(res.recipe["events"])
    # started twice (the first run died with the server), recorded once, by the restarted server
    assert comfy.executions[res.recipe["prompt_id"]] == 2
    assert list(comfy.history) == [res.recipe["prompt_id"]]


KILLED_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {repo!r})
    from haikei.engines.base import EngineContext
    from haikei.engines.comfyui import create
    from tests.engines.test_comfyui import request
    e = create({{"servers": [{url!r}], "template": "example:sdxl_lineart_ipadapter"}})
    e.render(request(seed=41), EngineContext())
    print("finished")
    """
)


def test_kill_9_mid_job_finds_the_job_again(comfy: ComfyStandIn) -> None:
    comfy.control(stall=True)
    script = KILLED_SCRIPT.format(repo=str(REPO), url=comfy.url)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert comfy.stalled.wait(60), proc.stderr.read().decode() if proc.poll() is not None else "no job"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert comfy.state()["posts"] == 1
    # haikei again: the same request finds its job running on the server and follows it
    threading.Timer(1.0, lambda: comfy.control(stall=False)).start()
    res = engine(comfy).render(request(seed=41), EngineContext())
    assert res.recipe["found_again"] and res.recipe["submissions"] == 0
    assert comfy.state()["posts"] == 1, "queued twice"
    assert comfy.executions[res.recipe["prompt_id"]] == 1


# -- a pool of two servers ------------------------------------------------------------------------
def test_pool_of_two_servers_runs_one_job_per_server(tmp_path: Path) -> None:
    a = ComfyStandIn(tmp_path / "a").start()
    b = ComfyStandIn(tmp_path / "b").start()
    a.control(step_delay=0.01)
    b.control(step_delay=0.01)
    results: list[Any] = []
    try:
        threads = [
            threading.Thread(
                target=lambda s=s: results.append(engine([a, b]).render(request(seed=s), EngineContext()))
            )
            for s in range(50, 56)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 6
        assert a.max_depth == 1 and b.max_depth == 1, "a server had two jobs at once"
        used = {r.recipe["server"] for r in results}
        assert used == {a.url, b.url}
        assert sum(a.executions.values()) + sum(b.executions.values()) == 6
        # a server that is down is skipped while the other answers
        b.stop()
        r = engine([a, b]).render(request(seed=60), EngineContext())
        assert r.recipe["server"] == a.url
    finally:
        a.stop()
        b.stop()

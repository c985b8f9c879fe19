"""The comfyui engine inside a production, through the real `haikei render` command: two stand-in
ComfyUI servers (tests/engines/comfy_server.py; it stands in for ComfyUI, which cannot be installed
here) as a pool, two local workers, a retake with a note, delivery signed as
trainedAlgorithmicMedia with the art boards as ingredients, and a refused render that stores
nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

pytest.importorskip("websockets")

from haikei.app import create_production, open_production
from haikei.demo.build import add_bundled_boards
from haikei.demo.scenes import write_demo_layouts
from haikei.domain.models import FrameSize
from haikei.imaging.io import atomic_write_bytes, load_rgb, png_bytes
from haikei.provenance.c2pa_sign import verify
from haikei.provenance.keys import init_keys
from haikei.services.delivery import export
from haikei.services.intake import import_folder
from haikei.services.rendering import RenderSpec, render_spec
from haikei.store.tables import VersionRow
from tests.engines.comfy_server import ComfyStandIn

HAIKEI = str(Path(sys.executable).with_name("haikei"))


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[ComfyStandIn, ComfyStandIn]]:
    a = ComfyStandIn(tmp_path / "comfy_a").start()
    b = ComfyStandIn(tmp_path / "comfy_b").start()
    a.control(step_delay=0.02)
    b.control(step_delay=0.02)
    yield a, b
    a.stop()
    b.stop()


def make_production(root: Path, layouts: Path, urls: list[str]) -> None:
    ctx = create_production(root, "Comfy demo", FrameSize(320, 180), episode="ep01")
    ctx.settings.engines["comfyui"] = {"servers": urls, "template": "example:sdxl_lineart_ipadapter"}
    ctx.settings.render.allowed_engines.append("comfyui")
    atomic_write_bytes(root / "haikei.toml", ctx.settings.dump().encode())
    ctx.close()
    ctx = open_production(root)
    try:
        add_bundled_boards(ctx)
        layouts.mkdir()
        write_demo_layouts(layouts, 320, 180)
        import_folder(ctx, layouts, artist="Layout Artist")
    finally:
        ctx.close()


def haikei(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HAIKEI, *args], capture_output=True, text=True, timeout=300)


def version_count(root: Path) -> int:
    ctx = open_production(root)
    try:
        with ctx.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(VersionRow)) or 0)
    finally:
        ctx.close()


@pytest.mark.slow
def test_haikei_render_through_a_pool_of_two_comfyui_servers(
    tmp_path: Path, servers: tuple[ComfyStandIn, ComfyStandIn]
) -> None:
    a, b = servers
    root = tmp_path / "prod"
    make_production(root, tmp_path / "layouts", [a.url, b.url])
    # 1. `haikei render` with two workers: each server paints one job at a time
    out = haikei(
        "render", "--cuts", "c001,c002,c003", "--engine", "comfyui", "--candidates", "2",
        "--workers", "2", "-p", str(root), "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr + out.stdout
    summary = json.loads(out.stdout)
    assert summary["done"] == 6 and not summary["failed"]
    assert a.max_depth == 1 and b.max_depth == 1
    assert sum(a.executions.values()) > 0 and sum(b.executions.values()) > 0
    ctx = open_production(root)
    try:
        with ctx.db.session() as s:
            rows = list(s.scalars(select(VersionRow).order_by(VersionRow.id)))
            recipes = [(r.id, r.recipe, r.image_blob) for r in rows]
        assert len(recipes) == 6
        for _vid, recipe, _blob in recipes:
            er = recipe["engine_recipe"]
            assert recipe["engine"] == "comfyui"
            assert recipe["digital_source_type"].endswith("trainedAlgorithmicMedia")
            assert er["template_sha256"] and er["server"] in (a.url, b.url)
            assert er["models"]["1"]["ckpt_name"] == "sd_xl_base_1.0.safetensors"
            assert er["boards_used"] and er["prompt_id"]
        pan = next(blob for _v, r, blob in recipes if r["inputs"]["background"] == "c003")
        assert load_rgb(ctx.blobs.get(pan)).shape[:2] == (180, 640)  # a PAN at its full length
        # 2. a retake with a note: outside the mask the parent, byte for byte
        parent_id, _parent_recipe, parent_blob = next(
            x for x in recipes if x[1]["inputs"]["background"] == "c001"
        )
        mask = np.zeros((180, 320), np.uint8)
        mask[20:90, 40:200] = 255
        retake = render_spec(
            ctx,
            RenderSpec(
                bg="c001",
                engine="comfyui",
                kind="retake",
                parent_version_id=parent_id,
                mask_blob=ctx.blobs.put(png_bytes(mask)),
                seed=5,
                options={"note": "夕焼け空に"},
            ),
        )
        before, after = load_rgb(ctx.blobs.get(parent_blob)), load_rgb(ctx.blobs.get(retake.image_blob))
        assert np.array_equal(before[mask < 128], after[mask < 128])
        assert not np.array_equal(before[mask >= 128], after[mask >= 128])
        assert retake.recipe["engine_recipe"]["mode"] == "retake"
        assert "sunset" in retake.recipe["engine_recipe"]["bound"]["positive"][0]["value"]
        # 3. delivery: signed as a trained model's output, the art board an ingredient with its painter
        init_keys(root / "keys", org="Comfy Test Studio")
        res = export(ctx, tmp_path / "delivery", cuts=["c001"])
        png = next(p for p in res.files if p.name.startswith("ep01_c001") and p.suffix == ".png")
        rep = verify(png, trust_anchors=(root / "keys" / "root-ca.pem").read_bytes()).to_dict()
        assert rep["valid"] and rep["source_type"].endswith("trainedAlgorithmicMedia")
        boards = [i for i in rep["ingredients"] if i["artist"] and i["title"] != "layout"]
        assert boards, rep["ingredients"]
    finally:
        ctx.close()


def test_a_refused_render_stores_nothing(tmp_path: Path, servers: tuple[ComfyStandIn, ComfyStandIn]) -> None:
    a, b = servers
    root = tmp_path / "prod"
    make_production(root, tmp_path / "layouts", [a.url, b.url])
    for s in servers:
        s.control(missing_classes=["IPAdapterAdvanced"])
    out = haikei("render", "--cuts", "c001", "--engine", "comfyui", "--candidates", "1", "-p", str(root))
    assert out.returncode == 1
    text = out.stdout + out.stderr
    assert "no node class 'IPAdapterAdvanced' (template node 9)" in text and "Traceback" not in text
    assert version_count(root) == 0 and a.posts == [] and b.posts == []


@pytest.mark.slow
def test_haikei_render_with_worker_processes(
    tmp_path: Path, servers: tuple[ComfyStandIn, ComfyStandIn]
) -> None:
    """`--mode process`: each worker process has its own pool and spreads out by the servers' queues."""
    a, b = servers
    root = tmp_path / "prod"
    make_production(root, tmp_path / "layouts", [a.url, b.url])
    out = haikei(
        "render", "--cuts", "c001,c002", "--engine", "comfyui", "--candidates", "2", "--workers", "2",
        "--mode", "process", "-p", str(root), "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr + out.stdout
    assert json.loads(out.stdout)["done"] == 4
    runs = a.executions + b.executions
    assert len(runs) == 4 and set(runs.values()) == {1}, "a job was painted twice"
    assert version_count(root) == 4

"""Render one cut end to end through `haikei render` and the stand-in ComfyUI server.

    .venv/bin/python docs/comfyui/render_example.py

Starts the stand-in server (tests/engines/comfy_server.py, as a process: it stands in for ComfyUI,
which cannot be installed here), makes a small production in a temporary folder configured with
the shipped SDXL + line-art ControlNet + IP-Adapter template, runs `haikei render --engine comfyui`
and `haikei export`, and writes here: c001_comfyui.png (the delivered PNG), c001_sheet.png (layout |
art board | render), c001_recipe.json (the version's recipe), c001_verify.txt (`haikei verify`) and
c001_review.png (the review page's recipe card, in Debian's headless Chromium).
The stand-in "paints" the IP-Adapter's art board under the layout's lines with seeded grain; a real
ComfyUI paints with the models the template names.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))

from tests.engines.comfy_server import free_port  # noqa: E402

from haikei.app import create_production, open_production  # noqa: E402
from haikei.demo.build import add_bundled_boards  # noqa: E402
from haikei.demo.scenes import write_demo_layouts  # noqa: E402
from haikei.domain.models import FrameSize  # noqa: E402
from haikei.imaging.io import atomic_write_bytes, load_rgb  # noqa: E402

HAIKEI = str(Path(sys.executable).with_name("haikei"))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="haikei-comfy-"))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.engines.comfy_server", "--port", str(port), "--root", str(work / "comfy"),
         "--step-delay", "0.02"],
        cwd=REPO,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{url}/prompt", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        root = work / "prod"
        ctx = create_production(root, "Comfy example", FrameSize(640, 360), episode="ep01")
        ctx.settings.engines["comfyui"] = {"servers": [url], "template": "example:sdxl_lineart_ipadapter"}
        ctx.settings.render.allowed_engines.append("comfyui")
        atomic_write_bytes(root / "haikei.toml", ctx.settings.dump().encode())
        ctx.close()
        ctx = open_production(root)
        add_bundled_boards(ctx)
        write_demo_layouts(work / "layouts", 640, 360)
        from haikei.services.intake import import_folder

        import_folder(ctx, work / "layouts", artist="Layout Artist")
        from haikei.services.backgrounds import set_direction

        set_direction(ctx, "c001", "夏の夕方、逆光、山道")
        ctx.close()
        t0 = time.perf_counter()
        subprocess.run(
            [HAIKEI, "render", "--cuts", "c001", "--engine", "comfyui", "--candidates", "1", "-p", str(root)],
            check=True,
        )
        print(f"haikei render: {time.perf_counter() - t0:.1f} s")
        subprocess.run([HAIKEI, "keys", "init", "-p", str(root)], check=True, capture_output=True)
        subprocess.run([HAIKEI, "export", "--to", str(work / "delivery"), "-p", str(root)], check=True)
        png = next((work / "delivery").rglob("ep01_c001*.png"))
        shutil.copy(png, OUT / "c001_comfyui.png")
        verify = subprocess.run([HAIKEI, "verify", "-p", str(root), str(png)], capture_output=True, text=True)
        (OUT / "c001_verify.txt").write_text(verify.stdout + verify.stderr)
        ctx = open_production(root)
        from sqlalchemy import select

        from haikei.store.tables import VersionRow

        with ctx.db.session() as s:
            row = s.scalars(select(VersionRow)).first()
            assert row is not None
            recipe, blob = row.recipe, row.image_blob
        (OUT / "c001_recipe.json").write_text(json.dumps(recipe, indent=2, ensure_ascii=False) + "\n")
        render = load_rgb(ctx.blobs.get(blob))
        lines = np.asarray(Image.open(work / "layouts" / "c001_lo.png").convert("RGB"))
        board_key = recipe["engine_recipe"]["boards_used"][0]
        board = Image.fromarray(load_rgb(ctx.blobs.get(board_key))).resize((640, 360))
        sheet = np.concatenate([lines, np.asarray(board), render], axis=1)
        Image.fromarray(sheet).quantize(256).save(OUT / "c001_sheet.png", optimize=True)  # docs kept modest
        screenshot(ctx)
        ctx.close()
        print(f"wrote {OUT / 'c001_comfyui.png'} and {OUT / 'c001_sheet.png'}")
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def screenshot(ctx: object) -> None:
    """The review page of c001 with its recipe card, logged in as a director."""
    import threading

    import uvicorn
    from playwright.sync_api import sync_playwright

    from haikei.services.users import add_user
    from haikei.web import create_app

    add_user(ctx, "director", "director", password="director-pw", display_name="Haruka Aoki")  # type: ignore[arg-type]
    app = create_app(ctx, secret_key="comfyui-example", workers=1, executor_mode="thread")  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"], headless=True
            )
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(base + "/cut/c001")
            page.fill('input[name="username"]', "director")
            page.fill('input[name="password"]', "director-pw")
            page.click("button.primary")
            page.wait_for_url(base + "/cut/c001")
            shot = page.screenshot(full_page=False)
            Image.open(io.BytesIO(shot)).quantize(256).save(OUT / "c001_review.png", optimize=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(30)


if __name__ == "__main__":
    main()

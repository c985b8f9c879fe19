"""How long the compare view takes in Chromium on a full-HD BG: page load to the first wipe
drawn, and the difference heat map (computed in the browser). Prints one JSON line.

    PYTHONPATH=. .venv/bin/python docs/review/measure_compare.py [WIDTHxHEIGHT]
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path


def main() -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright
    from tests.conftest import write_board, write_layout

    from haikei.app import create_production
    from haikei.domain.models import FrameSize
    from haikei.services.artboards import add_artboard
    from haikei.services.intake import import_folder
    from haikei.services.rendering import render_backgrounds
    from haikei.services.users import add_user
    from haikei.web import create_app

    w, h = (int(x) for x in (sys.argv[1] if len(sys.argv) > 1 else "1920x1080").split("x"))
    tmp = Path(tempfile.mkdtemp())
    ctx = create_production(tmp / "prod", "measure", FrameSize(w, h))
    img, lab = write_board(tmp, h=270, w=480)
    add_artboard(ctx, img, lab, name="board", tags=["summer"], artist="A", licence="studio", consent=True)
    lay = tmp / "layouts"
    lay.mkdir()
    write_layout(lay, "c001", h=h, w=w)
    import_folder(ctx, lay)
    render_backgrounds(ctx, ["c001"], engine="baseline", candidates=2, actor="measure")
    add_user(ctx, "director", "director", password="director-pw")
    app = create_app(ctx, secret_key="measure", workers=1, executor_mode="thread")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, object] = {"size": f"{w}x{h}"}
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--headless"])
        page = b.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(base + "/login")
        page.fill('input[name="username"]', "director")
        page.fill('input[name="password"]', "director-pw")
        page.click("button.primary")
        page.wait_for_url(base + "/")
        t0 = time.perf_counter()
        page.goto(base + "/cut/c001")
        while not page.locator("#compare").get_attribute("data-ready"):
            time.sleep(0.01)
        out["cut_page_to_wipe_drawn_s"] = round(time.perf_counter() - t0, 2)
        page.click('#compare [data-mode="diff"]')
        while not page.locator("#compare").get_attribute("data-diff-ms"):
            time.sleep(0.01)
        out["difference_map_ms"] = int(page.locator("#compare").get_attribute("data-diff-ms") or 0)
        out["differing_share"] = float(page.locator("#compare").get_attribute("data-diff-share") or 0)
        b.close()
    server.should_exit = True
    ctx.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

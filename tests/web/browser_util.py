"""What the Chromium tests share: the site served on a free local port, logging in through the
login page, and waiting on something in the page."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(ctx: Any, secret_key: str) -> Iterator[str]:
    """The review site of the production ``ctx``, served by uvicorn on a free local port in a
    thread; yields the base URL. The production is closed when the site stops."""
    import uvicorn

    from haikei.web import create_app

    try:
        app = create_app(ctx, secret_key=secret_key, workers=1, executor_mode="thread")
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(30)
    finally:
        ctx.close()


def login(page: Any, base: str, user: str, password: str, path: str = "/cut/c001") -> None:
    """Open ``path`` logged out, log in on the login page it sends you to, and land on ``path``."""
    page.goto(base + path)
    assert "/login" in page.url
    page.fill('input[name="username"]', user)
    page.fill('input[name="password"]', password)
    page.click("button.primary")
    page.wait_for_url(base + path)


def wait_until(check: Any, timeout: float = 20.0) -> None:
    """Poll ``check()`` (a page.evaluate: CDP, not eval inside the page, so the CSP allows it)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting in the page"
        time.sleep(0.05)

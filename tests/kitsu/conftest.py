"""A real Kitsu server (zou from PyPI, in its own virtualenv) for the Kitsu sync tests.

``kitsu_server`` (session): ``scripts/kitsu-test-server.sh start`` once per test session, with
its data kept in $TMPDIR/haikei-kitsu-test-server-UID (the database is made once; later sessions
only start the three processes), stopped at the end. It is skipped only when this system cannot
provide it: no redis-server or PostgreSQL server binaries (Debian: apt-get install redis-server
postgresql), or zou cannot be installed (no package index reachable); any other failure fails.

``kitsu_admin`` (session): a logged-in connection as the server's admin, used by the tests to
act as the Kitsu web app would (make projects, shots, people; comment; draw on previews).

``kitsu_prod`` (function): a haikei production whose haikei.toml has ``[kitsu]`` pointing at a
fresh Kitsu project of its own (unique name), credentials in the environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import tomli_w

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kitsu-test-server.sh"
# not under a home folder: the postgres and redis users must reach it (a root home is private)
STATE = Path(tempfile.gettempdir()) / f"haikei-kitsu-test-server-{os.getuid()}"
ENV = {
    "KITSU_SERVER_DIR": str(STATE),
    "KITSU_PORT": os.environ.get("HAIKEI_TEST_KITSU_PORT", "58180"),
    "KITSU_PG_PORT": os.environ.get("HAIKEI_TEST_KITSU_PG_PORT", "54429"),
    "KITSU_REDIS_PORT": os.environ.get("HAIKEI_TEST_KITSU_REDIS_PORT", "63899"),
    "KITSU_ADMIN_EMAIL": "admin@example.com",
    "KITSU_ADMIN_PASSWORD": "haikei-kitsu-test",
    "KITSU_WORKERS": "2",
}


@dataclass
class KitsuServer:
    host: str
    email: str
    password: str

    def env(self) -> dict[str, str]:
        return {
            "HAIKEI_KITSU_HOST": self.host,
            "HAIKEI_KITSU_EMAIL": self.email,
            "HAIKEI_KITSU_PASSWORD": self.password,
        }


def _missing() -> str | None:
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (apt-get install redis-server)"
    if not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
        return "PostgreSQL server binaries are not installed (apt-get install postgresql)"
    if shutil.which("curl") is None:
        return "curl is not installed"
    return None


@pytest.fixture(scope="session")
def kitsu_server() -> Iterator[KitsuServer]:
    pytest.importorskip("gazu", reason="gazu is not installed: pip install 'haikei[kitsu]'")
    why = _missing()
    if why:
        pytest.skip(f"no Kitsu test server: {why}")
    env = {**os.environ, **ENV}
    venv = Path(env.get("KITSU_VENV", ROOT / ".kitsu-venv"))
    if not (venv / "bin" / "zou").exists():
        STATE.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(
            ["python3", "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300, check=False
        )
        r2 = (
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "-q", "zou"],
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )
            if r.returncode == 0
            else r
        )
        if r2.returncode != 0:
            pytest.skip(
                f"no Kitsu test server: zou could not be installed ({(r2.stderr or '').strip()[-300:]})"
            )
    was_running = (
        subprocess.run(
            [str(SCRIPT), "status"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        ).returncode
        == 0
    )
    STATE.mkdir(parents=True, exist_ok=True)
    log = STATE.parent / f"{STATE.name}.start.log"
    with open(log, "wb") as out:  # a file, not a pipe: the servers it starts outlive the script
        started = subprocess.run(
            [str(SCRIPT), "start"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            timeout=600,
            check=False,
        )
    if started.returncode != 0:
        pytest.fail(f"scripts/kitsu-test-server.sh start failed:\n{log.read_text()[-2000:]}")
    yield KitsuServer(
        f"http://127.0.0.1:{ENV['KITSU_PORT']}", ENV["KITSU_ADMIN_EMAIL"], ENV["KITSU_ADMIN_PASSWORD"]
    )
    if not was_running:
        subprocess.run(
            [str(SCRIPT), "stop"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="session")
def kitsu_admin(kitsu_server: KitsuServer) -> Any:
    from haikei.kitsu.client import Kitsu

    return Kitsu(kitsu_server.host, email=kitsu_server.email, password=kitsu_server.password)


@dataclass
class KitsuProd:
    ctx: Any  # haikei ServiceContext
    root: Path
    project: dict[str, Any]
    admin: Any  # haikei.kitsu.client.Kitsu as the admin (acts as the Kitsu web app)
    server: KitsuServer

    def reopen(self) -> Any:
        from haikei.app import open_production

        self.ctx.close()
        self.ctx = open_production(self.root)
        return self.ctx


def set_kitsu(root: Path, **values: Any) -> None:
    """Write fields of haikei.toml's [kitsu] section."""
    path = root / "haikei.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.setdefault("kitsu", {}).update(values)
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


@pytest.fixture
def kitsu_prod(
    production: Any, kitsu_server: KitsuServer, kitsu_admin: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KitsuProd]:
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        "haikei.services.users._hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    for key, value in kitsu_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HAIKEI_KITSU_TOKEN", raising=False)
    name = f"haikei-test-{uuid.uuid4().hex[:10]}"
    project = kitsu_admin.post("data/projects", {"name": name, "production_type": "short"})
    root = production.root
    set_kitsu(root, project=name)
    kp = KitsuProd(production, root, project, kitsu_admin, kitsu_server)
    kp.reopen()
    yield kp
    kp.ctx.close()


# -- acting in Kitsu as its web app would -------------------------------------------------------------


def person(admin: Any, first: str, last: str, email: str, role: str = "user") -> dict[str, Any]:
    found = admin.fetch_first("persons", {"email": email})
    if found:
        return found  # type: ignore[no-any-return]
    return admin.post(  # type: ignore[no-any-return]
        "data/persons", {"first_name": first, "last_name": last, "email": email, "role": role}
    )


def new_shots(
    admin: Any, project: dict[str, Any], names: list[str], seq: str = "SQ01", **data: Any
) -> list[dict[str, Any]]:
    import gazu

    sq = admin._call(lambda: gazu.shot.new_sequence(project, seq, client=admin.client), "new sequence")
    out = []
    for n in names:
        out.append(
            admin._call(
                lambda n=n: gazu.shot.new_shot(
                    project, sq, n, nb_frames=24, data=dict(data.get(n, {})), client=admin.client
                ),
                "new shot",
            )
        )
    return out


def comment(admin: Any, task_id: str, status: str, text: str, person_id: str) -> dict[str, Any]:
    st = admin.fetch_first("task-status", {"short_name": status})
    return admin.post(  # type: ignore[no-any-return]
        f"actions/tasks/{task_id}/comment",
        {"task_status_id": st["id"], "comment": text, "person_id": person_id},
    )


@pytest.fixture
def reviewed_in_kitsu(kitsu_prod: KitsuProd, layouts_dir: Path) -> KitsuProd:
    """Cuts c001, c002 and the shared c003-c004 in haikei (intake), rendered; the same shots in
    Kitsu; Dana (director) and Aki (artist) in both."""
    from haikei.services.intake import import_folder
    from haikei.services.rendering import render_backgrounds
    from haikei.services.users import add_user

    ctx, admin = kitsu_prod.ctx, kitsu_prod.admin
    import_folder(ctx, layouts_dir, artist="Layout Person")
    render_backgrounds(ctx, ["c001", "c002"], engine="baseline", candidates=1, actor="test")
    render_backgrounds(ctx, ["c003"], engine="baseline", candidates=2, actor="test")
    add_user(ctx, "dana", "director", password="dana-password", display_name="Dana Director")
    add_user(ctx, "aki", "artist", password="aki-password", display_name="Aki Tanaka")
    person(admin, "Dana", "Director", "dana@haikei-studio.jp", role="supervisor")
    person(admin, "Aki", "Tanaka", "aki@haikei-studio.jp")
    new_shots(admin, kitsu_prod.project, ["c001", "c002", "c003", "c004"])
    return kitsu_prod


def bg_task(kp: KitsuProd, shot: str) -> dict[str, Any]:
    admin = kp.admin
    sh = admin.fetch_first("entities", {"project_id": kp.project["id"], "name": shot})
    tt = admin.fetch_first("task-types", {"name": "Background"})
    return admin.fetch_first("tasks", {"entity_id": sh["id"], "task_type_id": tt["id"]})  # type: ignore[no-any-return]


def task_comments(kp: KitsuProd, task_id: str) -> list[dict[str, Any]]:
    return sorted(kp.admin.get(f"data/tasks/{task_id}/comments"), key=lambda c: c["created_at"])


# -- a flaky network in front of the real server -------------------------------------------------------


class FlakyProxy:
    """An HTTP proxy on 127.0.0.1 in front of the real Kitsu: answers ``fail_status`` (503) to the
    next ``fail_next`` requests, or to every request while ``down`` is set, and forwards the rest
    unchanged. (What it stands in for, a load balancer answering 5xx, cannot run here.)"""

    def __init__(self, upstream: str) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        self.fail_next = 0
        self.down = False
        self.fail_status = 503
        self.failed = 0
        self.forwarded = 0
        up = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.down or proxy.fail_next > 0:
                    proxy.fail_next = max(0, proxy.fail_next - 1)
                    proxy.failed += 1
                    page = b"<h1>Service unavailable</h1>"
                    self.send_response(proxy.fail_status)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                conn = http.client.HTTPConnection(up.hostname or "127.0.0.1", up.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                r = conn.getresponse()
                data = r.read()
                proxy.forwarded += 1
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky(kitsu_server: KitsuServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyProxy]:
    p = FlakyProxy(kitsu_server.host)
    yield p
    p.close()

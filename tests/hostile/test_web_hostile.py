"""Hostile input to the review server, through its ASGI app (a real `haikei serve` where only a
real server shows the fault): one table of cases, each refused, each leaving nothing stored.

To add a case, add one ``Case`` to ``CASES``: who sends it (see ``WHO``), the request (the
placeholders ``{lock}``, ``{vid}``, ``{big}``, ``{mask}`` are filled in from the production:
a value that is exactly a placeholder keeps its type), the status it must answer, and a regex
its message must contain. Every case also checks that nothing was stored (every row of every
table and every blob file, by ``tests.conftest.snapshot``), that the answer is not a 500, and
that it carries the security headers.
"""

from __future__ import annotations

import base64
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from haikei.imaging.io import load_rgb, png_bytes
from haikei.services.context import ServiceContext
from tests.conftest import snapshot
from tests.web.conftest import PASSWORDS, bg_state, csrf_of

W, H = 64, 40
BIG = 2**64  # SQLite refuses >= 2^63 (OverflowError), PostgreSQL ids are int4
SECURITY_HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")


def mask_b64(x0: int = 10, y0: int = 8, x1: int = 30, y1: int = 24) -> str:
    m = np.zeros((H, W, 4), np.uint8)
    m[y0:y1, x0:x1] = (255, 40, 80, 255)
    return "data:image/png;base64," + base64.b64encode(png_bytes(m)).decode("ascii")


@dataclass(frozen=True)
class Case:
    id: str
    who: str  # a key of WHO
    method: str
    path: str
    expect: int
    says: str = ""  # regex the answer (JSON error or page) must contain
    json: Any = None
    form: dict[str, Any] | None = None
    file: bytes | None = None  # sent as multipart 'file' (NAME.png) with ``form``
    headers: dict[str, str] = field(default_factory=dict)


PICK = {"version_id": "{big}", "lock_version": "{lock}"}
RETAKE = {"version_id": "{vid}", "lock_version": "{lock}", "text": "less grey", "mask": "{mask}"}

CASES: list[Case] = [
    # -- sessions: a kept cookie is refused once the server-side session is ended (item 1)
    Case("replayed-cookie-read", "art:after-logout", "GET", "/api/bgs/c001", 401, "ended"),
    Case(
        "replayed-cookie-change",
        "art:after-logout",
        "POST",
        "/api/bgs/c001/retake",
        401,
        "ended",
        json=RETAKE,
    ),
    Case("replayed-cookie-page", "art:after-logout", "GET", "/cut/c001", 303),
    Case(
        "replayed-cookie-form",
        "dir:after-logout",
        "POST",
        "/cut/c001/approve",
        303,
        form={"version_id": "{vid}", "lock_version": "{lock}"},
    ),
    Case("cookie-after-passwd", "art:after-passwd", "GET", "/api/me", 401, "password changed"),
    Case("cookie-after-passwd-change", "art:after-passwd", "POST", "/api/bgs/c001/retake", 401, json=RETAKE),
    Case(
        "cookie-after-role-change",
        "dir:after-role",
        "POST",
        "/api/bgs/c001/approve",
        401,
        "role changed",
        json={"version_id": "{vid}", "lock_version": "{lock}"},
    ),
    Case("cookie-expired", "art:expired", "GET", "/api/cuts", 401, "expired"),
    Case("cookie-forged", "forged-cookie", "GET", "/api/me", 401, "log in"),
    Case("no-session", "anon", "POST", "/api/bgs/c001/retake", 401, json=RETAKE),
    # -- ids beyond any row: 404 in a path, 422 in a body or query, never a 500 (item 4)
    Case("big-id-image", "view", "GET", "/img/v/99999999999999999999", 404, "version_id"),
    Case("big-id-diff", "view", "GET", "/img/v/{big}/diff", 404),
    Case("big-id-layout", "view", "GET", "/img/layout/{big}/lines", 404),
    Case("big-id-note-mask", "view", "GET", "/img/note/{big}/mask", 404),
    Case("negative-id-image", "view", "GET", "/img/v/-1", 404),
    Case("zero-id-job", "view", "GET", "/api/jobs/0", 404),
    Case("big-id-job", "view", "GET", "/api/jobs/{big}", 404, "job_id"),
    Case("text-id-job", "view", "GET", "/api/jobs/1e3", 404),
    Case("big-id-page-query", "view", "GET", "/cut/c001?v={big}", 400),
    Case("big-id-pick", "dir", "POST", "/api/bgs/c001/pick", 422, "version_id", json=PICK),
    Case("big-id-approve", "dir", "POST", "/api/bgs/c001/approve", 422, "version_id", json=PICK),
    Case(
        "big-id-reject",
        "dir",
        "POST",
        "/api/bgs/c001/reject",
        422,
        "version_id",
        json={"version_id": "{big}", "lock_version": "{lock}", "text": "no"},
    ),
    Case(
        "big-id-retake",
        "art",
        "POST",
        "/api/bgs/c001/retake",
        422,
        "version_id",
        json={**RETAKE, "version_id": "{big}"},
    ),
    Case(
        "big-id-variant-approve",
        "dir",
        "POST",
        "/api/bgs/c001/variants/{big}/approve",
        404,
        json={"lock_version": "{lock}"},
    ),
    Case(
        "big-id-paintover",
        "art",
        "POST",
        "/api/bgs/c001/paintover",
        422,
        "version_id",
        form={"version_id": "{big}", "lock_version": "{lock}"},
        file=b"\x89PNG\r\n\x1a\n",
    ),
    Case(
        "big-id-page-form",
        "dir",
        "POST",
        "/cut/c001/variants/{big}/approve",
        404,
        form={"lock_version": "{lock}"},
    ),
    # -- a refused retake stores nothing, not even its mask (item 5)
    Case(
        "retake-unknown-engine",
        "art",
        "POST",
        "/api/bgs/c001/retake",
        403,
        "allow-list",
        json={**RETAKE, "engine": "nope"},
    ),
    Case(
        "retake-sd-without-weights",
        "art",
        "POST",
        "/api/bgs/c001/retake",
        422,
        "sd",
        json={**RETAKE, "engine": "sd"},
    ),
    Case(
        "retake-stale-lock",
        "art",
        "POST",
        "/api/bgs/c001/retake",
        409,
        "changed by someone",
        json={**RETAKE, "lock_version": 9999},
    ),
]


# -- who sends a case -------------------------------------------------------------------------


def log_in(client: TestClient, name: str, password: str | None = None) -> str:
    """Log in through the form; returns the new session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": name, "password": password or PASSWORDS[name], "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and not r.headers["location"].startswith("/login"), r.headers
    return csrf_of(client.get("/login").text)


@pytest.fixture
def clients(app: Any) -> Iterator[Callable[..., tuple[TestClient, str]]]:
    """clients(name) -> (TestClient logged in as name, its CSRF token); clients() -> anonymous."""
    made: list[TestClient] = []

    def make(name: str | None = None) -> tuple[TestClient, str]:
        c = TestClient(app, follow_redirects=False)
        c.__enter__()
        made.append(c)
        return c, (log_in(c, name) if name else "")

    yield make
    for c in made:
        c.__exit__(None, None, None)


def _replay(app: Any, c: TestClient, csrf: str) -> tuple[TestClient, str]:
    """A new client holding a copy of ``c``'s cookies (what an attacker saved)."""
    copy = TestClient(app, follow_redirects=False)
    copy.__enter__()
    for name, value in c.cookies.items():
        copy.cookies.set(name, value)
    return copy, csrf


def _logged_out(name: str) -> Callable[..., tuple[TestClient, str]]:
    def make(app: Any, clients: Any, ctx: ServiceContext) -> tuple[TestClient, str]:
        c, csrf = clients(name)
        kept = _replay(app, c, csrf)
        r = c.post("/logout", data={"csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/login"
        return kept

    return make


def _after_cli(name: str, *argv: str) -> Callable[..., tuple[TestClient, str]]:
    def make(app: Any, clients: Any, ctx: ServiceContext) -> tuple[TestClient, str]:
        from haikei.cli.main import main

        c, csrf = clients(name)
        assert c.get("/api/me").status_code == 200
        main([*argv, "-p", str(ctx.root)])  # the real CLI command, as a studio admin runs it
        return c, csrf

    return make


def _expired(app: Any, clients: Any, ctx: ServiceContext) -> tuple[TestClient, str]:
    from datetime import timedelta

    from sqlalchemy import update

    from haikei.store.tables import WebSessionRow, utcnow

    c, csrf = clients("art")
    with ctx.db.session() as s:
        s.execute(update(WebSessionRow).values(expires_at=utcnow() - timedelta(seconds=1)))
    return c, csrf


def _forged(app: Any, clients: Any, ctx: ServiceContext) -> tuple[TestClient, str]:
    c, _ = clients()
    c.cookies.set("haikei_session", "eyJzaWQiOiAiYWJjIn0=.forged.signature")
    return c, ""


WHO: dict[str, Callable[..., tuple[TestClient, str]]] = {
    "anon": lambda app, clients, ctx: clients(),
    "dir": lambda app, clients, ctx: clients("dir"),
    "art": lambda app, clients, ctx: clients("art"),
    "view": lambda app, clients, ctx: clients("view"),
    "art:after-logout": _logged_out("art"),
    "dir:after-logout": _logged_out("dir"),
    "art:after-passwd": _after_cli("art", "user", "passwd", "art", "--password", "a-new-password"),
    "dir:after-role": _after_cli("dir", "user", "role", "dir", "artist"),
    "art:expired": _expired,
    "forged-cookie": _forged,
}


def _fill(value: Any, subst: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, subst) for k, v in value.items()}
    if isinstance(value, str):
        if value in subst:
            return subst[value]
        return re.sub(r"\{\w+\}", lambda m: str(subst.get(m.group(0), m.group(0))), value)
    return value


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_request_is_refused_and_stores_nothing(case: Case, app, clients, reviewed) -> None:
    state, _ = clients("view")
    bg = bg_state(state, "c001")
    subst = {
        "{lock}": bg["lock_version"],
        "{vid}": bg["current_version_id"],
        "{big}": BIG,
        "{mask}": mask_b64(),
    }
    client, csrf = WHO[case.who](app, clients, reviewed)
    headers = (
        {"X-CSRF-Token": csrf, "Accept": "application/json", **case.headers} if csrf else dict(case.headers)
    )
    path = _fill(case.path, subst)
    before = snapshot(reviewed)
    if case.file is not None:
        files = {"file": ("paint.png", case.file, "image/png")}
        r = client.post(path, data=_fill(case.form, subst), files=files, headers=headers)
    elif case.form is not None:
        form = {"csrf_token": csrf, **_fill(case.form, subst)}
        r = client.post(path, data=form, headers={**headers, "Accept": "text/html"})
    elif case.method == "POST":
        r = client.post(path, json=_fill(case.json, subst), headers=headers)
    else:
        r = client.get(path, headers=headers)
    assert r.status_code == case.expect, (r.status_code, r.text[:400])
    if case.says:
        assert re.search(case.says, r.text), r.text[:400]
    for h in SECURITY_HEADERS:
        assert h in r.headers, (h, dict(r.headers))
    if case.expect == 303:  # a page without a live session goes to the login form
        assert r.headers["location"].startswith("/login"), r.headers["location"]
    assert snapshot(reviewed) == before, "a refused request stored something"


# -- faults that need more than one request: each still through the real app ------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(reviewed: ServiceContext) -> Iterator[str]:
    """A real `haikei serve` (uvicorn, as a studio runs it) on 127.0.0.1 for the production."""
    port = _free_port()
    exe = Path(sys.executable).with_name("haikei")
    proc = subprocess.Popen(
        [str(exe), "serve", "-p", str(reviewed.root), "--port", str(port), "--workers", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "haikei serve did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _failed_login(c: Any, name: str, forged: str | None) -> str:
    """One wrong-password login through the form; returns the message the login page shows."""
    token = csrf_of(c.get("/login").text)
    headers = {"X-Forwarded-For": forged} if forged else {}
    r = c.post(
        "/login", data={"username": name, "password": "wrong-password", "csrf_token": token}, headers=headers
    )
    assert r.status_code == 303, r.text[:300]
    page = c.get(r.headers["location"]).text
    m = re.search(r'id="error">(.*?)</div>', page, re.S)
    assert m, page[:400]
    return m.group(1)


def test_forged_forwarded_for_does_not_escape_the_login_throttle(served: str, reviewed) -> None:
    """Item 2: five failed logins from one machine, each for another name and with another
    forged X-Forwarded-For: the sixth is throttled (the peer address is the client)."""
    import httpx

    from haikei.services.users import add_user

    for i in range(6):
        add_user(reviewed, f"guess{i}", "viewer", password=f"password-{i}")
    with httpx.Client(base_url=served, follow_redirects=False, timeout=30) as c:
        said = [_failed_login(c, f"guess{i}", f"203.0.113.{i + 1}") for i in range(6)]
    assert all("wrong user name or password" in m for m in said[:5]), said
    assert "too many failed logins" in said[5], said
    # and every answer of the real server carries the security headers
    with httpx.Client(base_url=served) as c:
        r = c.get("/login")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(reviewed) -> None:
    from haikei.web import create_app

    reviewed.settings.web.trusted_proxies = ["10.0.0.0/8"]
    app = create_app(reviewed, secret_key="k")
    with TestClient(app, follow_redirects=False, client=("10.1.2.3", 4444)) as proxy:
        for i in range(5):  # five names from one real client behind the proxy
            _failed_login(proxy, f"nobody{i}", "198.51.100.7, 10.9.9.9")
        assert "too many failed logins" in _failed_login(proxy, "nobody9", "198.51.100.7")
        # another client behind the same proxy is not locked out by that one
        assert "wrong user name" in _failed_login(proxy, "nobody10", "198.51.100.8")
    with TestClient(app, follow_redirects=False, client=("192.0.2.1", 4444)) as direct:
        for i in range(5):  # not a trusted proxy: its X-Forwarded-For is ignored
            _failed_login(direct, f"other{i}", f"198.51.100.{20 + i}")
        assert "too many failed logins" in _failed_login(direct, "other9", "198.51.100.99")


def test_unknown_user_costs_the_same_argon2_work_as_a_known_one(reviewed, monkeypatch) -> None:
    """Item 3: an unknown name is verified against a dummy hash: one verify, no hash, exactly as
    a wrong password for a known name (work counted, not timed)."""
    from argon2 import PasswordHasher

    from haikei.errors import PermissionDenied
    from haikei.services.users import authenticate

    calls: list[str] = []

    class Counting(PasswordHasher):
        def hash(self, *a: Any, **k: Any) -> str:
            calls.append("hash")
            return super().hash(*a, **k)

        def verify(self, *a: Any, **k: Any) -> bool:
            calls.append("verify")
            return super().verify(*a, **k)

    monkeypatch.setattr(
        "haikei.services.users._hasher", lambda: Counting(time_cost=1, memory_cost=1024, parallelism=1)
    )
    work: dict[str, list[str]] = {}
    for name in ("art", "nobody-at-all", "art", "nobody-else"):
        calls.clear()
        with pytest.raises(PermissionDenied, match="wrong user name or password"):
            authenticate(reviewed, name, "not-the-password")
        work.setdefault(name, calls.copy())
    assert work["art"] == ["verify"], work
    assert work["nobody-at-all"] == work["art"] and work["nobody-else"] == work["art"], work


def _blobs_nobody_references(ctx: ServiceContext) -> set[str]:
    from haikei.jobs.gc import referenced_blobs

    return set(ctx.blobs.keys()) - referenced_blobs(ctx)


def _painted(ctx: ServiceContext, version_id: int, colour: tuple[int, int, int]) -> bytes:
    from haikei.store.tables import VersionRow

    with ctx.db.session() as s:
        blob = s.get(VersionRow, version_id).image_blob
    img = load_rgb(ctx.blobs.get(blob)).copy()
    img[5:15, 5:25] = colour
    return png_bytes(img)


def _at_once(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(0..n-1) in n threads released together."""
    gate = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        gate.wait()
        out[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out


def test_concurrent_paintovers_leave_no_orphan_blobs(clients, reviewed) -> None:
    """Item 5: four artists upload a paint-over of the same version at once (two of them the
    same picture): one wins, three get 409, and no blob is left that nothing points at."""
    people = [clients("art") for _ in range(4)]
    bg = bg_state(people[0][0], "c001")
    vid, lock = bg["current_version_id"], bg["lock_version"]
    files = [
        _painted(reviewed, vid, c) for c in ((250, 20, 200), (250, 20, 200), (20, 250, 20), (20, 20, 250))
    ]
    orphans_before = _blobs_nobody_references(reviewed)

    def upload(i: int) -> int:
        c, csrf = people[i]
        r = c.post(
            "/api/bgs/c001/paintover",
            data={"version_id": str(vid), "lock_version": str(lock)},
            files={"file": ("paint.png", files[i], "image/png")},
            headers={"X-CSRF-Token": csrf},
        )
        return r.status_code

    codes = _at_once(4, upload)
    assert sorted(codes) == [200, 409, 409, 409], codes
    assert _blobs_nobody_references(reviewed) == orphans_before


def test_concurrent_retakes_leave_no_orphan_blobs(clients, reviewed) -> None:
    people = [clients("art") for _ in range(3)]
    bg = bg_state(people[0][0], "c001")
    body = {"version_id": bg["current_version_id"], "lock_version": bg["lock_version"], "text": "less grey"}
    masks = [mask_b64(10, 8, 30, 24), mask_b64(2, 2, 20, 20), mask_b64(30, 10, 60, 35)]
    orphans_before = _blobs_nobody_references(reviewed)

    def retake(i: int) -> int:
        c, csrf = people[i]
        return c.post(
            "/api/bgs/c001/retake", json={**body, "mask": masks[i]}, headers={"X-CSRF-Token": csrf}
        ).status_code

    codes = _at_once(3, retake)
    assert sorted(codes) == [200, 409, 409], codes
    assert _blobs_nobody_references(reviewed) == orphans_before


def test_blob_scope_removes_only_what_a_failed_change_alone_created(tmp_path: Path) -> None:
    from haikei.store.blobs import BlobStore

    store = BlobStore(tmp_path / "blobs")
    old = store.put(b"there before")
    with pytest.raises(RuntimeError), store.scope() as w:
        assert w.put(b"there before") == old
        mine = w.put(b"only mine")
        raise RuntimeError("lost the race")
    assert store.exists(old) and not store.exists(mine)
    # two changes write the same bytes; the one that fails first must not take it from the other
    a_ctx, b_ctx = store.scope(), store.scope()
    a, b = a_ctx.__enter__(), b_ctx.__enter__()
    key = a.put(b"shared")
    b.put(b"shared")
    a_ctx.__exit__(RuntimeError, RuntimeError("a lost"), None)
    assert store.exists(key)
    b_ctx.__exit__(None, None, None)  # b committed: its row points at the blob
    assert store.exists(key)
    # ... and when the last of them fails too, the blob goes
    a_ctx, b_ctx = store.scope(), store.scope()
    a, b = a_ctx.__enter__(), b_ctx.__enter__()
    key = a.put(b"shared, both lose")
    b.put(b"shared, both lose")
    b_ctx.__exit__(RuntimeError, RuntimeError("b lost"), None)
    assert store.exists(key)
    a_ctx.__exit__(RuntimeError, RuntimeError("a lost"), None)
    assert not store.exists(key)
    # a committed change that an earlier loser shared: kept
    a_ctx, b_ctx = store.scope(), store.scope()
    a, b = a_ctx.__enter__(), b_ctx.__enter__()
    key = a.put(b"a wins")
    b.put(b"a wins")
    a_ctx.__exit__(None, None, None)
    b_ctx.__exit__(RuntimeError, RuntimeError("b lost"), None)
    assert store.exists(key) and not store._pending


def _all_routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included routers
        yield from _all_routes(inner.routes) if inner is not None else [route]


def _int_path_routes(app: Any) -> list[tuple[str, str, list[str]]]:
    from fastapi.routing import APIRoute

    out = []
    for route in _all_routes(app.routes):
        if not isinstance(route, APIRoute):
            continue
        ints = [p.name for p in route.dependant.path_params if p.field_info.annotation is int]
        if ints:
            out.extend((m, route.path, ints) for m in sorted(route.methods))
    return out


def test_every_route_taking_an_id_answers_404_for_ids_beyond_any_row(app, clients, reviewed) -> None:
    """Item 4, for routes added later too: every route with an integer path parameter, each
    such parameter 2^64 (and -1), answers 404, never 500."""
    from haikei.services.users import create_token

    token = create_token(reviewed, "dir", "hostile")  # a token passes auth and CSRF for every route
    c, _ = clients()
    routes = _int_path_routes(app)
    assert len(routes) >= 6, routes
    for method, path, ints in routes:
        for bad in (BIG, -1):
            url = path
            for name in re.findall(r"\{(\w+)(?::\w+)?\}", path):
                url = url.replace("{" + name + "}", str(bad) if name in ints else "c001")
            body = (
                {"json": {"lock_version": 0}} if url.startswith("/api/") else {"data": {"lock_version": "0"}}
            )
            r = c.request(method, url, headers={"Authorization": f"Bearer {token}"}, **body)
            assert r.status_code == 404, (method, url, r.status_code, r.text[:200])


def test_sessions_end_everywhere_on_request_and_expire(app, clients, reviewed) -> None:
    a, csrf_a = clients("art")
    b, _ = clients("art")
    other, _ = clients("dir")
    assert a.post("/logout", data={"csrf_token": csrf_a, "everywhere": "1"}).status_code == 303
    assert b.get("/api/me").status_code == 401
    assert other.get("/api/me").status_code == 200  # only that person's sessions


def test_security_headers_on_every_kind_of_answer(app, clients) -> None:
    c, csrf = clients("art")
    anon, _ = clients()
    answers = {
        "page": c.get("/cut/c001"),
        "static": c.get("/static/app.css"),
        "json": c.get("/api/me"),
        "json 404": c.get("/api/bgs/nope"),
        "image": c.get("/img/v/1"),
        "openapi": anon.get("/api/openapi.json"),
        "docs": anon.get("/api/docs"),
        "login redirect": anon.get("/cut/c001"),
        "413 body limit": c.post(
            "/api/bgs/c001/reject", content=b"x", headers={"Content-Length": str(1 << 30)}
        ),
        "validation 422": c.post("/api/bgs/c001/pick", json={}, headers={"X-CSRF-Token": csrf}),
    }
    for what, r in answers.items():
        assert r.status_code != 500, what
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, what
        assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0], what
        assert r.headers.get("x-frame-options") == "DENY", what
        assert r.headers.get("x-content-type-options") == "nosniff", what
        assert r.headers.get("referrer-policy") == "same-origin", what
    for what in ("page", "json", "json 404", "docs", "validation 422"):  # no cached copies of work
        assert answers[what].headers.get("cache-control") == "no-store", what
    assert "immutable" in answers["image"].headers["cache-control"]
    assert answers["static"].headers.get("cache-control") != "no-store"
    # a fresh nonce per answer
    assert (
        answers["page"].headers["content-security-policy"]
        != c.get("/cut/c001").headers["content-security-policy"]
    )


def test_api_docs_are_public_offline_and_hold_no_production_data(app, clients, reviewed) -> None:
    anon, _ = clients()
    spec = anon.get("/api/openapi.json")
    page = anon.get("/api/docs")
    assert spec.status_code == 200 and page.status_code == 200
    for path in spec.json()["paths"]:  # every route is on the page
        assert path in page.text, path
    assert "cdn" not in page.text.lower() and "<script" not in page.text
    assert all(
        src.startswith("/static/") for src in re.findall(r'(?:src|href)="([^"#]+\.(?:css|js))"', page.text)
    )
    # the API's shape, not the production's work: no cut, user or production name in either
    for secret in ("c001", "c002", "Test Production", "art-password", "Layout Person"):
        assert secret not in spec.text and secret not in page.text.replace("/api/bgs/c001", ""), secret


def test_gc_keeps_the_blobs_a_paintover_names_only_in_its_recipe(clients, reviewed) -> None:
    """Next to item 5: `haikei gc` took a paint-over's changed-pixel mask and diff overlay for
    orphans (they are named only in the version's recipe) and deleted them."""
    from haikei.jobs.gc import collect_garbage

    c, csrf = clients("art")
    bg = bg_state(c, "c001")
    r = c.post(
        "/api/bgs/c001/paintover",
        data={"version_id": str(bg["current_version_id"]), "lock_version": str(bg["lock_version"])},
        files={
            "file": ("paint.png", _painted(reviewed, bg["current_version_id"], (250, 20, 200)), "image/png")
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 200, r.text
    vid = r.json()["id"]
    report = collect_garbage(reviewed, min_age_s=0)
    assert report.removed == []
    assert c.get(f"/img/v/{vid}/diff?w=0").status_code == 200


# -- in Debian's Chromium, with no network: the CSP lets the pages' own scripts run, blocks an
#    injected one, and /api/docs shows the API's routes (screenshot: artifacts/screenshots/)

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def live(reviewed: ServiceContext) -> Iterator[str]:
    import uvicorn

    from haikei.web import create_app

    app = create_app(reviewed, secret_key="browser-hostile")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.mark.browser
@pytest.mark.slow
def test_pages_and_api_docs_in_chromium_offline_under_the_csp(live: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    violations: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
            headless=True,
        )
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})

        def network(route: Any) -> None:  # no network but this server
            if route.request.url.startswith(live):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        ctx.route("**/*", network)
        page = ctx.new_page()
        page.on(
            "console",
            lambda m: (
                violations.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None
            ),
        )
        page.on("pageerror", lambda e: violations.append(f"{page.url}: {e}"))

        page.goto(live + "/api/docs")
        body = page.inner_text("body")
        for route in ("/api/bgs/{ref}/retake", "/api/bgs/{ref}/paintover", "/api/jobs/{job_id}", "PickBody"):
            assert route in body, route
        assert page.locator("section.op").count() >= 10
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "api-docs-offline.png"), full_page=False)

        page.goto(live + "/login")
        page.fill('input[name="username"]', "art")
        page.fill('input[name="password"]', PASSWORDS["art"])
        page.click("button.primary")
        page.wait_for_url(live + "/")
        for url in ("/", "/cut/c001", "/cut/c001/label"):
            page.goto(live + url)
            page.wait_for_load_state("networkidle")
        assert not violations, violations  # the pages' own scripts and styles all ran

        # an injected inline script is blocked (and reported), the page's own keep working
        page.goto(live + "/cut/c001")
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__pwned = 1';"
            " document.body.appendChild(s); }"
        )
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.__pwned") is None
        assert any("Content Security Policy" in v for v in violations), violations
        browser.close()
    assert not outside, outside


def test_concurrent_labelling_leaves_no_orphan_blobs(clients, reviewed, tmp_path: Path) -> None:
    """Next to item 5: two people label the same layout at once; the loser's region map blob
    used to stay behind (written before the revision check inside the write)."""
    from haikei.services.intake import import_folder
    from tests.conftest import write_layout

    folder = tmp_path / "unlabelled"
    folder.mkdir()
    write_layout(folder, "c010", regions=False)
    import_folder(reviewed, folder)
    people = [clients("art") for _ in range(3)]
    points = [["sky@2,2"], ["ground@2,38"], ["sky@2,2", "ground@2,38"]]
    orphans_before = _blobs_nobody_references(reviewed)

    def label(i: int) -> int:
        c, csrf = people[i]
        body = {"points": points[i], "layout_revision": 1}
        return c.post("/api/bgs/c010/labels", json=body, headers={"X-CSRF-Token": csrf}).status_code

    codes = _at_once(3, label)
    assert sorted(codes) == [200, 409, 409], codes
    assert _blobs_nobody_references(reviewed) == orphans_before


def _id_fields(route: Any) -> Iterator[tuple[str, Any]]:
    """(where, FieldInfo) of every id a route takes in its query, form or JSON body."""
    from pydantic import BaseModel

    dep = route.dependant
    for p in [*dep.query_params, *dep.body_params]:
        ann = p.field_info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            for name, f in ann.model_fields.items():
                if name == "id" or name.endswith("_id"):
                    yield f"{route.path} body {name}", f
        elif p.name == "id" or p.name.endswith("_id") or p.name == "v":
            yield f"{route.path} {p.name}", p.field_info


def _bounds(f: Any) -> list[Any]:
    """The constraints on a field, also inside ``Annotated[...] | None``."""
    import typing

    out = list(f.metadata)
    for arg in typing.get_args(f.annotation):
        for meta in getattr(arg, "__metadata__", ()):
            out.extend(getattr(meta, "metadata", [meta]))
    return out


def test_every_id_a_route_takes_in_a_body_form_or_query_is_range_checked(app) -> None:
    """Item 4 at the edge, for routes added later too: every id field is typed with
    haikei.web.ids (1 .. MAX_ID), so a 2^64 id is a 422, never an OverflowError."""
    from annotated_types import Ge, Le
    from fastapi.routing import APIRoute

    from haikei.web.ids import MAX_ID

    seen = []
    for route in _all_routes(app.routes):
        if not isinstance(route, APIRoute):
            continue
        for where, f in _id_fields(route):
            bounds = _bounds(f)
            le = [m.le for m in bounds if isinstance(m, Le)]
            ge = [m.ge for m in bounds if isinstance(m, Ge)]
            assert le and le[0] <= MAX_ID and ge and ge[0] >= 1, f"{where}: use haikei.web.ids ({bounds})"
            seen.append(where)
    assert any("version_id" in w for w in seen) and len(seen) >= 6, seen


def test_no_import_cycles_in_the_web_layer() -> None:
    """Issue 17: web/auth and web/templating imported each other (templating lazily). Every
    import among haikei.web's modules, lazy ones included, read with ast: no cycle."""
    import ast

    import haikei.web
    from tests.engines.test_engine_imports import find_cycle

    root = Path(haikei.web.__file__).parent
    mods = {
        "haikei.web" + ("" if p.stem == "__init__" else f".{p.stem}"): p for p in sorted(root.glob("*.py"))
    }
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module
                    for a in node.names
                ]
            graph[name].update(t for t in targets if t in mods and t != name)
    assert "haikei.web.session" in graph["haikei.web.templating"]  # the graph sees lazy imports too
    cycle = find_cycle({k: v - {"haikei.web"} for k, v in graph.items()})
    assert cycle is None, " -> ".join(cycle or [])


def test_even_a_bug_answers_with_the_security_headers_and_no_traceback(reviewed) -> None:
    from haikei.web import create_app

    app = create_app(reviewed, secret_key="k")

    def broken() -> None:
        raise RuntimeError("a bug with a secret path /srv/studio/x")

    app.add_api_route("/api/broken", broken)
    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        for url in ("/api/broken", "/broken"):
            r = c.get(url)
            assert r.status_code == 500, url
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"], url
            assert "secret path" not in r.text and "Traceback" not in r.text, r.text
        assert c.get("/api/broken").json()["kind"] == "InternalError"

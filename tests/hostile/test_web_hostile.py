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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from haikei.imaging.io import png_bytes
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

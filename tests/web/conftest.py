"""A tiny reviewed production: two cuts imported by intake, two baseline candidates each, and
three people (director, artist, viewer). Clients log in through the real login form."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from haikei.services.context import ServiceContext

PASSWORDS = {"dir": "dir-password", "dir2": "dir2-password", "art": "art-password", "view": "view-password"}
ROLES = {"dir": "director", "dir2": "director", "art": "artist", "view": "viewer"}
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
ERROR_RE = re.compile(r'<div class="msg error" role="alert" id="error">(.*?)</div>', re.S)


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with cheap parameters: the default costs ~0.7 s a hash on these shared cores."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        "haikei.services.users._hasher", lambda: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def reviewed(production: ServiceContext, layouts_dir: Path) -> ServiceContext:
    from haikei.services.intake import import_folder
    from haikei.services.rendering import render_backgrounds
    from haikei.services.users import add_user

    import_folder(production, layouts_dir, artist="Layout Person")
    render_backgrounds(production, ["c001", "c002"], engine="baseline", candidates=2, actor="test")
    for name, role in ROLES.items():
        add_user(production, name, role, password=PASSWORDS[name], display_name=name.title())
    return production


@pytest.fixture
def app(reviewed: ServiceContext) -> Any:
    from haikei.web import create_app

    return create_app(reviewed, secret_key="test-secret-key", max_upload_bytes=2 * 1024 * 1024)


def csrf_of(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "page has no CSRF field"
    return m.group(1)


def login(client: TestClient, name: str) -> str:
    """Log in through the form; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"username": name, "password": PASSWORDS[name], "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/").text)


def refused(client: TestClient, r: Any, page: str) -> str:
    """A refused form post: a redirect (303) to ``page`` that shows the message once; a reload of
    the page does not show it again (and sends no form). Returns the message."""
    assert r.status_code == 303, (r.status_code, r.text[:300])
    assert r.headers["location"].split("?")[0] == page, r.headers["location"]
    shown = client.get(r.headers["location"])
    assert shown.status_code == 200
    m = ERROR_RE.search(shown.text)
    assert m, shown.text[:500]
    assert not ERROR_RE.search(client.get(r.headers["location"]).text)
    return html.unescape(m.group(1))


@pytest.fixture
def clients(app: Any) -> Iterator[Any]:
    """clients(name) -> (TestClient logged in as name, its CSRF token). Redirects are not followed:
    tests look at each 303 (POST/redirect/GET)."""
    made: list[TestClient] = []

    def make(name: str | None = None) -> tuple[TestClient, str]:
        c = TestClient(app, follow_redirects=False)
        c.__enter__()
        made.append(c)
        return c, (login(c, name) if name else "")

    yield make
    for c in made:
        c.__exit__(None, None, None)


def bg_state(client: TestClient, ref: str = "c001") -> dict[str, Any]:
    r = client.get(f"/api/bgs/{ref}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]

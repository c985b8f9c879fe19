"""Who is asking: a web session (pages; CSRF token on every change) or an API token (scripts).

A web session is a row in the production database (``web_sessions``); the signed cookie
carries only its random key and the CSRF token (:mod:`haikei.web.session`). Every request
checks the row, so a cookie copied before logout, a password change or a role change is
refused. Nothing but the login page, static assets and the API docs answers without one.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from haikei.domain.models import User
from haikei.errors import HaikeiError, PermissionDenied
from haikei.services.context import ServiceContext
from haikei.services.users import (
    authenticate,
    end_session,
    end_sessions,
    start_session,
    user_for_session,
    user_for_token,
)
from haikei.web import session as cookie
from haikei.web.session import csrf_token
from haikei.web.templating import flash, render

__all__ = [
    "Actor",
    "NotAuthenticated",
    "api_actor",
    "csrf_token",
    "page_actor",
    "reader",
    "router",
    "safe_next",
]

router = APIRouter(include_in_schema=False)
CSRF_HEADER = "x-csrf-token"


class NotAuthenticated(HaikeiError):
    """No session and no API token: log in first."""


@dataclass(frozen=True)
class Actor:
    user: User
    via_token: bool


# the actions a page or API client is told it may do (Role.can decides)
ACTIONS = (
    "approve",
    "reject",
    "retake",
    "upload",
    "pick",
    "label",
    "variant",
    "assign",
    "comment",
    "deliver",
)


def app_ctx(request: Request) -> ServiceContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def _who(request: Request) -> Actor:
    ctx = app_ctx(request)
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated(
                "use 'Authorization: Bearer TOKEN' (make one with 'haikei user token NAME')"
            )
        try:
            return Actor(user_for_token(ctx, token.strip()), True)
        except PermissionDenied as exc:
            raise NotAuthenticated(str(exc)) from None
    key = cookie.session_key(request)
    if key is None:
        raise NotAuthenticated("log in first")
    try:
        user = user_for_session(ctx, key)
    except PermissionDenied as exc:
        cookie.clear(request)
        raise NotAuthenticated(str(exc)) from None
    return Actor(user, False)


def _check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get(cookie.CSRF)
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise PermissionDenied(
            "the form's security token is missing or old (CSRF check); reload the page and try again"
        )


def reader(request: Request) -> User:
    """Any logged-in user (GET routes)."""
    return _who(request).user


def api_actor(request: Request) -> User:
    """A state change through the API: a Bearer token, or a session plus the X-CSRF-Token header."""
    actor = _who(request)
    if not actor.via_token:
        _check_csrf(request, request.headers.get(CSRF_HEADER))
    return actor.user


def page_actor(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> User:
    """A state change from a page form: the session plus the form's csrf_token field."""
    actor = _who(request)
    if not actor.via_token:
        _check_csrf(request, csrf_token or request.headers.get(CSRF_HEADER))
    return actor.user


def safe_next(nxt: str | None) -> str:
    if not nxt or not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
        return "/"
    parts = urlsplit(nxt)
    return "/" if parts.scheme or parts.netloc else nxt


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": safe_next(next)})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str, Form()] = "/",
) -> Response:
    throttle = request.app.state.login_throttle
    # request.client is the peer, or what a trusted proxy said it forwarded (app.TrustedProxies)
    keys = throttle.keys(username, request.client.host if request.client else None)
    try:
        _check_csrf(request, csrf_token)
        throttle.check(keys)
        try:
            user = authenticate(app_ctx(request), username, password)
        except PermissionDenied:
            throttle.failed(keys)
            raise
    except PermissionDenied as exc:  # POST/redirect/GET: a reload does not send the password again
        flash(request, str(exc))
        return RedirectResponse(f"/login?next={quote(safe_next(next))}", status_code=303)
    throttle.succeeded(keys)
    cookie.begin(request, start_session(app_ctx(request), user.id))  # a fresh session at login
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(
    request: Request,
    user: Annotated[User, Depends(page_actor)],
    everywhere: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """End this session (its server record is revoked: a kept copy of the cookie is refused);
    with ``everywhere=1`` every session of this person (other browsers, other machines)."""
    ctx = app_ctx(request)
    key = cookie.session_key(request)
    if everywhere:
        end_sessions(ctx, user.name, "logged out everywhere")
    elif key is not None:
        end_session(ctx, key)
    cookie.clear(request)
    return RedirectResponse("/login", status_code=303)

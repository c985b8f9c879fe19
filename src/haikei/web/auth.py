"""Who is asking: session cookie (pages; CSRF token on every change) or API token (scripts).

Nothing but the login page (and static assets) answers without one of them.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from haikei.domain.models import User
from haikei.errors import HaikeiError, NotFoundError, PermissionDenied
from haikei.services.context import ServiceContext
from haikei.services.users import authenticate, get_user, user_for_token
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


def app_ctx(request: Request) -> ServiceContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    tok = request.session.get("csrf")
    if not tok:
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return str(tok)


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
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        raise NotAuthenticated("log in first")
    try:
        user = get_user(ctx, uid)
    except NotFoundError:
        request.session.clear()
        raise NotAuthenticated("your account is no longer active; log in again") from None
    return Actor(user, False)


def _check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
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
    request.session.clear()  # a fresh session (and CSRF token) at login
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, user: Annotated[User, Depends(page_actor)]) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)

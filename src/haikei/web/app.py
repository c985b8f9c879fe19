"""The review web app: ``create_app(ctx_or_path)`` -> a FastAPI app.

Pages are server-rendered Jinja2 templates with a little vanilla JS (static/*.js); the JSON
API lives under /api (OpenAPI at /api/openapi.json, docs at /api/docs: a page haikei renders
itself from the OpenAPI document, no CDN). HTTP mapping of haikei's errors lives only here.
Sessions are server-side rows whose random key rides in a signed cookie (HttpOnly,
SameSite=Lax) and every state change carries a CSRF token; scripts use ``Authorization:
Bearer`` API tokens instead. Every response carries the security headers (``SecurityHeaders``);
the client address is the peer's unless the peer is a trusted proxy (``TrustedProxies``).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from haikei.errors import (
    ConfigError,
    ConflictError,
    ConsentError,
    HaikeiError,
    InputError,
    MissingExtraError,
    NotFoundError,
    PermissionDenied,
    RenderRefused,
)
from haikei.services.context import ServiceContext
from haikei.services.review import MAX_UPLOAD_BYTES
from haikei.services.users import SESSION_LIFETIME_S
from haikei.web.auth import NotAuthenticated
from haikei.web.throttle import LoginThrottle, TooManyAttempts

__all__ = ["SECRET_NAME", "create_app", "http_status"]

HERE = Path(__file__).parent
SECRET_NAME = "web-secret.key"
SESSION_COOKIE = "haikei_session"
SESSION_MAX_AGE = SESSION_LIFETIME_S  # the cookie lives as long as the server-side session
_CUT_POST = re.compile(r"^/cut/([^/?#]+)/")
_HANDLER = re.compile(r'\son[a-z]+="([^"{}]*)"')


def http_status(exc: HaikeiError) -> int:
    if isinstance(exc, TooManyAttempts):
        return 429
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, PermissionDenied | ConsentError):
        return 403
    if isinstance(exc, RenderRefused):
        return 422
    if isinstance(exc, ConfigError | MissingExtraError):
        return 422  # the request needs something this production is not set up for (e.g. sd weights)
    if isinstance(exc, InputError):
        return 400
    return 500


def _secret(root: Path) -> str:
    """The production's session key (made once, readable by its owner only)."""
    path = root / SECRET_NAME
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key)
    return key


class BodyLimit:
    """Refuse a request body over the limit before anything reads it (413), and POSTs that do
    not say their length (411), so an upload can never fill the disk or the memory."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            problem = None
            if length is None or not length.isdigit():
                problem = (411, "the request does not say its length; send it with Content-Length")
            elif int(length) > self.limit:
                problem = (413, f"the upload is over the {self.limit >> 20} MiB limit; export a smaller file")
            if problem is not None:
                code, msg = problem
                back = _CUT_POST.match(scope.get("path", ""))
                resp: Response
                if b"text/html" in headers.get(b"accept", b"") and back and "session" in scope:
                    scope["session"]["flash"] = {"kind": "error", "text": msg}  # POST/redirect/GET
                    resp = RedirectResponse(f"/cut/{back.group(1)}", status_code=303)
                elif b"text/html" in headers.get(b"accept", b""):
                    body = f"<!doctype html><title>haikei</title><p class=error>{msg}</p><p><a href='/'>all cuts</a>"
                    resp = HTMLResponse(body, status_code=code)
                else:
                    resp = JSONResponse({"error": msg, "kind": "InputError"}, status_code=code)
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


class TrustedProxies:
    """The client address (``scope["client"]``) is the TCP peer's, unless the peer is one of the
    proxies listed in haikei.toml ``[web] trusted_proxies``: then X-Forwarded-For is read from
    the right, skipping trusted proxies, and the first address that is not one is the client
    (X-Forwarded-Proto sets the scheme). With no trusted proxies (the default) forwarded headers
    are ignored, so a client cannot choose its own address (login throttling counts per address).
    ``haikei serve`` runs uvicorn with its own proxy handling off, so this is the only one."""

    def __init__(self, app: Any, proxies: list[str]) -> None:
        self.app = app
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies]

    def trusted(self, host: str | None) -> bool:
        if not host or not self.networks:
            return False
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(addr in net for net in self.networks)

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self.networks:
            client = scope.get("client")
            if client and self.trusted(client[0]):
                headers = dict(scope["headers"])
                hops = [h.strip() for h in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")]
                hops = [h for h in hops if h]
                for hop in reversed(hops):
                    if not self.trusted(hop):
                        try:
                            ipaddress.ip_address(hop)
                        except ValueError:
                            break  # a forged or broken entry: keep the proxy's own address
                        scope = dict(scope, client=(hop, 0))
                        break
                proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip().lower()
                if proto in ("http", "https"):
                    scope = dict(
                        scope, scheme=proto if scope["type"] == "http" else proto.replace("http", "ws")
                    )
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Security headers on every response, whoever answers it (pages, API, static files, the
    body limit, errors): a Content-Security-Policy that allows the pages' own scripts (files
    under /static, inline blocks carrying the request's nonce ``csp_nonce``, and the templates'
    own inline event handlers by hash), no framing by other sites, no MIME sniffing, referrers
    only within the site (refused forms go back by Referer), and ``Cache-Control: no-store`` on
    pages and JSON that do not say otherwise."""

    def __init__(self, app: Any, handler_hashes: list[str]) -> None:
        self.app = app
        self.handlers = " ".join(f"'sha256-{h}'" for h in handler_hashes)

    def policy(self, nonce: str) -> str:
        script = f"script-src 'self' 'nonce-{nonce}'"
        if self.handlers:
            script += f" 'unsafe-hashes' {self.handlers}"
        return "; ".join(
            [
                "default-src 'self'",
                script,
                "style-src 'self' 'unsafe-inline'",
                "img-src 'self' data: blob:",
                "font-src 'self'",
                "connect-src 'self'",
                "worker-src 'self' blob:",
                "object-src 'none'",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            ]
        )

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        extra = [
            (b"content-security-policy", self.policy(nonce).encode("ascii")),
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]

        started = False

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                have = {k.lower(): v for k, v in headers}
                headers += [(k, v) for k, v in extra if k not in have]
                media = have.get(b"content-type", b"")
                if b"cache-control" not in have and (
                    media.startswith(b"text/html") or media.startswith(b"application/json")
                ):
                    # pages and API answers show unreleased work: no copy in any cache (the Back
                    # button after logout shows nothing); static files and images set their own
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # a bug: answer a plain 500 with the headers (the last-resort handler outside this
            # middleware would send one without them), then let it log the traceback
            if not started:
                api = str(scope.get("path", "")).startswith("/api/")
                text = "internal error in haikei; the server log has the details"
                resp: Response = (
                    JSONResponse({"error": text, "kind": "InternalError"}, status_code=500)
                    if api
                    else HTMLResponse(f"<!doctype html><title>haikei</title><p>{text}</p>", status_code=500)
                )
                await resp(scope, receive, send_with_headers)
            raise


def template_handler_hashes(folder: Path = HERE / "templates") -> list[str]:
    """SHA-256 (base64) of every static inline event handler in the templates
    (``onchange="this.form.submit()"``), for the CSP's 'unsafe-hashes' list: the templates' own
    handlers run, a handler injected into a page does not."""
    found: set[str] = set()
    for path in sorted(folder.rglob("*.html")):
        found.update(_HANDLER.findall(path.read_text(encoding="utf-8")))
    return sorted(base64.b64encode(hashlib.sha256(h.encode("utf-8")).digest()).decode("ascii") for h in found)


def create_app(
    ctx_or_path: ServiceContext | str | os.PathLike[str],
    *,
    secret_key: str | None = None,
    workers: int = 0,
    executor_mode: str = "thread",
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    secure_cookies: bool = False,
) -> FastAPI:
    """The review app for one production. ``workers`` > 0 starts that many in-process render
    workers (haikei.jobs.local.LocalExecutor) for retakes and variants while the app runs."""
    from haikei.web import api, api_docs, images, pages
    from haikei.web.auth import router as auth_router

    owns_ctx = not isinstance(ctx_or_path, ServiceContext)
    if isinstance(ctx_or_path, ServiceContext):
        ctx = ctx_or_path
    else:
        from haikei.app import open_production

        ctx = open_production(Path(ctx_or_path))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        executor = None
        if workers > 0:
            from haikei.jobs.local import LocalExecutor

            executor = LocalExecutor(ctx, workers=workers, mode=executor_mode)
            executor.start()
        app.state.executor = executor
        try:
            yield
        finally:
            if executor is not None:
                executor.stop()
            if owns_ctx:
                ctx.close()

    app = FastAPI(
        title="haikei review",
        description="Review, retake, paint-over and approval of painted backgrounds.",
        version="1",
        openapi_url="/api/openapi.json",  # public, as /api/docs: see specs/review.md
        docs_url=None,  # haikei's own page (api_docs.router): Swagger UI would load from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.max_upload_bytes = max_upload_bytes
    app.state.login_throttle = LoginThrottle()
    # the body limit runs inside the session middleware, so a refused upload can flash its message
    app.add_middleware(BodyLimit, limit=max_upload_bytes + (1 << 20))
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key or _secret(ctx.root),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=secure_cookies,
    )
    app.add_middleware(TrustedProxies, proxies=list(ctx.settings.web.trusted_proxies))
    app.add_middleware(SecurityHeaders, handler_hashes=template_handler_hashes())  # outermost

    @app.exception_handler(NotAuthenticated)
    def _unauth(request: Request, exc: NotAuthenticated) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": str(exc), "kind": "NotAuthenticated"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(nxt)}", status_code=303)

    @app.exception_handler(HaikeiError)
    def _haikei(request: Request, exc: HaikeiError) -> Response:
        code = http_status(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc), "kind": type(exc).__name__}, status_code=code)
        if request.method == "POST" and code != 404:
            return pages.refused(request, str(exc))
        return pages.error_page(request, str(exc), code)

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if errors and all(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
            # a path that cannot name anything (an id out of range, not a number): not found
            what = ", ".join(f"{e['loc'][1]} {e.get('input', '')!s:.40}" for e in errors)
            return _haikei(request, NotFoundError(f"nothing here: {what} names no row"))
        problems = "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": problems, "kind": "InputError", "detail": jsonable_encoder(exc.errors())},
                status_code=422,
            )
        if request.method == "POST":
            return pages.refused(request, f"the form is incomplete or wrong: {problems}")
        return pages.error_page(request, f"the form is incomplete or wrong: {problems}", 400)

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(auth_router)
    app.include_router(api_docs.router)
    app.include_router(images.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str)

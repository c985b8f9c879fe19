"""The review web app: ``create_app(ctx_or_path)`` -> a FastAPI app.

Pages are server-rendered Jinja2 templates with a little vanilla JS (static/app.js); the JSON
API lives under /api (OpenAPI at /api/openapi.json, docs at /api/docs). HTTP mapping of
haikei's errors lives only here. Sessions are signed cookies (HttpOnly, SameSite=Lax) and every
state change carries a CSRF token; scripts use ``Authorization: Bearer`` API tokens instead.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
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
    ConflictError,
    ConsentError,
    HaikeiError,
    InputError,
    NotFoundError,
    PermissionDenied,
    RenderRefused,
)
from haikei.services.context import ServiceContext
from haikei.services.review import MAX_UPLOAD_BYTES
from haikei.web.auth import NotAuthenticated
from haikei.web.throttle import LoginThrottle

__all__ = ["SECRET_NAME", "create_app", "http_status"]

HERE = Path(__file__).parent
SECRET_NAME = "web-secret.key"
SESSION_COOKIE = "haikei_session"
SESSION_MAX_AGE = 12 * 3600
_CUT_POST = re.compile(r"^/cut/([^/?#]+)/")


def http_status(exc: HaikeiError) -> int:
    from haikei.web.throttle import TooManyAttempts

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
                    body = f"<!doctype html><title>haikei</title><p class=error>{msg}</p><p><a href='javascript:history.back()'>back</a>"
                    resp = HTMLResponse(body, status_code=code)
                else:
                    resp = JSONResponse({"error": msg, "kind": "InputError"}, status_code=code)
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
    from haikei.web import api, images, pages
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
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
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
    app.include_router(images.router)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str)

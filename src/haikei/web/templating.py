"""Jinja2 templates, made once per app (kept on app.state, not in a module global)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from haikei.web.session import csrf_token

__all__ = ["flash", "render"]

FLASH_MAX = 2000  # characters of a message kept in the (cookie) session

HERE = Path(__file__).parent


def _when(d: datetime | None) -> str:
    return f"{d:%Y-%m-%d %H:%M}" if d else ""


def _templates(request: Request) -> Jinja2Templates:
    t = getattr(request.app.state, "templates", None)
    if t is None:
        t = Jinja2Templates(directory=HERE / "templates")
        t.env.filters["when"] = _when
        t.env.filters["pct"] = lambda x: "" if x is None else f"{x:.1%}"
        request.app.state.templates = t
    return t


def flash(request: Request, text: str, kind: str = "error") -> None:
    """A message for the next page this session renders (POST/redirect/GET: a refused form post
    redirects to the page, which shows it once; a reload does not send the form again)."""
    request.session["flash"] = {"kind": "ok" if kind == "ok" else "error", "text": text[:FLASH_MAX]}


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    ctx = request.app.state.ctx
    base = {
        "csrf": csrf_token(request),
        "csp_nonce": getattr(request.state, "csp_nonce", ""),  # <script nonce="{{ csp_nonce }}">
        "production": ctx.settings.production.name,
        "user": None,
    }
    message = request.session.pop("flash", None)
    if isinstance(message, dict) and message.get("text"):
        base["ok" if message.get("kind") == "ok" else "error"] = str(message["text"])
    base.update({k: v for k, v in context.items() if v or k not in base})
    return _templates(request).TemplateResponse(request, name, base, status_code=status_code)

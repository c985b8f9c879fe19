"""What the signed session cookie holds: the server-side session's random key (``sid``), the
CSRF token and at most one flash message; nothing else (who the person is lives in the
``web_sessions`` row the key names, checked on every request by :mod:`haikei.web.auth`).

Both :mod:`haikei.web.auth` and :mod:`haikei.web.templating` use these helpers; neither imports
the other for them (no import cycle).
"""

from __future__ import annotations

import secrets

from fastapi import Request

__all__ = ["begin", "clear", "csrf_token", "session_key"]

SID = "sid"
CSRF = "csrf"


def csrf_token(request: Request) -> str:
    """This cookie session's CSRF token (made on first use, also before login)."""
    tok = request.session.get(CSRF)
    if not tok:
        tok = secrets.token_urlsafe(32)
        request.session[CSRF] = tok
    return str(tok)


def session_key(request: Request) -> str | None:
    key = request.session.get(SID)
    return key if isinstance(key, str) and key else None


def begin(request: Request, key: str) -> None:
    """A fresh cookie session for a new login: the server session's key and a new CSRF token
    (nothing from before the login survives: no session fixation)."""
    request.session.clear()
    request.session[SID] = key
    request.session[CSRF] = secrets.token_urlsafe(32)


def clear(request: Request) -> None:
    request.session.clear()

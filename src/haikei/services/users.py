"""People: users with roles, argon2 password hashes, API tokens for scripts, web sessions.

Passwords are stored only as argon2id hashes; API tokens only as their SHA-256 (a token is
random, 256 bits, so a fast hash is enough and lets the lookup be an index hit). A token is
shown once, when it is made.

A login to the review pages is a row in ``web_sessions`` (:func:`start_session`); the browser
keeps only its random key (the row's id is the key's SHA-256). :func:`user_for_session` checks
the row on every request, so logout (:func:`end_session`) and a password or role change
(:func:`set_password`, :func:`set_role`, which call :func:`end_sessions`) take effect at once,
whatever copy of the cookie someone kept.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, select, update

from haikei.domain.models import Role, User
from haikei.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from haikei.services.context import ServiceContext
from haikei.store.convert import to_user
from haikei.store.tables import ApiTokenRow, UserRow, WebSessionRow, utcnow

__all__ = [
    "MIN_PASSWORD",
    "SESSION_LIFETIME_S",
    "TOKEN_PREFIX",
    "add_user",
    "authenticate",
    "create_token",
    "disable_user",
    "end_session",
    "end_sessions",
    "get_user",
    "list_users",
    "require",
    "revoke_tokens",
    "set_password",
    "set_role",
    "start_session",
    "user_for_session",
    "user_for_token",
]

MIN_PASSWORD = 8
TOKEN_PREFIX = "hk_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_LOGIN_FAILED = "wrong user name or password"
SESSION_LIFETIME_S = 12 * 3600  # a login lasts a working day, then the person logs in again
SEEN_EVERY_S = 300  # last_seen_at is written at most this often (not one write per request)


def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher()


def _role(role: str | Role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InputError(f"role {role!r} is not one of {', '.join(r.value for r in Role)}") from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password is shorter than {MIN_PASSWORD} characters; choose a longer one")


def add_user(
    ctx: ServiceContext, name: str, role: str | Role, *, password: str | None = None, display_name: str = ""
) -> User:
    """Add a person. ``role``: director | artist | viewer. Without a password the user can only
    use API tokens (``create_token``) until one is set."""
    if not _NAME.match(name):
        raise InputError(
            f"user name {name!r}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    r = _role(role)
    pw_hash = ""
    if password is not None:
        _check_password(password)
        pw_hash = _hasher().hash(password)
    with ctx.db.session() as s:
        if s.scalar(select(UserRow.id).where(UserRow.name == name)) is not None:
            raise ConflictError(f"user {name!r} already exists; choose another name")
        row = UserRow(
            name=name, role=r.value, password_hash=pw_hash, display_name=display_name.strip() or name
        )
        s.add(row)
        s.flush()
        return to_user(row)


def set_password(ctx: ServiceContext, name: str, password: str) -> int:
    """Set ``name``'s password and end all of their web sessions (same transaction); returns how
    many sessions were ended. API tokens stay valid (revoke those separately)."""
    _check_password(password)
    pw_hash = _hasher().hash(password)
    with ctx.db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        if row is None:
            raise NotFoundError(f"no user {name!r}; add one with 'haikei user add'")
        row.password_hash = pw_hash
        return _end_sessions(s, row.id, "password changed")


def revoke_tokens(ctx: ServiceContext, name: str, label: str | None = None) -> int:
    """Delete ``name``'s API tokens (only those made with ``label`` if given); returns how many.
    A script using one is refused from its next request."""
    with ctx.db.session() as s:
        uid = s.scalar(select(UserRow.id).where(UserRow.name == name))
        if uid is None:
            raise NotFoundError(f"no user {name!r}")
        q = delete(ApiTokenRow).where(ApiTokenRow.user_id == uid)
        if label is not None:
            q = q.where(ApiTokenRow.name == label[:100])
        return int(s.execute(q).rowcount or 0)  # type: ignore[attr-defined]


def disable_user(ctx: ServiceContext, name: str) -> tuple[int, int]:
    """Someone leaves the production: the account can no longer log in, every web session ends
    and every API token is deleted, in one transaction (their notes and credits stay, under
    their name). Returns (sessions ended, tokens deleted)."""
    with ctx.db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        if row is None or not row.active:
            raise NotFoundError(f"no active user {name!r}")
        row.active = False
        ended = _end_sessions(s, row.id, "account disabled")
        tokens = s.execute(delete(ApiTokenRow).where(ApiTokenRow.user_id == row.id)).rowcount  # type: ignore[attr-defined]
        return ended, int(tokens or 0)


def set_role(ctx: ServiceContext, name: str, role: str | Role) -> int:
    """Give ``name`` another role and end all of their web sessions (they log in again under the
    new role); returns how many sessions were ended."""
    r = _role(role)
    with ctx.db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        if row is None or not row.active:
            raise NotFoundError(f"no active user {name!r}; add one with 'haikei user add'")
        if row.role == r.value:
            return 0
        row.role = r.value
        return _end_sessions(s, row.id, f"role changed to {r.value}")


def get_user(ctx: ServiceContext, ref: int | str) -> User:
    with ctx.db.session() as s:
        row = (
            s.get(UserRow, ref)
            if isinstance(ref, int)
            else s.scalars(select(UserRow).where(UserRow.name == ref)).first()
        )
        if row is None or not row.active:
            raise NotFoundError(f"no active user {ref!r}; add one with 'haikei user add'")
        return to_user(row)


def list_users(ctx: ServiceContext) -> list[User]:
    with ctx.db.session() as s:
        return [to_user(r) for r in s.scalars(select(UserRow).where(UserRow.active).order_by(UserRow.name))]


@lru_cache(maxsize=8)
def _dummy_hash(params: tuple[Any, ...]) -> str:
    """An argon2 hash of a random secret with the hasher's parameters: made once per parameter
    set (a memo, not state), so an unknown name costs one verify, as a known one does."""
    from argon2 import PasswordHasher

    time_cost, memory_cost, parallelism, hash_len, salt_len, kind = params
    ph = PasswordHasher(time_cost, memory_cost, parallelism, hash_len, salt_len, type=kind)
    return ph.hash(secrets.token_urlsafe(24))


def _params(ph: Any) -> tuple[Any, ...]:
    return (ph.time_cost, ph.memory_cost, ph.parallelism, ph.hash_len, ph.salt_len, ph.type)


def authenticate(ctx: ServiceContext, name: str, password: str) -> User:
    """The user whose password this is; PermissionDenied (one message for every failure) otherwise.

    An unknown, inactive or password-less name is verified against a dummy hash with the same
    parameters: one argon2 verify either way, so the answer's timing does not tell which names
    exist."""
    from argon2.exceptions import InvalidHashError, VerificationError

    ph = _hasher()
    with ctx.db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        stored = row.password_hash if row is not None and row.active else ""
        try:
            if not stored:
                ph.verify(_dummy_hash(_params(ph)), password)  # never matches: a random secret
                raise PermissionDenied(_LOGIN_FAILED)
            ph.verify(stored, password)
        except (VerificationError, InvalidHashError):
            raise PermissionDenied(_LOGIN_FAILED) from None
        assert row is not None
        if ph.check_needs_rehash(stored):
            row.password_hash = ph.hash(password)
        return to_user(row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(ctx: ServiceContext, name: str, label: str = "") -> str:
    """A new API token for ``name`` (``Authorization: Bearer hk_...``). Only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ctx.db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        if row is None or not row.active:
            raise NotFoundError(f"no active user {name!r}; add one with 'haikei user add'")
        s.add(ApiTokenRow(user_id=row.id, name=label[:100], token_hash=_token_hash(token)))
    return token


def user_for_token(ctx: ServiceContext, token: str) -> User:
    with ctx.db.session() as s:
        tok = s.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == _token_hash(token))).first()
        user = s.get(UserRow, tok.user_id) if tok is not None else None
        if tok is None or user is None or not user.active:
            raise PermissionDenied("the API token is not valid; make one with 'haikei user token NAME'")
        tok.last_used_at = utcnow()
        return to_user(user)


def _session_id(key: str) -> str:
    return hashlib.sha256(("haikei-session:" + key).encode("utf-8")).hexdigest()


def _end_sessions(s: Any, user_id: int, why: str) -> int:
    res = s.execute(
        update(WebSessionRow)
        .where(WebSessionRow.user_id == user_id, WebSessionRow.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_why=why[:100])
    )
    return int(res.rowcount or 0)


def start_session(ctx: ServiceContext, user_id: int, *, lifetime_s: int = SESSION_LIFETIME_S) -> str:
    """A new web session for ``user_id``; returns its random key (for the signed cookie only).
    Ended sessions older than a day past expiry are pruned on the way."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    with ctx.db.session() as s:
        s.add(
            WebSessionRow(
                id=_session_id(key),
                user_id=user_id,
                created_at=now,
                expires_at=now + timedelta(seconds=lifetime_s),
                last_seen_at=now,
            )
        )
        s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < now - timedelta(days=1)))
    return key


def user_for_session(ctx: ServiceContext, key: str) -> User:
    """The user of the live session ``key``; PermissionDenied (saying why) when the session is
    unknown, ended (logout, password or role change), expired, or its user is no longer active."""
    now = utcnow()
    with ctx.db.session() as s:
        row = s.get(WebSessionRow, _session_id(key)) if key else None
        if row is None:
            raise PermissionDenied("your session is not known here; log in again")
        if row.revoked_at is not None:
            raise PermissionDenied(
                f"your session was ended ({row.revoked_why or 'logged out'}); log in again"
            )
        if row.expires_at <= now:
            raise PermissionDenied("your session has expired; log in again")
        user = s.get(UserRow, row.user_id)
        if user is None or not user.active:
            raise PermissionDenied("your account is no longer active; ask a director")
        if (now - row.last_seen_at).total_seconds() >= SEEN_EVERY_S:
            row.last_seen_at = now
        return to_user(user)


def end_session(ctx: ServiceContext, key: str, why: str = "logged out") -> None:
    """End one web session (logout). Unknown keys are ignored."""
    with ctx.db.session() as s:
        row = s.get(WebSessionRow, _session_id(key)) if key else None
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
            row.revoked_why = why[:100]


def end_sessions(ctx: ServiceContext, name: str, why: str = "logged out everywhere") -> int:
    """End every web session of ``name``; returns how many were live."""
    with ctx.db.session() as s:
        uid = s.scalar(select(UserRow.id).where(UserRow.name == name))
        if uid is None:
            raise NotFoundError(f"no user {name!r}")
        return _end_sessions(s, uid, why)


def require(user: User, action: str) -> None:
    """PermissionDenied unless ``user``'s role allows ``action`` (see Role.can)."""
    if not user.role.can(action):
        raise PermissionDenied(f"{user.name} is a {user.role.value}; a {user.role.value} may not {action}")

"""People: users with roles, argon2 password hashes, API tokens for scripts.

Passwords are stored only as argon2id hashes; API tokens only as their SHA-256 (a token is
random, 256 bits, so a fast hash is enough and lets the lookup be an index hit). A token is
shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select

from haikei.domain.models import Role, User
from haikei.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from haikei.services.context import ServiceContext
from haikei.store.convert import to_user
from haikei.store.tables import ApiTokenRow, UserRow, utcnow

__all__ = [
    "MIN_PASSWORD",
    "TOKEN_PREFIX",
    "add_user",
    "authenticate",
    "create_token",
    "get_user",
    "list_users",
    "require",
    "set_password",
    "user_for_token",
]

MIN_PASSWORD = 8
TOKEN_PREFIX = "hk_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_LOGIN_FAILED = "wrong user name or password"


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


def set_password(ctx: ServiceContext, name: str, password: str) -> None:
    _check_password(password)
    pw_hash = _hasher().hash(password)
    with ctx.db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        if row is None:
            raise NotFoundError(f"no user {name!r}; add one with 'haikei user add'")
        row.password_hash = pw_hash


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


def authenticate(ctx: ServiceContext, name: str, password: str) -> User:
    """The user whose password this is; PermissionDenied (one message for every failure) otherwise."""
    from argon2.exceptions import InvalidHashError, VerificationError

    ph = _hasher()
    with ctx.db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        stored = row.password_hash if row is not None and row.active else ""
        try:
            if not stored:
                # same work for an unknown name as for a wrong password
                ph.verify(ph.hash("x" * MIN_PASSWORD), password + "\0")
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


def require(user: User, action: str) -> None:
    """PermissionDenied unless ``user``'s role allows ``action`` (see Role.can)."""
    if not user.role.can(action):
        raise PermissionDenied(f"{user.name} is a {user.role.value}; a {user.role.value} may not {action}")

"""People: argon2 hashes, tokens stored as hashes only, roles, the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from haikei.errors import ConflictError, InputError, NotFoundError, PermissionDenied
from haikei.services.users import add_user, authenticate, create_token, require, user_for_token
from haikei.store.tables import ApiTokenRow, UserRow


def test_passwords_are_argon2_hashes_and_checked(production) -> None:
    u = add_user(production, "haruka", "director", password="a-long-secret", display_name="Haruka Aoki")
    assert u.role.value == "director" and u.display_name == "Haruka Aoki"
    with production.db.session() as s:
        stored = s.scalars(select(UserRow.password_hash)).one()
    assert stored.startswith("$argon2id$") and "a-long-secret" not in stored
    assert authenticate(production, "haruka", "a-long-secret").id == u.id
    for name, pw in [("haruka", "wrong-secret"), ("nobody", "a-long-secret")]:
        with pytest.raises(PermissionDenied, match="wrong user name or password"):
            authenticate(production, name, pw)


def test_user_rules(production) -> None:
    add_user(production, "kenji", "artist", password="12345678")
    with pytest.raises(ConflictError, match="already exists"):
        add_user(production, "kenji", "artist", password="12345678")
    with pytest.raises(InputError, match="shorter than 8"):
        add_user(production, "short", "artist", password="1234")
    with pytest.raises(InputError, match="role 'boss'"):
        add_user(production, "boss", "boss", password="12345678")
    with pytest.raises(InputError, match="user name"):
        add_user(production, "../x", "viewer", password="12345678")
    tokenless = add_user(production, "bot", "viewer")  # no password: tokens only
    with pytest.raises(PermissionDenied):
        authenticate(production, "bot", "")
    with pytest.raises(PermissionDenied, match="may not approve"):
        require(tokenless, "approve")


def test_tokens_are_stored_as_hashes(production) -> None:
    add_user(production, "ci", "artist", password="12345678")
    token = create_token(production, "ci", "nightly")
    assert token.startswith("hk_") and len(token) > 40
    with production.db.session() as s:
        row = s.scalars(select(ApiTokenRow)).one()
        assert token not in row.token_hash and row.last_used_at is None
    assert user_for_token(production, token).name == "ci"
    with production.db.session() as s:
        assert s.scalars(select(ApiTokenRow)).one().last_used_at is not None
    with pytest.raises(PermissionDenied):
        user_for_token(production, token + "x")
    with pytest.raises(NotFoundError):
        create_token(production, "ghost")


def test_cli_user_add_and_token(production, capsys) -> None:
    from haikei.cli.main import main

    root = str(production.root)
    main(["user", "add", "aki", "--role", "director", "--password", "aki-password", "-p", root])
    main(["user", "token", "aki", "-p", root])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert user_for_token(production, token).name == "aki"
    assert authenticate(production, "aki", "aki-password").role.value == "director"
    with pytest.raises(SystemExit) as exc:
        main(["user", "add", "aki", "--role", "director", "--password", "aki-password", "-p", root])
    assert exc.value.code == ConflictError.exit_code


def test_web_sessions_are_server_side_and_end_on_logout_passwd_and_role_change(production) -> None:
    from haikei.services.users import (
        end_session,
        set_password,
        set_role,
        start_session,
        user_for_session,
    )
    from haikei.store.tables import WebSessionRow

    u = add_user(production, "mika", "artist", password="mika-password")
    other = add_user(production, "joe", "artist", password="joe-password")
    a, b, c = (start_session(production, u.id) for _ in range(3))
    keep = start_session(production, other.id)
    with production.db.session() as s:
        ids = set(s.scalars(select(WebSessionRow.id)))
    assert a not in ids and len(ids) == 4  # only the key's hash is stored
    assert user_for_session(production, a).name == "mika"
    end_session(production, a)
    with pytest.raises(PermissionDenied, match=r"ended \(logged out"):
        user_for_session(production, a)
    assert user_for_session(production, b).name == "mika"  # logout ends that session only
    assert set_password(production, "mika", "another-password") == 2
    with pytest.raises(PermissionDenied, match="password changed"):
        user_for_session(production, c)
    d = start_session(production, u.id)
    assert set_role(production, "mika", "artist") == 0  # no change, nothing ended
    assert set_role(production, "mika", "viewer") == 1
    with pytest.raises(PermissionDenied, match="role changed to viewer"):
        user_for_session(production, d)
    assert user_for_session(production, keep).name == "joe"  # nobody else's
    with pytest.raises(PermissionDenied, match="not known"):
        user_for_session(production, "made-up")
    with pytest.raises(InputError, match="role 'boss'"):
        set_role(production, "joe", "boss")


def test_cli_user_role_and_passwd_say_how_many_sessions_ended(production, capsys) -> None:
    from haikei.cli.main import main
    from haikei.services.users import start_session

    root = str(production.root)
    u = add_user(production, "aki", "artist", password="aki-password")
    start_session(production, u.id)
    main(["user", "role", "aki", "director", "-p", root])
    assert "aki is now a director; 1 web session(s) ended" in capsys.readouterr().out
    assert authenticate(production, "aki", "aki-password").role.value == "director"
    start_session(production, u.id)
    main(["user", "passwd", "aki", "--password", "aki-password-2", "-p", root])
    assert "1 web session(s) ended" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["user", "role", "aki", "boss", "-p", root])
    assert exc.value.code == 2


def test_web_sessions_migration_matches_the_table(production) -> None:
    """0003 creates exactly what WebSessionRow declares (and downgrades cleanly)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from haikei.store.tables import Base

    with production.db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert not [d for d in diffs if "web_sessions" in repr(d)], diffs


@pytest.mark.postgres
def test_web_sessions_on_postgresql(tmp_path, pg_url) -> None:
    """The same session rules on a studio's PostgreSQL (0003 migrated there, login through the
    app, a kept cookie refused after logout)."""
    from fastapi.testclient import TestClient

    from haikei.app import create_production
    from haikei.domain.models import FrameSize
    from haikei.web import create_app
    from tests.web.conftest import csrf_of

    ctx = create_production(tmp_path / "pg", "PG", FrameSize(64, 40), db_url=pg_url)
    try:
        add_user(ctx, "rin", "viewer", password="rin-password")
        with TestClient(create_app(ctx, secret_key="k"), follow_redirects=False) as c:
            tok = csrf_of(c.get("/login").text)
            r = c.post("/login", data={"username": "rin", "password": "rin-password", "csrf_token": tok})
            assert r.status_code == 303 and c.get("/api/me").status_code == 200
            for big in (2**31, 2**64):  # past PostgreSQL's int4 ids, past SQLite's int64
                assert c.get(f"/img/v/{big}").status_code == 404
                assert c.get(f"/api/jobs/{big}").status_code == 404
            kept = dict(c.cookies.items())
            assert c.post("/logout", data={"csrf_token": csrf_of(c.get("/login").text)}).status_code == 303
            c.cookies.clear()
            for k, v in kept.items():
                c.cookies.set(k, v)
            r = c.get("/api/me")
            assert r.status_code == 401 and "ended" in r.json()["error"]
    finally:
        ctx.close()


def test_someone_leaving_is_locked_out_everywhere(production, capsys) -> None:
    """Next to item 1: tokens outlived every change and no account could be disabled. Now
    `haikei user token NAME --revoke` deletes tokens and `haikei user disable NAME` ends the
    sessions, deletes the tokens and refuses the login, in one transaction."""
    from haikei.cli.main import main
    from haikei.services.users import start_session, user_for_session

    root = str(production.root)
    u = add_user(production, "sora", "artist", password="sora-password")
    nightly = create_token(production, "sora", "nightly")
    other = create_token(production, "sora", "kitsu")
    main(["user", "token", "sora", "--revoke", "--label", "nightly", "-p", root])
    assert "1 API token(s) of sora revoked" in capsys.readouterr().out
    with pytest.raises(PermissionDenied):
        user_for_token(production, nightly)
    assert user_for_token(production, other).name == "sora"
    key = start_session(production, u.id)
    main(["user", "disable", "sora", "-p", root])
    assert "sora disabled; 1 web session(s) ended, 1 API token(s) deleted" in capsys.readouterr().out
    with pytest.raises(PermissionDenied, match="account disabled"):
        user_for_session(production, key)
    with pytest.raises(PermissionDenied):
        user_for_token(production, other)
    with pytest.raises(PermissionDenied, match="wrong user name or password"):
        authenticate(production, "sora", "sora-password")
    with pytest.raises(SystemExit) as exc:
        main(["user", "disable", "sora", "-p", root])
    assert exc.value.code == NotFoundError.exit_code


def test_last_seen_is_written_sparingly_and_long_expired_sessions_are_pruned(production) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from haikei.services.users import SEEN_EVERY_S, start_session, user_for_session
    from haikei.store.tables import WebSessionRow, utcnow

    u = add_user(production, "nao", "viewer", password="nao-password")
    key = start_session(production, u.id)
    with production.db.session() as s:
        first = s.scalars(select(WebSessionRow.last_seen_at)).one()
    user_for_session(production, key)
    with production.db.session() as s:
        assert s.scalars(select(WebSessionRow.last_seen_at)).one() == first  # no write per request
        s.execute(update(WebSessionRow).values(last_seen_at=first - timedelta(seconds=SEEN_EVERY_S + 1)))
    user_for_session(production, key)
    with production.db.session() as s:
        assert s.scalars(select(WebSessionRow.last_seen_at)).one() > first - timedelta(seconds=1)
        s.execute(update(WebSessionRow).values(expires_at=utcnow() - timedelta(days=2)))
    start_session(production, u.id)  # a later login prunes sessions long past their expiry
    with production.db.session() as s:
        assert len(s.scalars(select(WebSessionRow.id)).all()) == 1

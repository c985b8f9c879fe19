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

"""A throwaway PostgreSQL cluster for the tests (pytest plugin: ``pytest_plugins = ["tests.pg_cluster"]``).

Session fixture ``pg_server``: initdb + pg_ctl in a temp folder, listening only on a unix socket
in that folder (no TCP port), fsync off (a test cluster), torn down at the end. PostgreSQL
refuses to run as root, so under root the server runs as the ``postgres`` OS user (runuser).
Skips with the reason when the server binaries are missing (Debian: apt-get install postgresql).
``HAIKEI_TEST_PG_URL=postgresql://user@host/postgres`` uses an existing server instead.

Function fixture ``pg_url``: a fresh, empty database on that server for one test, dropped after.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["PgServer", "pg_server", "pg_url"]


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    return None


class PgServer:
    """A running server; ``url(db)`` gives a SQLAlchemy/haikei URL for database ``db``."""

    def __init__(self, base_url: str, own_dir: Path | None = None, as_user: str | None = None) -> None:
        self.base_url = base_url  # URL of the 'postgres' maintenance database
        self.own_dir = own_dir
        self.as_user = as_user

    def url(self, db: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.base_url).set(database=db).render_as_string(hide_password=False)

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            self.base_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
        ) as c:
            c.execute(sql)

    def create_db(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        self._admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_db(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @classmethod
    def start(cls) -> PgServer:
        bindir = _bin_dir()
        if bindir is None:
            raise FileNotFoundError(
                "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql"
            )
        root = Path(tempfile.mkdtemp(prefix="haikei-pg-"))
        as_user = None
        if os.geteuid() == 0:
            as_user = "postgres"
            try:
                pw = pwd.getpwnam(as_user)
            except KeyError:
                shutil.rmtree(root, ignore_errors=True)
                raise FileNotFoundError(
                    "running as root and there is no 'postgres' OS user to run the server"
                ) from None
            os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chmod(root, 0o755)
        data, log = root / "data", root / "server.log"

        def run(*args: str) -> None:
            cmd = [str(bindir / args[0]), *args[1:]]
            if as_user:
                cmd = ["runuser", "-u", as_user, "--", *cmd]
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)

        opts = (
            f"-c listen_addresses='' -c unix_socket_directories='{root}' -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        try:
            run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
            run("pg_ctl", "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise RuntimeError(
                f"throwaway PostgreSQL did not start: {detail.decode(errors='replace')} {text}"
            ) from None
        srv = cls(f"postgresql://postgres@/postgres?host={root}", own_dir=root, as_user=as_user)
        srv._run = run  # type: ignore[attr-defined]
        srv._data = data  # type: ignore[attr-defined]
        return srv

    def stop(self) -> None:
        if self.own_dir is None:
            return
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self._data), "-m", "immediate", "-w", "stop")  # type: ignore[attr-defined]
        shutil.rmtree(self.own_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    given = os.environ.get("HAIKEI_TEST_PG_URL")
    if given:
        yield PgServer(given)
        return
    try:
        srv = PgServer.start()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_db()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_db(name)

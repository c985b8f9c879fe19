"""Database engine, migrations and the one-transaction-per-change session scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from importlib.resources import files
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from haikei.errors import ConfigError, MissingExtraError

__all__ = ["Database", "migrate"]


def _script_location() -> str:
    return str(files("haikei.store") / "migrations")


def _alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", _script_location())
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic upgrade head) in one transaction."""
    from alembic import command

    cfg = _alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    if conn.get_execution_options().get("sqlite_immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


@contextmanager
def _transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session from ``sessions`` that commits on success, rolls back on any error, and closes."""
    s = sessions()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise
    finally:
        s.close()


class Database:
    """An SQLAlchemy engine plus a session factory. One per process per production."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        elif url.startswith("postgresql"):
            try:
                import psycopg  # noqa: F401
            except ImportError:
                raise MissingExtraError("postgres", "a PostgreSQL database") from None
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            kwargs["pool_pre_ping"] = True
        else:
            raise ConfigError(f"database URL {url!r} is neither sqlite:/// nor postgresql://")
        self.engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # let SQLAlchemy issue BEGIN itself so 'BEGIN IMMEDIATE' is possible for claims
            event.listen(self.engine, "connect", lambda c, r: setattr(c, "isolation_level", None))
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._immediate_sessions = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        migrate(self.engine)

    def is_migrated(self) -> bool:
        return "alembic_version" in inspect(self.engine).get_table_names()

    def session(self) -> AbstractContextManager[Session]:
        """One transaction: commit on success, roll back on any error."""
        return _transaction(self._sessions)

    def immediate(self) -> AbstractContextManager[Session]:
        """A write transaction that takes the write lock up front (SQLite BEGIN IMMEDIATE).

        On PostgreSQL it is a plain transaction (use SELECT ... FOR UPDATE SKIP LOCKED inside).
        """
        return _transaction(self._immediate_sessions)

    def dispose(self) -> None:
        self.engine.dispose()

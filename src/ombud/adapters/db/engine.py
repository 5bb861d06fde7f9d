"""Engines for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and ``synchronous=FULL``: a kill or
power cut never loses a commit that was acknowledged. Writing transactions start
with ``BEGIN IMMEDIATE`` (their own engine), so two writers queue on the busy
timeout instead of failing half-way on a lock upgrade; readers use plain BEGIN
and never wait for writers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Engines:
    write: Engine
    read: Engine

    @property
    def dialect(self) -> str:
        return self.write.dialect.name

    def dispose(self) -> None:
        self.write.dispose()
        if self.read is not self.write:
            self.read.dispose()


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"isolation_level": None, "check_same_thread": False, "timeout": 15},
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engines(url: str) -> Engines:
    """Engines for a database URL; for SQLite, separate writer and reader engines."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Engines(write=_sqlite_engine(url, True), read=_sqlite_engine(url, False))
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    return Engines(write=engine, read=engine)

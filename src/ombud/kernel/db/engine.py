"""Engines for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and ``synchronous=FULL``: a kill or
power cut never loses a commit that was acknowledged. Writing transactions start
with ``BEGIN IMMEDIATE`` (their own engine), so two writers queue on the busy
timeout instead of failing half-way on a lock upgrade; readers use plain BEGIN
and never wait for writers.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections import deque
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 15_000
_HELD = "ombud_write_gate"


class FifoLock:
    """A lock handed to its waiters in the order they came: threading.Lock is not fair,
    and under load a writer could wait seconds while later ones got through."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locked = False
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._locked:
                self._locked = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ended
                return True
            self._waiters.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # ownership passes straight to the next
            else:
                self._locked = False


class WriteGate:
    """Writers of one SQLite database queue here before BEGIN IMMEDIATE: first in this
    process (a first-come first-served lock on which waiting threads sleep), then across
    processes (an advisory lock on ``DB.write-lock``, which the kernel drops when its
    process dies, SIGKILL included).

    SQLite's busy handler polls with sleeps growing to 100 ms: under load an unlucky
    writer waited seconds while others kept getting through (p99 3 s at 20 clients).
    Through the gate a write waits for the writes before it, not for its luck. The
    busy timeout stays as the safety net for writers that do not pass through here
    (sqlite3 by hand), and a gate that cannot be taken within it lets the writer go on
    to SQLite's own locking rather than fail.
    """

    def __init__(self, path: str | None, timeout_s: float = SQLITE_BUSY_TIMEOUT_MS / 1000):
        self._lock = FifoLock()
        self._path = f"{path}.write-lock" if path else None
        self._timeout = timeout_s
        self._fd: int | None = None
        self._pid = 0
        self._file_held = False

    def enter(self, info: MutableMapping[str, Any]) -> None:
        if info.get(_HELD):
            return
        if not self._lock.acquire(self._timeout):
            return
        info[_HELD] = True
        self._file_held = self._lock_file()

    def leave(self, info: MutableMapping[str, Any]) -> None:
        if not info.pop(_HELD, False):
            return
        if self._file_held and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._file_held = False
        self._lock.release()

    def _lock_file(self) -> bool:
        if self._path is None:
            return False
        if self._fd is None or self._pid != os.getpid():  # not an inherited descriptor
            try:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return False
            self._pid = os.getpid()
        deadline = time.monotonic() + self._timeout
        delay = 0.0002
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(delay)
                delay = min(delay * 2, 0.002)


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
        # as many as the server's threads: a connection opened per request (and its
        # PRAGMAs) cost more than the request's own statements
        pool_size=20,
        pool_use_lifo=True,
        max_overflow=40,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    if not immediate:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine

    database = make_url(url).database
    gate = WriteGate(database if database and database != ":memory:" else None)

    @event.listens_for(engine, "begin")
    def _on_begin_write(conn: Any) -> None:
        gate.enter(conn.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.leave(conn.info)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(conn: Any) -> None:
        gate.leave(conn.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        gate.leave(record.info)

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

"""The unit of work: one SQLAlchemy connection in one transaction, with the repositories
every area registered (kernel/module.py), each built for that connection."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, cast

from sqlalchemy import Connection

from ombud.kernel.db.engine import Engines
from ombud.kernel.module import RepositoryFactory
from ombud.kernel.ports import UnitOfWork


class SqlUnitOfWork:
    """Nothing is written unless ``commit`` is called; leaving the block rolls back."""

    def __init__(
        self,
        engines: Engines,
        repositories: Mapping[str, RepositoryFactory],
        readonly: bool = False,
    ) -> None:
        self._engines = engines
        self._repositories = repositories
        self._readonly = readonly
        self._conn: Connection | None = None

    def __enter__(self) -> UnitOfWork:
        engine = self._engines.read if self._readonly else self._engines.write
        self._conn = engine.connect()
        self._conn.begin()
        dialect = engine.dialect.name
        for name, make in self._repositories.items():
            setattr(self, name, make(self._conn, dialect))
        # The attributes are the registered repositories: UnitOfWork names them for typing.
        return cast(UnitOfWork, self)

    def __getattr__(self, name: str) -> Any:
        # Only reached for an attribute no area registered, or outside the block.
        raise AttributeError(f"the unit of work has no {name!r} (outside its block, or unknown)")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        if self._readonly:
            raise RuntimeError("commit on a read-only unit of work")
        assert self._conn is not None
        self._conn.commit()

    def rollback(self) -> None:
        assert self._conn is not None
        self._conn.rollback()


class SqlUnitOfWorkFactory:
    """Makes units of work over ``engines`` with the given repositories (by attribute)."""

    def __init__(self, engines: Engines, repositories: Mapping[str, RepositoryFactory]) -> None:
        self.engines = engines
        self.repositories = dict(repositories)

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        return cast(UnitOfWork, SqlUnitOfWork(self.engines, self.repositories, readonly=readonly))

"""Apply and inspect Alembic migrations (used by `ombud db ...` and the tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ombud.kernel.db.engine import Engines

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _run(engines: Engines, step: Callable[[Config], None]) -> None:
    with engines.write.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite rebuilds a table to change it: with foreign keys on, dropping
            # the old copy of a parent would cascade into its children. The pragma
            # only takes effect outside a transaction, so it goes to the driver's
            # connection before SQLAlchemy begins one.
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            cfg = _config()
            cfg.attributes["connection"] = conn
            step(cfg)
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left broken references: {broken[:5]}")
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def upgrade(engines: Engines, target: str = "head") -> None:
    _run(engines, lambda cfg: command.upgrade(cfg, target))


def downgrade(engines: Engines, target: str = "base") -> None:
    _run(engines, lambda cfg: command.downgrade(cfg, target))


def current(engines: Engines) -> str | None:
    with engines.read.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()

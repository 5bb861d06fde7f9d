"""Apply and inspect Alembic migrations (used by `ombud db ...` and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ombud.adapters.db.engine import Engines

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engines: Engines, target: str = "head") -> None:
    with engines.write.connect() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
        conn.commit()


def downgrade(engines: Engines, target: str = "base") -> None:
    with engines.write.connect() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)
        conn.commit()


def current(engines: Engines) -> str | None:
    with engines.read.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()

"""Composition root: the one place that builds adapters and hands them to services."""

from __future__ import annotations

from dataclasses import dataclass

from ombud.adapters.db import migrate
from ombud.adapters.db.engine import Engines, make_engines
from ombud.adapters.db.uow import SqlUnitOfWorkFactory
from ombud.adapters.demo_data import read_demo_data
from ombud.adapters.passwords import Argon2PasswordHasher
from ombud.config import Settings, load_settings
from ombud.services.accounts import AccountsService
from ombud.services.demo import DemoService
from ombud.services.ledger import LedgerService
from ombud.services.public_register import PublicRegisterService
from ombud.services.register import RegisterService


class Migrations:
    """Schema migrations for the configured database (`ombud db ...`)."""

    def __init__(self, engines: Engines) -> None:
        self._engines = engines

    def upgrade(self, target: str = "head") -> None:
        migrate.upgrade(self._engines, target)

    def downgrade(self, target: str = "base") -> None:
        migrate.downgrade(self._engines, target)

    def current(self) -> str | None:
        return migrate.current(self._engines)

    def head(self) -> str | None:
        return migrate.head()

    @property
    def dialect(self) -> str:
        return self._engines.dialect


@dataclass
class Container:
    settings: Settings
    engines: Engines
    migrations: Migrations
    accounts: AccountsService
    register: RegisterService
    public_register: PublicRegisterService
    ledger: LedgerService
    demo: DemoService

    def close(self) -> None:
        self.engines.dispose()


def bootstrap(settings: Settings | None = None, fast_password_hashing: bool = False) -> Container:
    """Wire ombud for the given settings (default: from OMBUD_* environment variables)."""
    settings = settings or load_settings()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.ensure_data_dir()
    engines = make_engines(settings.resolved_database_url)
    uow = SqlUnitOfWorkFactory(engines)
    hasher = Argon2PasswordHasher(fast=fast_password_hashing)
    accounts = AccountsService(uow, hasher, session_hours=settings.session_hours)
    register = RegisterService(uow)
    return Container(
        settings=settings,
        engines=engines,
        migrations=Migrations(engines),
        accounts=accounts,
        register=register,
        public_register=PublicRegisterService(uow),
        ledger=LedgerService(uow),
        demo=DemoService(accounts, register, read_demo_data),
    )

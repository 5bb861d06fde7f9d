"""Fixtures of the accounts service tests: a clock the test moves, the service with
and without e-mail."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ombud.accounts.passwords import Argon2PasswordHasher
from ombud.accounts.service import AccountsService
from tests.accounts.support import BASE


class FakeClock:
    """A clock the test moves by hand: no sleeping for lockouts and expiries."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _service(container, clock, mail: bool) -> AccountsService:
    return AccountsService(
        container.accounts.uow_factory,
        Argon2PasswordHasher(fast=True),
        clock=clock,
        base_url=BASE,
        mail_enabled=mail,
    )


@pytest.fixture
def accounts(container, clock) -> AccountsService:
    """The accounts service on the test database, with a clock the test controls and
    e-mail on (links are mailed through the outbox)."""
    return _service(container, clock, mail=True)


@pytest.fixture
def no_mail(container, clock) -> AccountsService:
    """The same service on an installation without e-mail."""
    return _service(container, clock, mail=False)

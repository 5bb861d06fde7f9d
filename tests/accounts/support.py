"""What the accounts service tests share: the people they act as, reading a table or
the outbox straight from the database, a refused sign-in."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from ombud.kernel.access import SYSTEM_PRINCIPAL, Role
from ombud.kernel.errors import Unauthenticated
from ombud.notifications.tables import outbox
from tests.conftest import PASSWORD

EMAIL = "city-editor@example.org"

BASE = "https://ombud.example.org"
LINK_RE = re.compile(re.escape(BASE) + r"/set-password/([A-Za-z0-9_-]+)")
NEW = "new.person@example.org"
NEW_PASSWORD = "a passphrase of my own"


def mails_to(container, address: str) -> list[dict]:
    """The mails waiting in the outbox for the address."""
    return [r for r in table_rows(container, outbox) if r["recipient"] == address]


def link_token(container, address: str) -> str:
    """The token of the newest set-password link mailed to the address."""
    found = [m for r in mails_to(container, address) for m in LINK_RE.findall(r["body"])]
    assert found, f"no set-password link was mailed to {address}"
    return found[-1]


def email_hash(email: str) -> str:
    """How the sign-in throttle keeps an address (never in clear)."""
    return hashlib.sha256(email.encode()).hexdigest()


def table_rows(container, table) -> list[dict]:
    """Every row of a table, read straight from the database."""
    with container.engines.write.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


def refused_sign_in(accounts, email: str = EMAIL, password: str = "wrong password guess") -> str:
    """Sign in and expect a refusal (401); its words."""
    with pytest.raises(Unauthenticated) as exc:
        accounts.login(email, password)
    assert exc.value.http_status == 401
    return exc.value.message


def role_of(container, org_id: int, email: str) -> Role | None:
    """The address's role in the organisation (None: not a member)."""
    members = container.accounts.members(SYSTEM_PRINCIPAL, org_id)
    return {u.email: r for u, r in members}.get(email)


def new_superuser(container, email: str = "root@example.org"):
    """A new platform administrator, signed in as a principal."""
    user = container.accounts.create_user(SYSTEM_PRINCIPAL, email, PASSWORD, "Root", superuser=True)
    return container.accounts.principal_for_user(user.id)

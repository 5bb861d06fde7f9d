"""What every part of the accounts service shares: its settings, the principal of an
account, who the operator is, and how credentials are kept (their sha256 only)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from ombud.accounts.domain import User
from ombud.accounts.ports import PasswordHasher
from ombud.kernel.access import SYSTEM_PRINCIPAL, Principal
from ombud.kernel.errors import NotFound, Unauthenticated
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import Service, utcnow

# A hash computed for unknown e-mail addresses, so that sign-in takes as long
# whether or not the account exists.
_DUMMY_PASSWORD = "not-a-password-" + "x" * 16


def sha256_hex(value: str) -> str:
    """The form a session, API token or set-password link is stored in: never in clear."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def is_operator(actor: Principal) -> bool:
    """The platform operator: the command line, the demo loader and tests act as
    SYSTEM_PRINCIPAL (user id 0). Unlike a signed-in platform administrator, it may
    manage the members of any organisation."""
    return actor.is_superuser and actor.user_id == SYSTEM_PRINCIPAL.user_id


class AccountsBase(Service):
    """The settings every part of ``AccountsService`` reads, and loading principals."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        session_hours: int = 8,
        clock: Clock = utcnow,
        languages: tuple[str, ...] = ("en",),
        base_url: str = "http://127.0.0.1:8000",
        mail_enabled: bool = False,
    ) -> None:
        super().__init__(uow_factory, clock)
        self.languages = languages  # those with a message catalogue
        self.hasher = hasher
        self.session_lifetime = timedelta(hours=session_hours)
        self._dummy_hash = hasher.hash(_DUMMY_PASSWORD)
        # Links in mail start with the configured public address (OMBUD_PUBLIC_URL),
        # never with the Host of the request that caused them.
        self.base_url = base_url.rstrip("/")
        self.mail_enabled = mail_enabled  # an SMTP server is set (OMBUD_SMTP_HOST)

    def _principal(self, uow: UnitOfWork, user: User) -> Principal:
        orgs = uow.users.memberships_of(user.id)
        memberships = {org.id: role for org, role in orgs}
        kinds = {org.id: org.kind for org, _ in orgs}
        overseers = [org.id for org, _ in orgs if org.kind.oversees]
        return Principal(
            user_id=user.id,
            email=user.email,
            memberships=memberships,
            org_kinds=kinds,
            jurisdiction=uow.organisations.jurisdiction_of(overseers),
            is_superuser=user.is_superuser,
        )

    def principal_for_user(self, user_id: int) -> Principal:
        """Who an active account is now: its memberships, roles and jurisdiction."""
        with self.uow_factory(readonly=True) as uow:
            user = uow.users.get(user_id)
            if user is None or not user.is_active:
                raise Unauthenticated("This account does not exist or is disabled.")
            return self._principal(uow, user)

    def principal_for_email(self, email: str) -> Principal:
        """For operator tools acting on behalf of a named account."""
        with self.uow_factory(readonly=True) as uow:
            user = uow.users.get_by_email(email.strip().lower())
            if user is None or not user.is_active:
                raise NotFound(f"No active account for {email}.")
            return self._principal(uow, user)

"""Ports: what services need from the outside world, as Protocols.

Adapters (adapters/db, adapters/passwords.py, ...) implement them; bootstrap.py
wires them in. Services and domain never import an adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol

from ombud.assessments.ports import AssessmentRepository, EvidenceRepository
from ombud.audits.ports import AuditRunRepository, FindingRepository
from ombud.domain.accounts import (
    ApiToken,
    LinkPurpose,
    Membership,
    Organisation,
    PasswordLink,
    SignInThrottle,
    User,
    WebSession,
)
from ombud.domain.lifecycle import LifecycleStage
from ombud.domain.revisions import Revision, Transition
from ombud.domain.systems import (
    AISystem,
    PublicationState,
    RiskLevel,
    Sector,
    SystemDetails,
)
from ombud.incidents.ports import IncidentRepository
from ombud.kernel.access import OrganisationKind, Role
from ombud.kernel.ledger.ports import LedgerRepository
from ombud.kernel.ports import Page, PageResult
from ombud.notifications.ports import OutboxRepository
from ombud.remedies.ports import CaseRepository


@dataclass(frozen=True)
class SystemFilter:
    """Filters for listing systems. ``organisation_ids`` bounds what may be seen."""

    organisation_ids: frozenset[int] | None = None  # None: no bound (public search bounds by state)
    organisation_id: int | None = None
    sector: Sector | None = None
    lifecycle_stage: LifecycleStage | None = None
    risk_level: RiskLevel | None = None
    publication_state: PublicationState | None = None
    text: str = ""


@dataclass(frozen=True)
class SystemListing:
    system: AISystem
    organisation: Organisation


@dataclass(frozen=True)
class NewSystem:
    organisation_id: int
    details: SystemDetails
    lifecycle_stage: LifecycleStage
    at: datetime
    publication_state: PublicationState = PublicationState.DRAFT
    risk_level: RiskLevel = RiskLevel.UNASSESSED
    extra: dict[str, object] = field(default_factory=dict)


class OrganisationRepository(Protocol):
    def add(
        self, name: str, slug: str, kind: OrganisationKind, country: str, at: datetime
    ) -> Organisation: ...
    def get(self, org_id: int, for_update: bool = False) -> Organisation | None: ...
    def set_notice_languages(self, org_id: int, languages: tuple[str, ...]) -> None: ...
    def get_by_slug(self, slug: str) -> Organisation | None: ...
    def all(self) -> list[Organisation]: ...
    def count(self) -> int: ...
    def add_jurisdiction(self, oversight_id: int, org_id: int) -> bool: ...
    def remove_jurisdiction(self, oversight_id: int, org_id: int) -> bool: ...
    def jurisdiction_of(self, oversight_ids: Sequence[int]) -> frozenset[int]: ...
    def overseers_of(self, org_id: int) -> list[Organisation]: ...


class UserRepository(Protocol):
    def add(
        self,
        email: str,
        display_name: str,
        password_hash: str,
        is_superuser: bool,
        at: datetime,
        claimed: bool = True,
    ) -> User: ...
    def get(self, user_id: int, for_update: bool = False) -> User | None: ...
    def get_by_email(self, email: str) -> User | None: ...
    def set_password_hash(self, user_id: int, password_hash: str) -> None: ...
    def mark_claimed(self, user_id: int) -> None: ...
    def set_active(self, user_id: int, active: bool) -> None: ...
    def set_membership(self, user_id: int, org_id: int, role: Role) -> Membership | None: ...
    def remove_membership(self, user_id: int, org_id: int) -> Role | None: ...
    def memberships_of(self, user_id: int) -> list[tuple[Organisation, Role]]: ...
    def members_of(self, org_id: int) -> list[tuple[User, Role]]: ...


class CredentialRepository(Protocol):
    def add_session(
        self, token_hash: str, user_id: int, csrf_token: str, at: datetime, expires_at: datetime
    ) -> None: ...
    def get_session(self, token_hash: str) -> WebSession | None: ...
    def delete_session(self, token_hash: str) -> None: ...
    def delete_sessions_of(self, user_id: int) -> None: ...
    def add_token(
        self,
        user_id: int,
        name: str,
        token_hash: str,
        prefix: str,
        at: datetime,
        expires_at: datetime | None,
    ) -> ApiToken: ...
    def get_token_by_hash(self, token_hash: str) -> ApiToken | None: ...
    def get_token(self, token_id: int) -> ApiToken | None: ...
    def tokens_of(self, user_id: int) -> list[ApiToken]: ...
    def revoke_token(self, token_id: int, at: datetime) -> None: ...
    def revoke_tokens_of(self, user_id: int, at: datetime) -> list[ApiToken]:
        """Revoke every usable token of the user; returns those it revoked."""
        ...

    def touch_token(self, token_id: int, at: datetime) -> None: ...


class PasswordLinkRepository(Protocol):
    def add(
        self,
        user_id: int,
        token_hash: str,
        purpose: LinkPurpose,
        organisation_id: int | None,
        created_by: str,
        at: datetime,
        expires_at: datetime,
    ) -> PasswordLink: ...
    def get_by_hash(self, token_hash: str, for_update: bool = False) -> PasswordLink | None: ...
    def use(self, link_id: int, at: datetime) -> bool:
        """Mark the link used; False if it already was (a second, concurrent use)."""
        ...

    def retire_unused(self, user_id: int, at: datetime) -> int:
        """End every still-unused link of the user (a newer one replaces them)."""
        ...

    def inviting_organisation(self, user_id: int) -> int | None:
        """The organisation whose invitation created the account (its first link)."""
        ...


class SignInThrottleRepository(Protocol):
    def get(self, email_hash: str) -> SignInThrottle | None: ...
    def add_failure(self, email_hash: str, at: datetime, forget_before: datetime) -> int:
        """Count one more failure (starting again if the last was before
        ``forget_before``); returns the count."""
        ...

    def set_not_before(self, email_hash: str, not_before: datetime | None) -> None: ...
    def clear(self, email_hash: str) -> None: ...
    def prune(self, before: datetime) -> int:
        """Forget addresses whose last failure was before ``before``."""
        ...


class SystemRepository(Protocol):
    def add(self, new: NewSystem) -> AISystem: ...
    def get(self, system_id: int, for_update: bool = False) -> AISystem | None: ...
    def save(self, system: AISystem) -> None: ...
    def delete(self, system_id: int) -> None: ...
    def search(self, flt: SystemFilter, page: Page) -> PageResult[SystemListing]: ...
    def iter_listings(self, flt: SystemFilter, batch: int = 1000) -> Iterator[SystemListing]: ...
    def organisations_with(self, state: PublicationState) -> list[Organisation]: ...
    def add_revision(self, revision: Revision) -> None: ...
    def revisions(self, system_id: int) -> list[Revision]: ...
    def add_transition(self, transition: Transition) -> None: ...
    def transitions(self, system_id: int) -> list[Transition]: ...


class UnitOfWork(Protocol):
    """One transaction. Nothing is written unless ``commit`` is called."""

    organisations: OrganisationRepository
    users: UserRepository
    credentials: CredentialRepository
    password_links: PasswordLinkRepository
    sign_in_throttle: SignInThrottleRepository
    systems: SystemRepository
    ledger: LedgerRepository
    assessments: AssessmentRepository
    evidence: EvidenceRepository
    cases: CaseRepository
    incidents: IncidentRepository
    outbox: OutboxRepository
    audit_runs: AuditRunRepository
    findings: FindingRepository

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, readonly: bool = False) -> UnitOfWork: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...

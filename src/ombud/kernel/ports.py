"""Ports every area shares: paging, the clock and the unit of work."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # the one unit of work names every area's repositories (typing only)
    from ombud.accounts.ports import (
        CredentialRepository,
        OrganisationRepository,
        PasswordLinkRepository,
        SignInThrottleRepository,
        UserRepository,
    )
    from ombud.assessments.ports import AssessmentRepository, EvidenceRepository
    from ombud.audits.ports import AuditRunRepository, FindingRepository
    from ombud.incidents.ports import IncidentRepository
    from ombud.kernel.ledger.ports import LedgerRepository
    from ombud.notifications.ports import OutboxRepository
    from ombud.register.ports import SystemRepository
    from ombud.remedies.ports import CaseRepository


class Clock(Protocol):
    def __call__(self) -> datetime: ...


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

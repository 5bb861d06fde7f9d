"""The unit of work: one SQLAlchemy connection in one transaction, with repositories."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection

from ombud.accounts.ports import (
    CredentialRepository,
    OrganisationRepository,
    PasswordLinkRepository,
    SignInThrottleRepository,
    UserRepository,
)
from ombud.accounts.repository import (
    SqlCredentialRepository,
    SqlOrganisationRepository,
    SqlPasswordLinkRepository,
    SqlSignInThrottleRepository,
    SqlUserRepository,
)
from ombud.assessments.ports import AssessmentRepository, EvidenceRepository
from ombud.assessments.repository import SqlAssessmentRepository, SqlEvidenceRepository
from ombud.audits.ports import AuditRunRepository, FindingRepository
from ombud.audits.repository import SqlAuditRunRepository, SqlFindingRepository
from ombud.incidents.ports import IncidentRepository
from ombud.incidents.repository import SqlIncidentRepository
from ombud.kernel.db.engine import Engines
from ombud.kernel.ledger.domain import LedgerKeyStore
from ombud.kernel.ledger.ports import LedgerRepository
from ombud.kernel.ledger.repository import SqlLedgerRepository
from ombud.kernel.ports import UnitOfWork
from ombud.notifications.ports import OutboxRepository
from ombud.notifications.repository import SqlOutboxRepository
from ombud.register.ports import SystemRepository
from ombud.register.repository import SqlSystemRepository
from ombud.remedies.ports import CaseRepository
from ombud.remedies.repository import SqlCaseRepository


class SqlUnitOfWork:
    """Nothing is written unless ``commit`` is called; leaving the block rolls back."""

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

    def __init__(
        self, engines: Engines, readonly: bool = False, keys: LedgerKeyStore | None = None
    ) -> None:
        self._engines = engines
        self._readonly = readonly
        self._keys = keys  # the ledger's installation key, outside the database
        self._conn: Connection | None = None

    def __enter__(self) -> UnitOfWork:
        engine = self._engines.read if self._readonly else self._engines.write
        self._conn = engine.connect()
        self._conn.begin()
        conn = self._conn
        dialect = engine.dialect.name
        self.organisations = SqlOrganisationRepository(conn)
        self.users = SqlUserRepository(conn)
        self.credentials = SqlCredentialRepository(conn)
        self.password_links = SqlPasswordLinkRepository(conn)
        self.sign_in_throttle = SqlSignInThrottleRepository(conn)
        self.systems = SqlSystemRepository(conn, dialect)
        self.ledger = SqlLedgerRepository(conn, self._keys)
        self.assessments = SqlAssessmentRepository(conn)
        self.evidence = SqlEvidenceRepository(conn)
        self.cases = SqlCaseRepository(conn)
        self.incidents = SqlIncidentRepository(conn)
        self.outbox = SqlOutboxRepository(conn)
        self.audit_runs = SqlAuditRunRepository(conn)
        self.findings = SqlFindingRepository(conn)
        return self

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
    def __init__(self, engines: Engines, keys: LedgerKeyStore | None = None) -> None:
        self.engines = engines
        self.keys = keys

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        return SqlUnitOfWork(self.engines, readonly=readonly, keys=self.keys)

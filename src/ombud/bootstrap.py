"""Composition root: the one place that builds adapters and hands them to services."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ombud.accounts.passwords import Argon2PasswordHasher
from ombud.accounts.service import AccountsService
from ombud.assessments.domain import Template
from ombud.assessments.loader import load_templates
from ombud.assessments.renderer import AssessmentDocuments
from ombud.assessments.service import AssessmentsService
from ombud.audits.charts import AuditPlots
from ombud.audits.data import LocalAuditData
from ombud.audits.service import AuditRunService
from ombud.audits.standalone import audit_service
from ombud.compliance.applicability import ApplicabilityRule
from ombud.compliance.domain import Requirement
from ombud.compliance.rules import load_requirements, load_rules
from ombud.compliance.service import ComplianceService
from ombud.demo.data import DEMO_AUDIT_DIR, read_demo_data
from ombud.demo.service import DemoService
from ombud.incidents.service import IncidentService
from ombud.instruments.catalogue import load_catalogue
from ombud.instruments.domain import Catalogue
from ombud.instruments.oscal import OscalExporter
from ombud.instruments.service import InstrumentsService
from ombud.kernel.config import Settings, load_settings
from ombud.kernel.db.engine import Engines, make_engines
from ombud.kernel.db.uow import SqlUnitOfWorkFactory
from ombud.kernel.events import EventBus
from ombud.kernel.i18n import Catalogues, available_languages
from ombud.kernel.ledger.keys import CheckpointFiles, LedgerKeyFile
from ombud.kernel.ledger.records import RecordSource
from ombud.kernel.ledger.repository import SqlLedgerRepository
from ombud.kernel.ledger.trust import LedgerKeyStore
from ombud.kernel.module import RepositoryFactory, contributions
from ombud.kernel.service import Service
from ombud.kernel.yaml_schema import read_mapping_lines
from ombud.ledger.service import LedgerService, LedgerSetUp
from ombud.modules import MODULES
from ombud.notices.renderer import NoticeDocuments
from ombud.notices.service import NoticeService
from ombud.notifications.service import NotificationService
from ombud.notifications.smtp import SmtpMailer
from ombud.register.domain.gates import GateRegistry
from ombud.register.public_service import PublicRegisterService
from ombud.register.service import RegisterService
from ombud.remedies.domain import AttachmentLimits
from ombud.remedies.service import RemediesService


class Migrations:
    """Schema migrations for the configured database (`ombud db ...`). Alembic is imported
    when a migration command runs, not by every server worker at start."""

    def __init__(self, engines: Engines, ledger: LedgerService | None = None) -> None:
        self._engines = engines
        self._ledger = ledger

    def upgrade(self, target: str = "head", create_key: bool = False) -> LedgerSetUp | None:
        """Migrate; at the newest revision, set up the ledger's installation key (made
        when ``create_key`` or when entries written before it need sealing)."""
        from ombud.kernel.db import migrate

        migrate.upgrade(self._engines, target)
        if self._ledger is None or self.current() != self.head():
            return None
        return self._ledger.set_up(create_key=create_key)

    def downgrade(self, target: str = "base") -> None:
        from ombud.kernel.db import migrate

        migrate.downgrade(self._engines, target)

    def current(self) -> str | None:
        from ombud.kernel.db import migrate

        return migrate.current(self._engines)

    def head(self) -> str | None:
        from ombud.kernel.db import migrate

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
    instruments: InstrumentsService
    compliance: ComplianceService
    assessments: AssessmentsService
    remedies: RemediesService
    notices: NoticeService
    incidents: IncidentService
    notifications: NotificationService
    i18n: Catalogues
    audit_runs: AuditRunService

    def close(self) -> None:
        self.engines.dispose()


def repositories(keys: LedgerKeyStore) -> dict[str, RepositoryFactory]:
    """Every unit of work's repositories: the ledger's (with the installation key, kept
    outside the database) and each area's."""

    sources: dict[str, RecordSource] = {}
    for found_sources in contributions(MODULES, "record_sources"):
        sources.update(found_sources)

    def ledger(conn: Any, dialect: str) -> SqlLedgerRepository:
        return SqlLedgerRepository(conn, keys, sources)

    found: dict[str, RepositoryFactory] = {"ledger": ledger}
    for area_repositories in contributions(MODULES, "repositories"):
        found.update(area_repositories)
    return found


def event_bus() -> EventBus:
    """The areas' subscriptions to domain events (their modules' SUBSCRIPTIONS)."""
    bus = EventBus()
    for subscriptions in contributions(MODULES, "subscriptions"):
        for event_type, handler in subscriptions:
            bus.subscribe(event_type, handler)
    return bus


@lru_cache(maxsize=1)
def shipped_catalogue() -> tuple[Catalogue, tuple[ApplicabilityRule, ...], tuple[Requirement, ...]]:
    """The catalogue, rules and requirements shipped with ombud, validated once.

    An invalid file raises SchemaError naming file, line and field: ombud refuses
    to start rather than serve a half-loaded catalogue.
    """
    catalogue = load_catalogue()
    return catalogue, load_rules(catalogue), load_requirements(catalogue)


@lru_cache(maxsize=1)
def shipped_templates() -> dict[str, Template]:
    """Every shipped assessment template version, validated against the catalogue."""
    return load_templates(shipped_catalogue()[0])


def bootstrap(settings: Settings | None = None, fast_password_hashing: bool = False) -> Container:
    """Wire ombud for the given settings (default: from OMBUD_* environment variables)."""
    settings = settings or load_settings()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.ensure_data_dir()
    engines = make_engines(settings.resolved_database_url)
    # The ledger's key lives outside the database; it is read (or made) when first needed.
    ledger_keys = LedgerKeyFile(settings.resolved_ledger_key_file)
    uow = SqlUnitOfWorkFactory(engines, repositories(ledger_keys))
    ledger = LedgerService(
        uow,
        ledger_keys,
        CheckpointFiles(settings.resolved_ledger_checkpoint_dir),
        records=[spec for specs in contributions(MODULES, "record_specs") for spec in specs],
    )
    hasher = Argon2PasswordHasher(fast=fast_password_hashing)
    accounts = AccountsService(
        uow,
        hasher,
        session_hours=settings.session_hours,
        languages=available_languages(),
        base_url=settings.base_url,
        mail_enabled=bool(settings.smtp_host),
    )
    events = event_bus()
    register = RegisterService(
        uow,
        gates=GateRegistry([g for gates in contributions(MODULES, "gates") for g in gates]),
        gate_facts=contributions(MODULES, "gate_facts"),
        kept_records=contributions(MODULES, "kept_records"),
    )
    catalogue, rules, requirements = shipped_catalogue()
    public_register = PublicRegisterService(uow)
    remedies = RemediesService(
        uow,
        limits=AttachmentLimits(
            settings.attachment_max_bytes,
            settings.attachment_max_files,
            settings.attachment_case_max,
        ),
        base_url=settings.base_url,
    )
    incidents = IncidentService(uow)
    catalogues = Catalogues()
    audit_runs = AuditRunService(
        uow,
        lambda: audit_service(settings.audit_engine),
        LocalAuditData(
            settings.data_dir, settings.audit_data_root, settings.audit_upload_max_bytes
        ),
        AuditPlots(),
    )
    assessments = AssessmentsService(
        uow, shipped_templates(), read_answers=read_mapping_lines, reports=AssessmentDocuments()
    )
    container = Container(
        settings=settings,
        engines=engines,
        migrations=Migrations(engines, ledger),
        accounts=accounts,
        register=register,
        public_register=public_register,
        ledger=ledger,
        demo=DemoService(
            accounts,
            register,
            read_demo_data,
            assessments,
            remedies,
            incidents,
            audit_runs,
            DEMO_AUDIT_DIR,
        ),
        instruments=InstrumentsService(catalogue, requirements, OscalExporter()),
        compliance=ComplianceService(uow, catalogue, rules, requirements),
        assessments=assessments,
        remedies=remedies,
        notices=NoticeService(public_register, NoticeDocuments(), catalogues.negotiate),
        i18n=catalogues,
        audit_runs=audit_runs,
        incidents=incidents,
        notifications=NotificationService(
            uow,
            SmtpMailer(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_from,
                settings.smtp_user,
                settings.smtp_password,
                settings.smtp_starttls,
                settings.smtp_timeout,
            )
            if settings.smtp_host
            else None,
        ),
    )
    # One bus for every service: a service's events reach the areas that subscribed.
    for service in vars(container).values():
        if isinstance(service, Service):
            service.events = events
    return container

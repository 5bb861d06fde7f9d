"""Confirmed incidents: record, update, resolve, publish (anonymised), exchange.

A confirmed incident (unga-78-265:op6.c; coe-fc:16.2.e-f; ipa-cis-2024 for
malicious and terrorist use) makes the system's signed assessments stale: they
were signed without knowing of it, and risk and impact management is to "apply
iteratively throughout the activities within the lifecycle" (coe-fc:16.2.d).
Exports serve the exchange of information on risks and effects (coe-fc:25.2).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from ombud.accounts.access import authorize, get_org, org_ref
from ombud.incidents.domain import (
    ExchangeError,
    Imported,
    Incident,
    IncidentDraft,
    IncidentStatus,
    Severity,
    SystemParties,
    from_aiid,
    from_avid,
    import_keys,
    public_view,
    to_aiid,
    to_avid,
)
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.paging import PageResult
from ombud.kernel.ports import UnitOfWork
from ombud.kernel.safe_load import Limits, format_path, load_json, text_problem, text_problems
from ombud.kernel.service import Service, page_of
from ombud.register.access import readable_system
from ombud.register.domain.events import SystemChangedMaterially
from ombud.register.domain.systems import AISystem, PublicationState
from ombud.remedies.domain import CaseMessage, Category

ExchangeFormat = Literal["aiid", "avid"]
IMPORT_MAX_RECORDS = 1000
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_LIMITS = Limits(max_bytes=IMPORT_MAX_BYTES)


def _draft_problems(draft: IncidentDraft, now: datetime) -> dict[str, str]:
    # The last line for text from the CLI and imports (the web refuses it earlier):
    # a control character would reach the database (PostgreSQL refuses NUL).
    problems = {
        name: bad
        for name, value in asdict(draft).items()
        if isinstance(value, str) and (bad := text_problem(value))
    }
    return problems or draft.problems(now)


@dataclass(frozen=True)
class ImportResult:
    created: list[int]
    skipped: list[str]  # source keys already on record for the system


def _parties(system: AISystem, org_name: str) -> SystemParties:
    d = system.details
    return SystemParties(
        system_name=d.name,
        deployer=org_name,
        developer=d.provider
        or d.vendor
        or (org_name if d.sourcing.value == "built_in_house" else ""),
        affected_groups=tuple(d.affected_groups),
    )


def _snapshot(incident: Incident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "category": incident.category.value,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "people_affected": incident.people_affected,
        "case_id": incident.case_id,
    }


class IncidentService(Service):
    def _writable(
        self, uow: UnitOfWork, actor: Principal, incident_id: int
    ) -> tuple[Incident, AISystem]:
        incident = uow.incidents.get(incident_id, for_update=True)
        if incident is None:
            raise NotFound(f"Incident {incident_id} does not exist or is not visible to you.")
        system, org = readable_system(uow, actor, incident.system_id, lock=True)
        authorize(actor, Action.INCIDENT_RECORD, org)
        return incident, system

    def record(
        self,
        actor: Principal,
        system_id: int,
        draft: IncidentDraft,
        case_id: int | None = None,
        external: dict[str, Any] | None = None,
    ) -> Incident:
        """Record a confirmed incident; the system's signed assessments become stale."""
        now = self.clock()
        problems = _draft_problems(draft, now)
        if problems:
            raise Invalid.from_fields(problems)
        with self.uow_factory() as uow:
            system, org = readable_system(uow, actor, system_id, lock=True)
            authorize(actor, Action.INCIDENT_RECORD, org)
            if case_id is not None:
                case = uow.cases.get(case_id)
                if case is None or case.system_id != system.id:
                    raise Invalid.from_fields(
                        {"case_id": f"Case {case_id} is not a case about this system."}
                    )
            incident = uow.incidents.add(
                Incident.from_draft(draft, system.id, org.id, actor.label, now, case_id, external)
            )
            self._record(
                uow,
                actor,
                LedgerAction.CREATE,
                "incident",
                incident.id,
                org.id,
                after=_snapshot(incident),
            )
            if case_id is not None:
                uow.cases.add_message(
                    CaseMessage(
                        case_id,
                        now,
                        actor.label,
                        f"Confirmed as incident {incident.id}: {incident.title}",
                        True,
                        org.id,
                    )
                )
            why = f"Incident {incident.id} recorded ({incident.severity.value}): {incident.title}"
            self._publish(uow, SystemChangedMaterially(actor, system.id, org.id, why, now))
            uow.commit()
            return incident

    def update(self, actor: Principal, incident_id: int, draft: IncidentDraft) -> Incident:
        """Correct or complete an incident (root cause, corrective action, summary)."""
        problems = _draft_problems(draft, self.clock())
        if problems:
            raise Invalid.from_fields(problems)
        with self.uow_factory() as uow:
            incident, _ = self._writable(uow, actor, incident_id)
            before = _snapshot(incident)
            changed = incident.updated(draft)
            uow.incidents.save(changed)
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "incident",
                incident.id,
                incident.organisation_id,
                before=before,
                after=_snapshot(changed),
            )
            uow.commit()
            return changed

    def resolve(self, actor: Principal, incident_id: int) -> Incident:
        """Close an incident once its root cause and corrective action are recorded."""
        with self.uow_factory() as uow:
            incident, _ = self._writable(uow, actor, incident_id)
            if incident.status is IncidentStatus.RESOLVED:
                return incident
            problems = incident.resolution_problems()
            if problems:
                raise Invalid.from_fields(problems)
            incident.status = IncidentStatus.RESOLVED
            incident.resolved_at = self.clock()
            uow.incidents.save(incident)
            self._record(
                uow,
                actor,
                LedgerAction.TRANSITION,
                "incident",
                incident.id,
                incident.organisation_id,
                before={"status": IncidentStatus.OPEN.value},
                after={"status": IncidentStatus.RESOLVED.value},
            )
            uow.commit()
            return incident

    # -- reading ----------------------------------------------------------------

    def get(self, actor: Principal, incident_id: int) -> tuple[Incident, AISystem]:
        with self.uow_factory(readonly=True) as uow:
            incident = uow.incidents.get(incident_id)
            missing = NotFound(f"Incident {incident_id} does not exist or is not visible to you.")
            if incident is None:
                raise missing
            try:
                system, _ = readable_system(uow, actor, incident.system_id)
            except NotFound:
                raise missing from None
            return incident, system

    def for_system(self, actor: Principal, system_id: int) -> list[Incident]:
        with self.uow_factory(readonly=True) as uow:
            system, _ = readable_system(uow, actor, system_id)
            return uow.incidents.for_system(system.id)

    def for_case(self, actor: Principal, case_id: int) -> list[Incident]:
        """Incidents confirmed from a case the actor may see (checked by the caller)."""
        with self.uow_factory(readonly=True) as uow:
            return [
                i
                for i in uow.incidents.for_case(case_id)
                if is_allowed(actor, Action.SYSTEM_READ, org_ref(get_org(uow, i.organisation_id)))
            ]

    def incidents(
        self, actor: Principal, open_only: bool = False, offset: int = 0, limit: int = 50
    ) -> PageResult[Incident]:
        """The incident log of every organisation whose records the actor may read."""
        page = page_of(offset, limit)
        with self.uow_factory(readonly=True) as uow:
            readable = frozenset(
                o.id
                for o in uow.organisations.all()
                if o.kind.operates_systems and is_allowed(actor, Action.SYSTEM_READ, org_ref(o))
            )
            items, total = (
                uow.incidents.for_organisations(readable, page.offset, page.limit, open_only)
                if readable
                else ([], 0)
            )
        return PageResult(items, total, page.offset, page.limit)

    def public_for_system(self, system_id: int) -> list[dict[str, Any]]:
        """Serious incidents of a published system, anonymised, for the public register."""
        with self.uow_factory(readonly=True) as uow:
            system = uow.systems.get(system_id)
            if system is None or system.publication_state is not PublicationState.PUBLISHED:
                return []
            return [
                public_view(i) for i in uow.incidents.for_system(system_id) if i.severity.serious
            ]

    # -- exchange -----------------------------------------------------------------

    def export(self, actor: Principal, system_id: int, fmt: ExchangeFormat) -> list[dict[str, Any]]:
        """The system's incidents as AIID incident records or AVID reports."""
        with self.uow_factory(readonly=True) as uow:
            system, org = readable_system(uow, actor, system_id)
            parties = _parties(system, org.name)
            found = uow.incidents.for_system(system.id)
        if fmt == "aiid":
            return [to_aiid(i, parties) for i in found]
        return [to_avid(i, parties, i.recorded_at.date()) for i in found]

    def import_file(
        self,
        actor: Principal,
        system_id: int,
        fmt: ExchangeFormat,
        name: str,
        data: bytes | str,
        severity: Severity,
        category: Category = Category.OTHER,
    ) -> ImportResult:
        """Import a JSON file of AIID or AVID records (``import_records``), parsed within
        bounds: a file too large or nested too deeply is refused naming the file."""
        document = load_json(name, data, IMPORT_LIMITS)
        return self.import_records(actor, system_id, fmt, document, severity, category)

    def import_records(
        self,
        actor: Principal,
        system_id: int,
        fmt: ExchangeFormat,
        document: Any,
        severity: Severity,
        category: Category = Category.OTHER,
    ) -> ImportResult:
        """Import AIID incidents or AVID reports (one object or a list) as incidents of
        the system; records already imported (same AIID id / AVID report id) are skipped.
        All or nothing: one bad record and nothing is imported."""
        records = document if isinstance(document, list) else [document]
        if not records:
            raise Invalid("The file holds no records.")
        for bad in text_problems(records):
            n, *rest = bad.loc
            raise Invalid(f"record {int(n) + 1}: {format_path(tuple(rest))}: {bad.message}")
        if len(records) > IMPORT_MAX_RECORDS:
            raise Invalid(f"At most {IMPORT_MAX_RECORDS} records per import; split the file.")
        parsed: list[Imported] = []
        now = self.clock()
        try:
            for n, record in enumerate(records):
                item = (
                    from_aiid(record, n, severity, category)
                    if fmt == "aiid"
                    else from_avid(record, n, severity)
                )
                problems = item.draft.problems(now)
                if problems:
                    field_name, message = next(iter(problems.items()))
                    raise ExchangeError(f"record {n + 1}: {field_name}: {message}")
                parsed.append(item)
        except ExchangeError as exc:
            raise Invalid(str(exc)) from None
        created: list[int] = []
        skipped: list[str] = []
        with self.uow_factory() as uow:
            system, org = readable_system(uow, actor, system_id, lock=True)
            authorize(actor, Action.INCIDENT_RECORD, org)
            known = {k for i in uow.incidents.for_system(system.id) for k in import_keys(i)}
            for item in parsed:
                if item.key in known:
                    skipped.append(item.key)
                    continue
                known.add(item.key)
                incident = uow.incidents.add(
                    Incident.from_draft(
                        item.draft, system.id, org.id, actor.label, now, None, item.external
                    )
                )
                created.append(incident.id)
                self._record(
                    uow,
                    actor,
                    LedgerAction.CREATE,
                    "incident",
                    incident.id,
                    org.id,
                    after={**_snapshot(incident), "source": item.external.get("source")},
                )
            if created:
                why = f"{len(created)} incident(s) imported from {fmt.upper()}"
                self._publish(uow, SystemChangedMaterially(actor, system.id, org.id, why, now))
            uow.commit()
        return ImportResult(created, skipped)

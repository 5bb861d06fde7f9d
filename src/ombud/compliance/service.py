"""Applicability and the compliance matrix, per system and per organisation.

For one AI system: which instruments apply and why (declarative rules), and for
each requirement that traces back to them, its status with the evidence or the
reason. An oversight body reads the matrix of every organisation in its
jurisdiction (coe-fc:26).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ombud.accounts.access import get_org, org_ref
from ombud.accounts.domain import Organisation
from ombud.assessments.domain import current_templates
from ombud.compliance.applicability import (
    ApplicabilityRule,
    InstrumentApplicability,
    decide,
    facts_of,
)
from ombud.compliance.domain import (
    INCIDENT_FACTS,
    Evidence,
    EvidenceResult,
    MatrixPlan,
    Requirement,
    RequirementResult,
    Status,
    evaluate,
    summarise,
)
from ombud.incidents.domain import IncidentTally
from ombud.instruments.domain import Catalogue, Topic
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import Forbidden, NotFound
from ombud.kernel.ports import UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import Service
from ombud.register.access import readable_system
from ombud.register.domain.systems import AISystem
from ombud.register.ports import SystemFilter, SystemListing

Evaluated = tuple[dict[str, InstrumentApplicability], list[RequirementResult]]


@dataclass(frozen=True)
class ComplianceFilter:
    instrument: str | None = None
    topic: Topic | None = None


@dataclass(frozen=True)
class SystemCompliance:
    system: AISystem
    organisation: Organisation
    applicability: dict[str, InstrumentApplicability]
    results: list[RequirementResult]
    incidents: IncidentTally = field(default_factory=IncidentTally)

    @property
    def counts(self) -> dict[Status, int]:
        return summarise(self.results)


@dataclass
class RequirementTally:
    requirement: Requirement
    counts: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))


@dataclass(frozen=True)
class OrganisationCompliance:
    organisation: Organisation
    systems: list[SystemCompliance]
    by_requirement: list[RequirementTally]

    @property
    def counts(self) -> dict[Status, int]:
        total = dict.fromkeys(Status, 0)
        for s in self.systems:
            for status, n in s.counts.items():
                total[status] += n
        return total


class ComplianceService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        catalogue: Catalogue,
        rules: tuple[ApplicabilityRule, ...],
        requirements: tuple[Requirement, ...],
    ) -> None:
        super().__init__(uow_factory)
        self.catalogue = catalogue
        self.rules = rules
        self.requirements = requirements
        self._instrument_ids = tuple(i.id for i in catalogue.instruments)
        self._plan = MatrixPlan([r.when for r in rules], requirements)

    def evidence_facts(self, uow: UnitOfWork, system_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Evidence held by other areas, keyed as in domain/compliance.py EVIDENCE_FACTS:
        signed, current assessments by template URN, red-line decisions, incidents."""
        now = self.clock()
        found = uow.assessments.for_systems(system_ids)
        decisions = uow.assessments.decisions_for_systems(system_ids)
        incidents = uow.incidents.for_systems(system_ids)
        audits = uow.audit_runs.done_purposes(system_ids)
        out: dict[int, dict[str, Any]] = {}
        for sid in system_ids:
            signed = current_templates(found.get(sid, []), now)
            out[sid] = {
                "signed_assessments": signed,
                "red_line_decisions": frozenset(d.rule_id for d in decisions.get(sid, [])),
                INCIDENT_FACTS: IncidentTally.of(incidents.get(sid, [])),
                # finished bias audits: '*' and their purposes (pre_deployment, monitoring)
                "bias_audits": frozenset({"*"}) | audits[sid] if sid in audits else frozenset(),
            }
        return out

    def _selected(self, flt: ComplianceFilter) -> list[Requirement]:
        out = []
        for r in self.requirements:
            if flt.instrument and flt.instrument not in r.instruments:
                continue
            if flt.topic and flt.topic not in r.topics:
                continue
            out.append(r)
        return out

    def assess(
        self,
        system: AISystem,
        organisation: Organisation,
        requirements: list[Requirement],
        extra: dict[str, Any] | None = None,
        memo: dict[tuple[Any, ...], Evaluated] | None = None,
    ) -> SystemCompliance:
        """Pure evaluation of one system (no database): used per system and in bulk.

        ``memo`` shares the evaluation between systems with the same profile
        (MatrixPlan.signature) within one matrix.
        """
        facts = facts_of(system, organisation)
        facts.update(extra or {})
        key = self._plan.signature(facts) if memo is not None else None
        found = memo.get(key) if memo is not None and key is not None else None
        if found is None:
            applicability = decide(self._instrument_ids, self.rules, facts)
            checked: dict[Evidence, EvidenceResult] = {}
            results = [evaluate(r, facts, applicability, checked) for r in requirements]
            found = (applicability, results)
            if memo is not None and key is not None:
                memo[key] = found
        tally = facts.get(INCIDENT_FACTS)
        return SystemCompliance(
            system,
            organisation,
            found[0],
            found[1],
            tally if isinstance(tally, IncidentTally) else IncidentTally(),
        )

    def for_system(
        self, actor: Principal, system_id: int, flt: ComplianceFilter | None = None
    ) -> SystemCompliance:
        flt = flt or ComplianceFilter()
        self._check_filter(flt)
        with self.uow_factory(readonly=True) as uow:
            system, org = readable_system(uow, actor, system_id)
            extra = self.evidence_facts(uow, [system.id])[system.id]
        return self.assess(system, org, self._selected(flt), extra)

    def for_organisation(
        self, actor: Principal, organisation_id: int, flt: ComplianceFilter | None = None
    ) -> OrganisationCompliance:
        """Every system of the organisation, streamed from the database in batches."""
        flt = flt or ComplianceFilter()
        self._check_filter(flt)
        requirements = self._selected(flt)
        with self.uow_factory(readonly=True) as uow:
            org = get_org(uow, organisation_id)
            if not is_allowed(actor, Action.SYSTEM_READ, org_ref(org)):
                raise Forbidden(f"You may not read the records of {org.name}.")
            memo: dict[tuple[Any, ...], Evaluated] = {}
            systems: list[SystemCompliance] = []
            for batch in _batches(self._listings(uow, org.id), 1000):
                evidence = self.evidence_facts(uow, [x.system.id for x in batch])
                systems.extend(
                    self.assess(x.system, org, requirements, evidence[x.system.id], memo)
                    for x in batch
                )
        tallies = {r.id: RequirementTally(r) for r in requirements}
        for s in systems:
            for result in s.results:
                tallies[result.requirement.id].counts[result.status] += 1
        return OrganisationCompliance(org, systems, list(tallies.values()))

    @staticmethod
    def _listings(uow: UnitOfWork, org_id: int) -> Iterator[SystemListing]:
        return uow.systems.iter_listings(SystemFilter(organisation_id=org_id))

    def _check_filter(self, flt: ComplianceFilter) -> None:
        if flt.instrument and flt.instrument not in self._instrument_ids:
            known = ", ".join(self._instrument_ids)
            raise NotFound(f"No instrument '{flt.instrument}'. Known: {known}.")


def _batches(items: Iterator[SystemListing], size: int) -> Iterator[list[SystemListing]]:
    batch: list[SystemListing] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch

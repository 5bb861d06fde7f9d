"""The API schemas of compliance results."""

from __future__ import annotations

from pydantic import BaseModel

from ombud.compliance.applicability import InstrumentApplicability
from ombud.compliance.domain import Status
from ombud.compliance.service import SystemCompliance


class ApplicabilityOut(BaseModel):
    instrument: str
    outcome: str | None
    applies: bool
    explanation: str
    provisions: list[str]

    @classmethod
    def of(cls, a: InstrumentApplicability) -> ApplicabilityOut:
        return cls(
            instrument=a.instrument,
            outcome=a.outcome.value if a.outcome else None,
            applies=a.applies,
            explanation=a.explanation,
            provisions=[r.provision for r in a.reasons],
        )


class ResultOut(BaseModel):
    requirement: str
    title: str
    provisions: list[str]
    status: Status
    reason: str


class SystemComplianceOut(BaseModel):
    system_id: int
    system: str
    organisation_id: int
    organisation: str
    applicability: list[ApplicabilityOut]
    results: list[ResultOut]
    counts: dict[str, int]

    @classmethod
    def of(cls, sc: SystemCompliance) -> SystemComplianceOut:
        return cls(
            system_id=sc.system.id,
            system=sc.system.details.name,
            organisation_id=sc.organisation.id,
            organisation=sc.organisation.name,
            applicability=[ApplicabilityOut.of(a) for a in sc.applicability.values()],
            results=[
                ResultOut(
                    requirement=r.requirement.id,
                    title=r.requirement.title,
                    provisions=list(r.requirement.provisions),
                    status=r.status,
                    reason=r.reason,
                )
                for r in sc.results
            ],
            counts={s.value: n for s, n in sc.counts.items()},
        )


class OrganisationComplianceOut(BaseModel):
    organisation_id: int
    organisation: str
    counts: dict[str, int]
    systems: list[SystemComplianceOut]

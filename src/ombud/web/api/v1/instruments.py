"""The instruments catalogue and compliance matrices as JSON.

/instruments, /instruments/{id}, /provisions/{id}, /requirements are public
(the texts are public); compliance needs a token and the right to read the
organisation's records (an oversight body reads those in its jurisdiction).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from ombud.domain.applicability import InstrumentApplicability
from ombud.domain.compliance import Requirement, Status
from ombud.domain.instruments import Instrument, Provision, Topic
from ombud.kernel.web.api import PathId, PathOrgRef, errors
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.kernel.web.schemas import DomainOut
from ombud.services.compliance import ComplianceFilter, SystemCompliance

public_router = APIRouter(tags=["instruments"])
router = APIRouter(tags=["compliance"])

InstrumentId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}$")]
ProvisionId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}:[a-z0-9.]{1,40}$")]


class ProvisionOut(DomainOut):
    id: str
    instrument: str
    label: str
    heading: str
    group: str
    text: str
    kind: str
    addressees: list[str]
    topics: list[str]
    stages: list[str]
    refs: list[str]


class InstrumentSummaryOut(DomainOut):
    id: str
    title: str
    short_title: str
    body: str
    date: str
    status: str
    binding: str
    source_file: str


class InstrumentOut(InstrumentSummaryOut):
    summary: str
    provisions: list[ProvisionOut]


class EvidenceOut(BaseModel):
    kind: str
    description: str
    fields: list[str]
    template: str


class RequirementOut(BaseModel):
    id: str
    title: str
    statement: str
    provisions: list[str]
    topics: list[str]
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, r: Requirement) -> RequirementOut:
        return cls(
            id=r.id,
            title=r.title,
            statement=r.statement,
            provisions=list(r.provisions),
            topics=[t.value for t in r.topics],
            evidence=[
                EvidenceOut(
                    kind=e.kind.value,
                    description=e.description,
                    fields=list(e.fields),
                    template=e.template,
                )
                for e in r.evidence
            ],
        )


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


class InstrumentList(BaseModel):
    items: list[InstrumentSummaryOut]


class ProvisionList(BaseModel):
    items: list[ProvisionOut]
    total: int


class RequirementList(BaseModel):
    items: list[RequirementOut]


class OrganisationComplianceOut(BaseModel):
    organisation_id: int
    organisation: str
    counts: dict[str, int]
    systems: list[SystemComplianceOut]


def _provision(p: Provision) -> ProvisionOut:
    return ProvisionOut.model_validate(
        {
            **{f: getattr(p, f) for f in ("id", "instrument", "label", "heading", "group", "text")},
            "kind": p.kind.value,
            "addressees": [a.value for a in p.addressees],
            "topics": [t.value for t in p.topics],
            "stages": [s.value for s in p.stages],
            "refs": list(p.refs),
        }
    )


def _instrument(i: Instrument, full: bool) -> InstrumentSummaryOut:
    base = {f: getattr(i, f) for f in ("id", "title", "short_title", "body", "date", "source_file")}
    base.update(status=i.status.value, binding=i.binding.value)
    if not full:
        return InstrumentSummaryOut.model_validate(base)
    return InstrumentOut.model_validate(
        {**base, "summary": i.summary, "provisions": [_provision(p) for p in i.provisions]}
    )


@public_router.get("/instruments", summary="The instruments, with whether each binds")
def list_instruments(c: ContainerDep) -> InstrumentList:
    """Every instrument in the catalogue with its status and binding nature (a treaty binds
    a Party once ratified; resolutions recommend)."""
    return InstrumentList(items=[_instrument(i, False) for i in c.instruments.instruments()])


@public_router.get(
    "/instruments/{instrument_id}",
    summary="One instrument with every provision, verbatim",
    responses=errors(404),
)
def get_instrument(instrument_id: InstrumentId, c: ContainerDep) -> InstrumentSummaryOut:
    """The instrument and all its provisions, quoted verbatim as printed, with kind,
    addressees, topics, lifecycle stages and cross-references."""
    return _instrument(c.instruments.instrument(instrument_id), True)


@public_router.get(
    "/provisions/{provision_id}",
    summary="One provision, e.g. coe-fc:16.2.g",
    responses=errors(404),
)
def get_provision(provision_id: ProvisionId, c: ContainerDep) -> ProvisionOut:
    """One provision by its ID in the scheme of the instruments' README."""
    return _provision(c.instruments.provision(provision_id))


@public_router.get("/provisions", summary="Search provisions", responses=errors(422))
def search_provisions(
    c: ContainerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    topic: Topic | None = None,
    instrument: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,40}$")] = None,
) -> ProvisionList:
    """Provisions containing every word of `q`, optionally on one topic or instrument."""
    found = [_provision(p) for p in c.instruments.search(q, topic, instrument)]
    return ProvisionList(items=found, total=len(found))


@public_router.get("/requirements", summary="Requirements, each citing its provisions")
def list_requirements(c: ContainerDep) -> RequirementList:
    """The requirements an organisation can meet, each citing its provisions and saying
    what evidence satisfies it."""
    return RequirementList(items=[RequirementOut.of(r) for r in c.instruments.requirements])


@router.get(
    "/systems/{system_id}/compliance",
    summary="Compliance matrix of one AI system",
    description="Which instruments apply and why (declarative rules citing coe-fc:3 and "
    "others), and each requirement's status with its evidence or reason.",
    responses=errors(404),
)
def system_compliance(
    system_id: PathId,
    c: ContainerDep,
    principal: ApiPrincipal,
    instrument: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,40}$")] = None,
    topic: Topic | None = None,
) -> SystemComplianceOut:
    result = c.compliance.for_system(principal, system_id, ComplianceFilter(instrument, topic))
    return SystemComplianceOut.of(result)


@router.get(
    "/organisations/{ref}/compliance",
    summary="Compliance matrix of an organisation",
    responses=errors(404),
)
def organisation_compliance(
    ref: PathOrgRef,
    c: ContainerDep,
    principal: ApiPrincipal,
    instrument: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,40}$")] = None,
    topic: Topic | None = None,
) -> OrganisationComplianceOut:
    """Every system of the organisation with its matrix; an oversight body reads the
    organisations in its jurisdiction (coe-fc:26)."""
    org = c.accounts.get_organisation(ref)
    result = c.compliance.for_organisation(principal, org.id, ComplianceFilter(instrument, topic))
    return OrganisationComplianceOut(
        organisation_id=org.id,
        organisation=org.name,
        counts={s.value: n for s, n in result.counts.items()},
        systems=[SystemComplianceOut.of(s) for s in result.systems],
    )

"""Compliance of a system or an organisation as JSON: each requirement's status, from
the evidence on record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ombud.compliance.schemas import OrganisationComplianceOut, SystemComplianceOut
from ombud.compliance.service import ComplianceFilter
from ombud.instruments.domain import Topic
from ombud.kernel.web.api import PathId, PathOrgRef, errors
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep

router = APIRouter(tags=["compliance"])


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

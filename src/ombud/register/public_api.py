"""The public transparency register as JSON: published systems only, no sign-in.

The register service binds every query to published records, so a draft or an
archived record cannot appear here (coe-fc:8, coe-fc:14.2.a, ipu-149:op22). Field
names are those of the register export (services/public_register.PUBLIC_FIELDS).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ombud.kernel.web.api import PagingDep, PathId, QueryId, errors, rate_limit
from ombud.kernel.web.deps import ContainerDep
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import RiskLevel, Sector
from ombud.register.ports import SystemFilter
from ombud.register.public_service import public_record
from ombud.register.schemas import PublicSystemOut, PublicSystemPage

router = APIRouter(prefix="/public", tags=["public register"], responses=errors(422, 429))


def _limit(request: Request, c: ContainerDep) -> None:
    # Anonymous reads run a search each: bounded per address like the public pages.
    rate_limit(request, c.settings.public_rate_limit, "public-api")


@router.get(
    "/systems",
    summary="Search the public register",
    description="Published AI systems, newest change first (coe-fc:8). No sign-in needed.",
)
def search_public(
    c: ContainerDep,
    request: Request,
    paging: PagingDep,
    organisation_id: QueryId = None,
    sector: Sector | None = None,
    lifecycle_stage: LifecycleStage | None = None,
    risk_level: RiskLevel | None = None,
    q: Annotated[
        str, Query(max_length=200, description="Words in the name, purpose or organisation.")
    ] = "",
) -> PublicSystemPage:
    _limit(request, c)
    flt = SystemFilter(
        organisation_id=organisation_id,
        sector=sector,
        lifecycle_stage=lifecycle_stage,
        risk_level=risk_level,
        text=q,
    )
    result = c.public_register.search(flt, paging.offset, paging.limit)
    return PublicSystemPage.of(
        [PublicSystemOut.model_validate(public_record(x)) for x in result.items],
        result.total,
        result.offset,
        result.limit,
    )


@router.get(
    "/systems/{system_id}",
    summary="One published system",
    description="404 unless the system is published.",
    responses=errors(404),
)
def get_public(system_id: PathId, c: ContainerDep, request: Request) -> PublicSystemOut:
    _limit(request, c)
    return PublicSystemOut.model_validate(public_record(c.public_register.get(system_id)))

"""Confirmed incidents: record, read, update, resolve, and exchange as AIID / AVID JSON."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from ombud.incidents.schemas import (
    ExchangeOut,
    Format,
    ImportIn,
    ImportOut,
    IncidentIn,
    IncidentList,
    IncidentOut,
    IncidentPage,
    NewIncidentIn,
)
from ombud.kernel.web.api import PagingDep, PathId, errors
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep

router = APIRouter(tags=["incidents"])


@router.get("/incidents", summary="Incident log")
def list_incidents(
    c: ContainerDep,
    principal: ApiPrincipal,
    paging: PagingDep,
    status: Annotated[Literal["open"] | None, Query()] = None,
) -> IncidentPage:
    """Incidents of every organisation whose records you may read, newest first."""
    page = c.incidents.incidents(principal, status == "open", paging.offset, paging.limit)
    return IncidentPage(
        items=[IncidentOut.of(i) for i in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/systems/{system_id}/incidents", summary="A system's incidents", responses=errors(404))
def system_incidents(system_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> IncidentList:
    """Every incident recorded for the system, newest first."""
    return IncidentList(
        items=[IncidentOut.of(i) for i in c.incidents.for_system(principal, system_id)]
    )


@router.post(
    "/systems/{system_id}/incidents",
    status_code=201,
    summary="Record an incident",
    responses=errors(404),
)
def record_incident(
    system_id: PathId, body: NewIncidentIn, c: ContainerDep, principal: ApiPrincipal
) -> IncidentOut:
    """Record a confirmed incident (optionally confirming a case); the system's signed
    assessments become stale (coe-fc:16.2.d)."""
    return IncidentOut.of(c.incidents.record(principal, system_id, body.draft(), body.case_id))


@router.get("/incidents/{incident_id}", summary="One incident", responses=errors(404))
def get_incident(incident_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> IncidentOut:
    """The incident with its harm, cause and corrective action."""
    return IncidentOut.of(c.incidents.get(principal, incident_id)[0])


@router.put("/incidents/{incident_id}", summary="Update an incident", responses=errors(404))
def update_incident(
    incident_id: PathId, body: IncidentIn, c: ContainerDep, principal: ApiPrincipal
) -> IncidentOut:
    """Replace the incident's description (all fields)."""
    return IncidentOut.of(c.incidents.update(principal, incident_id, body.draft()))


@router.post(
    "/incidents/{incident_id}/resolve", summary="Resolve an incident", responses=errors(404)
)
def resolve_incident(incident_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> IncidentOut:
    """Needs the root cause and the corrective action on record."""
    return IncidentOut.of(c.incidents.resolve(principal, incident_id))


@router.get(
    "/systems/{system_id}/incidents/export", summary="Export incidents", responses=errors(404)
)
def export_incidents(
    system_id: PathId,
    c: ContainerDep,
    principal: ApiPrincipal,
    format: Annotated[Format, Query()] = "aiid",
) -> ExchangeOut:
    """As AI Incident Database incident records (`aiid`) or AVID reports (`avid`)."""
    return ExchangeOut(format=format, records=c.incidents.export(principal, system_id, format))


@router.post(
    "/systems/{system_id}/incidents/import", summary="Import incidents", responses=errors(404)
)
def import_incidents(
    system_id: PathId, body: ImportIn, c: ContainerDep, principal: ApiPrincipal
) -> ImportOut:
    """AIID incident records or AVID reports; all or nothing; records already imported
    (same AIID incident id or AVID report id) are skipped."""
    result = c.incidents.import_records(
        principal, system_id, body.format, body.records, body.severity, body.category
    )
    return ImportOut(created=result.created, skipped=result.skipped)

"""Confirmed incidents: record, read, update, resolve, and exchange as AIID / AVID JSON."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from ombud.domain.incidents import (
    PEOPLE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Incident,
    IncidentDraft,
    IncidentStatus,
    Severity,
)
from ombud.domain.remedies import Category
from ombud.kernel.web.api import PagingDep, PathId, errors
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.services.incidents import IMPORT_MAX_RECORDS
from ombud.web.api.v1.schemas import UtcDateTime

router = APIRouter(tags=["incidents"])

Format = Literal["aiid", "avid"]


class IncidentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    category: Category
    harm: str = Field(min_length=1, max_length=TEXT_MAX, description="Harm done or nearly done.")
    severity: Severity
    people_affected: int | None = Field(None, ge=0, le=PEOPLE_MAX)
    root_cause: str = Field("", max_length=TEXT_MAX)
    corrective_action: str = Field("", max_length=TEXT_MAX)
    public_summary: str = Field(
        "",
        max_length=TEXT_MAX,
        description="Shown on the public register for serious and critical incidents; "
        "required for them; no personal data.",
    )
    occurred_on: date | None = None

    def draft(self) -> IncidentDraft:
        when = self.occurred_on
        return IncidentDraft(
            title=self.title,
            category=self.category,
            harm=self.harm,
            severity=self.severity,
            people_affected=self.people_affected,
            root_cause=self.root_cause,
            corrective_action=self.corrective_action,
            public_summary=self.public_summary,
            occurred_at=datetime(when.year, when.month, when.day) if when else None,
        )


class NewIncidentIn(IncidentIn):
    case_id: int | None = Field(None, ge=1, le=2**53, description="The case it confirms.")


class IncidentOut(BaseModel):
    id: int
    system_id: int
    case_id: int | None
    title: str
    category: Category
    harm: str
    severity: Severity
    people_affected: int | None
    root_cause: str
    corrective_action: str
    public_summary: str
    occurred_at: UtcDateTime | None
    recorded_at: UtcDateTime
    recorded_by: str
    status: IncidentStatus
    resolved_at: UtcDateTime | None
    external: dict[str, Any]

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        return cls(
            id=i.id,
            system_id=i.system_id,
            case_id=i.case_id,
            title=i.title,
            category=i.category,
            harm=i.harm,
            severity=i.severity,
            people_affected=i.people_affected,
            root_cause=i.root_cause,
            corrective_action=i.corrective_action,
            public_summary=i.public_summary,
            occurred_at=i.occurred_at,
            recorded_at=i.recorded_at,
            recorded_by=i.recorded_by,
            status=i.status,
            resolved_at=i.resolved_at,
            external=i.external,
        )


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int
    offset: int
    limit: int


class IncidentList(BaseModel):
    items: list[IncidentOut]


class ExchangeOut(BaseModel):
    format: Format
    records: list[dict[str, Any]]


class ImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Format
    severity: Severity = Field(description="AIID and AVID records carry no severity of ours.")
    category: Category = Field(Category.OTHER, description="For AIID records (AVID: derived).")
    records: list[dict[str, Any]] = Field(min_length=1, max_length=IMPORT_MAX_RECORDS)


class ImportOut(BaseModel):
    created: list[int]
    skipped: list[str] = Field(description="Source keys already on record for the system.")


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

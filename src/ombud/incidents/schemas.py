"""The incident log's API schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ombud.incidents.domain import (
    PEOPLE_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Incident,
    IncidentDraft,
    IncidentStatus,
    Severity,
)
from ombud.incidents.service import IMPORT_MAX_RECORDS
from ombud.kernel.web.schemas import UtcDateTime
from ombud.remedies.domain import Category

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

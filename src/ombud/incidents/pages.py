"""Incident pages: the log, record (directly or from a case), edit, resolve, exchange."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from ombud.incidents.domain import Incident, IncidentDraft, Severity
from ombud.incidents.service import ExchangeFormat
from ombud.kernel.errors import Invalid
from ombud.kernel.safe_load import whole_number
from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.forms import (
    QueryChoice,
    SubmittedForm,
    choice,
    chosen_file,
    file_content,
    text,
)
from ombud.kernel.web.templating import redirect, render
from ombud.remedies.domain import CATEGORY_LABELS, Category

router = APIRouter()

IMPORT_MAX_BYTES = 5 * 1024 * 1024
FORMATS: dict[str, ExchangeFormat] = {"aiid": "aiid", "avid": "avid"}


def draft_from_form(form: FormData) -> tuple[dict[str, str], IncidentDraft | None, dict[str, str]]:
    """The submitted incident as typed (to show again), the draft, and field messages."""
    names = (
        "title", "category", "harm", "severity", "people_affected", "root_cause",
        "corrective_action", "public_summary", "occurred_at",
    )  # fmt: skip
    values = {n: text(form, n) for n in names}
    errors: dict[str, str] = {}
    category = choice(form, "category", Category, errors)
    severity = choice(form, "severity", Severity, errors)
    people: int | None = None
    if values["people_affected"]:
        try:
            people = int(values["people_affected"].replace(",", "").replace(" ", ""))
        except ValueError:
            errors["people_affected"] = "A whole number of people, or empty if not known."
    occurred: datetime | None = None
    if values["occurred_at"]:
        try:
            day = date.fromisoformat(values["occurred_at"])
            occurred = datetime(day.year, day.month, day.day)
        except ValueError:
            errors["occurred_at"] = "A date as YYYY-MM-DD, or empty if not known."
    if category is None or severity is None:
        return values, None, errors
    draft = IncidentDraft(
        title=values["title"],
        category=category,
        harm=values["harm"],
        severity=severity,
        people_affected=people,
        root_cause=values["root_cause"],
        corrective_action=values["corrective_action"],
        public_summary=values["public_summary"],
        occurred_at=occurred,
    )
    return values, draft, errors


def _values_of(incident: Incident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "category": incident.category.value,
        "harm": incident.harm,
        "severity": incident.severity.value,
        "people_affected": "" if incident.people_affected is None else incident.people_affected,
        "root_cause": incident.root_cause,
        "corrective_action": incident.corrective_action,
        "public_summary": incident.public_summary,
        "occurred_at": incident.occurred_at.date().isoformat() if incident.occurred_at else "",
    }


def _form(
    request: Request,
    action: str,
    heading: str,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    message: str = "",
    status_code: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "incidents/form.html",
        {
            "action": action,
            "heading": heading,
            "values": values,
            "errors": errors or {},
            "message": message,
            "categories": list(Category),
            "category_labels": {k.value: label for k, label in CATEGORY_LABELS.items()},
            "severities": list(Severity),
            **(extra or {}),
        },
        status_code,
    )


@router.get("/incidents", response_class=HTMLResponse)
def log(
    request: Request, c: ContainerDep, principal: PagePrincipal, status: QueryChoice = ""
) -> Response:
    open_only = status == "open"
    if status not in ("", "open"):
        raise Invalid.from_fields({"status": "Use status=open, or leave it out for all."})
    page = c.incidents.incidents(principal, open_only, 0, 100)
    return render(request, "incidents/log.html", {"page": page, "open_only": open_only})


@router.get("/systems/{system_id}/incidents", response_class=HTMLResponse)
def for_system(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    view = c.register.get(principal, system_id)
    return render(
        request,
        "incidents/system.html",
        {"s": view.system, "incidents": c.incidents.for_system(principal, system_id)},
    )


@router.get("/systems/{system_id}/incidents/new", response_class=HTMLResponse)
def new(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    case: QueryChoice = "",
) -> Response:
    view = c.register.get(principal, system_id)
    values: dict[str, Any] = {"severity": Severity.MODERATE.value}
    if case:
        case_id = whole_number(case)
        if case_id is None:
            raise Invalid.from_fields({"case": "A case number."})
        cv = c.remedies.get(principal, case_id)
        values.update(case_id=cv.case.id, category=cv.case.category.value)
    return _form(
        request,
        f"/systems/{system_id}/incidents/new",
        f"Record an incident of {view.system.details.name}",
        values,
    )


@router.post("/systems/{system_id}/incidents/new", response_class=HTMLResponse)
def create(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    values, draft, errors = draft_from_form(form)
    case_raw = text(form, "case_id")
    values["case_id"] = case_raw
    case_id = whole_number(case_raw) if case_raw else None
    if case_raw and case_id is None:
        errors["case_id"] = "A case number."
    action = f"/systems/{system_id}/incidents/new"
    heading = "Record an incident"
    if errors or draft is None:
        return _form(request, action, heading, values, errors, "Check the marked fields.", 422)
    try:
        incident = c.incidents.record(principal, system_id, draft, case_id)
    except Invalid as exc:
        return _form(request, action, heading, values, exc.field_messages(), exc.message, 422)
    return redirect(
        request,
        f"/incidents/{incident.id}",
        "Incident recorded. The system's signed assessments are now stale: review them.",
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def show(request: Request, incident_id: int, c: ContainerDep, principal: PagePrincipal) -> Response:
    incident, system = c.incidents.get(principal, incident_id)
    return _form(
        request,
        f"/incidents/{incident_id}/edit",
        incident.title,
        _values_of(incident),
        extra={"incident": incident, "system": system},
    )


@router.post("/incidents/{incident_id}/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    incident_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    incident, system = c.incidents.get(principal, incident_id)
    values, draft, errors = draft_from_form(form)
    extra = {"incident": incident, "system": system}
    action = f"/incidents/{incident_id}/edit"
    if errors or draft is None:
        return _form(
            request, action, incident.title, values, errors, "Check the marked fields.", 422, extra
        )
    try:
        c.incidents.update(principal, incident_id, draft)
    except Invalid as exc:
        return _form(
            request, action, incident.title, values, exc.field_messages(), exc.message, 422, extra
        )
    return redirect(request, f"/incidents/{incident_id}", "Saved.")


@router.post("/incidents/{incident_id}/resolve", response_class=HTMLResponse)
def resolve(
    request: Request, incident_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    incident, system = c.incidents.get(principal, incident_id)
    try:
        c.incidents.resolve(principal, incident_id)
    except Invalid as exc:
        return _form(
            request,
            f"/incidents/{incident_id}/edit",
            incident.title,
            _values_of(incident),
            exc.field_messages(),
            exc.message,
            422,
            {"incident": incident, "system": system},
        )
    return redirect(request, f"/incidents/{incident_id}", "Incident resolved.")


def exchange_format(raw: str) -> ExchangeFormat:
    fmt = FORMATS.get(raw)
    if fmt is None:
        raise Invalid.from_fields({"format": f"'{raw[:20]}' is not a format: use aiid or avid."})
    return fmt


@router.get("/systems/{system_id}/incidents.json")
def export(
    system_id: int, c: ContainerDep, principal: PagePrincipal, format: QueryChoice = "aiid"
) -> Response:
    fmt = exchange_format(format)
    records = c.incidents.export(principal, system_id, fmt)
    return Response(
        json.dumps(records, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="system-{system_id}-incidents-{fmt}.json"'
        },
    )


@router.post("/systems/{system_id}/incidents/import", response_class=HTMLResponse)
def import_file(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    fmt = exchange_format(text(form, "format"))
    errors: dict[str, str] = {}
    severity = choice(form, "severity", Severity, errors)
    category = choice(form, "category", Category, errors) if text(form, "category") else None
    if severity is None or errors:
        raise Invalid.from_fields(errors)
    upload = chosen_file(form, "file")
    if upload is None or not upload.filename:
        raise Invalid.from_fields({"file": "Choose a JSON file to import."})
    data = file_content(upload, IMPORT_MAX_BYTES)
    if len(data) > IMPORT_MAX_BYTES:
        raise Invalid.from_fields(
            {"file": f"{upload.filename} is larger than {IMPORT_MAX_BYTES // 1024 // 1024} MB."}
        )
    try:
        result = c.incidents.import_file(
            principal, system_id, fmt, upload.filename, data, severity, category or Category.OTHER
        )
    except Invalid as exc:
        raise Invalid.from_fields({"file": exc.message}) from None
    return redirect(
        request,
        f"/systems/{system_id}/incidents",
        f"Imported {len(result.created)} incident(s); {len(result.skipped)} already on record.",
    )

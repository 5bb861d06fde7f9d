"""Internal register pages: list, register, edit, lifecycle, publication, history."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ombud.accounts.access import org_ref
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import Conflict, Invalid
from ombud.kernel.safe_load import whole_number
from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.forms import QueryChoice, SubmittedForm, query_enum, required_choice, text
from ombud.kernel.web.templating import is_htmx, redirect, render
from ombud.register.domain.lifecycle import INITIAL_STAGES, LifecycleStage
from ombud.register.domain.systems import PublicationState, RiskLevel, SystemDetails
from ombud.register.forms import RegisterFilter, details_from_form, filter_values

router = APIRouter()

PAGE_SIZE = 25


def _creatable_orgs(c: ContainerDep, principal: Principal) -> list[Any]:
    return [
        org
        for org, _role in c.accounts.memberships(principal)
        if is_allowed(principal, Action.SYSTEM_CREATE, org_ref(org))
    ]


@router.get("/systems", response_class=HTMLResponse)
def list_systems(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    flt: RegisterFilter,
    publication: QueryChoice = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    flt = replace(flt, publication_state=query_enum(publication, PublicationState, "publication"))
    result = c.register.list(principal, flt, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    readable = [o for o in c.accounts.list_organisations() if o.id in principal.readable_org_ids()]
    ctx = {
        "result": result,
        "page": page,
        "pages": max(1, -(-result.total // PAGE_SIZE)),
        "filters": filter_values(flt),
        "organisations": readable,
        "can_create": bool(_creatable_orgs(c, principal)),
    }
    template = "register/_rows.html" if is_htmx(request) else "register/list.html"
    return render(request, template, ctx)


def _form_page(
    request: Request,
    c: ContainerDep,
    principal: Principal,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    system_id: int | None = None,
    revision: int | None = None,
    message: str | None = None,
    status_code: int = 200,
    extra_rows: int = 1,
) -> Response:
    rows = list(values.get("data_sources", []))
    rows += [
        {
            "name": "",
            "role": "training",
            "provenance": "",
            "description": "",
            "personal_data": False,
            "special_categories": False,
        }
    ] * extra_rows
    return render(
        request,
        "register/form.html",
        {
            "values": values,
            "data_rows": rows,
            "errors": errors or {},
            "system_id": system_id,
            "revision": revision,
            "message": message,
            "organisations": _creatable_orgs(c, principal) if system_id is None else [],
            "initial_stages": [s for s in LifecycleStage if s in INITIAL_STAGES],
        },
        status_code,
    )


@router.get("/systems/new", response_class=HTMLResponse)
def new_system(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    values = SystemDetails(name="").snapshot()
    return _form_page(request, c, principal, values=values)


def _field_errors(exc: Invalid) -> dict[str, str]:
    return exc.field_messages()


@router.post("/systems/new", response_class=HTMLResponse)
def create_system(
    request: Request, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    values, details, errors = details_from_form(form)
    values["organisation_id"] = text(form, "organisation_id")
    values["lifecycle_stage"] = text(form, "lifecycle_stage") or LifecycleStage.PRE_DESIGN.value
    if "add_data_source" in form:
        return _form_page(request, c, principal, values=values, errors=errors, extra_rows=2)
    org_id = whole_number(values["organisation_id"])
    if org_id is None:
        errors["organisation_id"] = "Choose the organisation that owns the system."
    try:
        stage = LifecycleStage(values["lifecycle_stage"])
    except ValueError:
        errors["lifecycle_stage"] = "Choose a lifecycle stage from the list."
        stage = LifecycleStage.PRE_DESIGN
    if errors or details is None or org_id is None:
        return _form_page(
            request,
            c,
            principal,
            values=values,
            errors=errors,
            message="Please correct the fields marked below.",
            status_code=422,
        )
    try:
        system = c.register.create(principal, org_id, details, stage, text(form, "reason"))
    except Invalid as exc:
        return _form_page(
            request,
            c,
            principal,
            values=values,
            errors=_field_errors(exc),
            message=exc.message,
            status_code=422,
        )
    return redirect(request, f"/systems/{system.id}", f"Registered “{details.name}” as a draft.")


@router.get("/systems/{system_id}", response_class=HTMLResponse)
def show_system(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    view = c.register.get(principal, system_id)
    return render(
        request,
        "register/detail.html",
        {
            "view": view,
            "s": view.system,
            "d": view.system.details,
            "decisions": c.assessments.red_line_decisions(principal, system_id),
            "incidents": c.incidents.for_system(principal, system_id),
            "findings": [
                f for f in c.audit_runs.findings(principal, system_id) if f.state.value == "open"
            ],
        },
    )


@router.get("/systems/{system_id}/edit", response_class=HTMLResponse)
def edit_system(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    view = c.register.get(principal, system_id)
    return _form_page(
        request,
        c,
        principal,
        values=view.system.details.snapshot(),
        system_id=system_id,
        revision=view.system.revision,
    )


@router.post("/systems/{system_id}/edit", response_class=HTMLResponse)
def update_system(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    values, details, errors = details_from_form(form)
    revision_raw = text(form, "revision")
    revision = whole_number(revision_raw)
    values["significant_reason"] = text(form, "significant_reason")
    values["note"] = text(form, "note")
    if "add_data_source" in form:
        return _form_page(
            request,
            c,
            principal,
            values=values,
            errors=errors,
            system_id=system_id,
            revision=revision,
            extra_rows=2,
        )
    if errors or details is None:
        return _form_page(
            request,
            c,
            principal,
            values=values,
            errors=errors,
            system_id=system_id,
            revision=revision,
            message="Please correct the fields marked below.",
            status_code=422,
        )
    try:
        c.register.update(
            principal, system_id, details, revision, values["significant_reason"], values["note"]
        )
    except Invalid as exc:
        return _form_page(
            request,
            c,
            principal,
            values=values,
            errors=_field_errors(exc),
            system_id=system_id,
            revision=revision,
            message=exc.message,
            status_code=422,
        )
    except Conflict as exc:
        # Keep what was typed: show it again with the conflict explained.
        return _form_page(
            request,
            c,
            principal,
            values=values,
            system_id=system_id,
            revision=revision,
            message=exc.message,
            status_code=409,
        )
    return redirect(request, f"/systems/{system_id}", "Saved a new revision.")


@router.post("/systems/{system_id}/transition")
def transition_system(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    target = required_choice(form, "to_stage", LifecycleStage)
    c.register.transition(principal, system_id, target, text(form, "reason"))
    return redirect(request, f"/systems/{system_id}", f"Moved to {target.label}.")


@router.post("/systems/{system_id}/publication")
def publication(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    state = required_choice(form, "state", PublicationState)
    c.register.set_publication(principal, system_id, state)
    return redirect(request, f"/systems/{system_id}", f"Publication state: {state.value}.")


@router.post("/systems/{system_id}/significant")
def flag_significant(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    c.register.flag_significant(principal, system_id, text(form, "reason"))
    return redirect(request, f"/systems/{system_id}", "Recorded a significant modification.")


@router.post("/systems/{system_id}/risk")
def classify_risk(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    level = required_choice(form, "risk_level", RiskLevel)
    c.register.classify_risk(principal, system_id, level, text(form, "reason"))
    return redirect(request, f"/systems/{system_id}", f"Risk level set to {level.value}.")


@router.post("/systems/{system_id}/delete")
def delete_system(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    c.register.delete(principal, system_id)
    return redirect(request, "/systems", f"Deleted draft system {system_id}.")


@router.get("/systems/{system_id}/history", response_class=HTMLResponse)
def history(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    return render(request, "register/history.html", {"h": c.register.history(principal, system_id)})

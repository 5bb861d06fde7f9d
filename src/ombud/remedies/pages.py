"""Case handling inside the organisation: triage queue, one case, state changes, notes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.forms import (
    QueryChoice,
    SubmittedForm,
    query_enum,
    required_choice,
    text,
)
from ombud.kernel.web.security import content_disposition
from ombud.kernel.web.templating import redirect, render
from ombud.remedies.domain import CaseState

router = APIRouter()


@router.get("/cases", response_class=HTMLResponse)
def queue(
    request: Request, c: ContainerDep, principal: PagePrincipal, state: QueryChoice = ""
) -> Response:
    chosen = query_enum(state, CaseState, "state")
    page = c.remedies.cases(principal, chosen, 0, 100)
    return render(
        request, "remedies/queue.html", {"page": page, "state": chosen, "CaseState": CaseState}
    )


@router.get("/oversight/cases", response_class=HTMLResponse)
def oversight_queue(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    """Escalated cases of the organisations in the oversight body's jurisdiction."""
    page = c.remedies.oversight_queue(principal, 0, 100)
    return render(
        request,
        "remedies/queue.html",
        {"page": page, "state": None, "CaseState": CaseState, "oversight": True},
    )


@router.post("/cases/{case_id}/assign")
def assign(
    request: Request, case_id: int, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    c.remedies.assign(principal, case_id, text(form, "reviewer"), text(form, "original_decider"))
    return redirect(request, f"/cases/{case_id}", "Assigned.")


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def show(request: Request, case_id: int, c: ContainerDep, principal: PagePrincipal) -> Response:
    view = c.remedies.get(principal, case_id)
    return render(
        request,
        "remedies/case.html",
        {"v": view, "incidents": c.incidents.for_case(principal, view.case.id)},
    )


@router.post("/cases/{case_id}/state")
def move(
    request: Request, case_id: int, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    target = required_choice(form, "state", CaseState)
    c.remedies.move(principal, case_id, target, text(form, "message"), text(form, "outcome"))
    return redirect(request, f"/cases/{case_id}", f"Case moved to {target.value}.")


@router.post("/cases/{case_id}/notes")
def note(
    request: Request, case_id: int, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    c.remedies.note(principal, case_id, text(form, "text"), "to_reporter" not in form)
    return redirect(request, f"/cases/{case_id}", "Added.")


@router.get("/cases/{case_id}/attachments/{attachment_id}")
def attachment(
    case_id: int, attachment_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    """A file the person attached: always downloaded, never shown in the page."""
    meta, data = c.remedies.attachment(principal, case_id, attachment_id)
    media = "text/plain; charset=utf-8" if meta.content_type == "text/plain" else meta.content_type
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": content_disposition(meta.name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )

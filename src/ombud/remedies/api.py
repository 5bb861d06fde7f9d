"""Reports, complaints and human review requests: public intake and case handling.

`POST /public/reports` takes `{system, kind, category, description, ...}` (system: the
register id; kind: incident, complaint or human_review) and answers 201 with
`{tracking_code, follow_url}`. GET on the follow_url with `Accept: application/json`
returns the public status of the case; the tracking code alone reveals nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ombud.kernel.web.api import PagingDep, PathId, errors, rate_limit
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.remedies.domain import (
    CaseState,
    PublicReport,
)
from ombud.remedies.schemas import (
    AssignIn,
    CaseDetailOut,
    CaseOut,
    CasePage,
    MoveIn,
    NoteIn,
    ReceiptOut,
    ReportIn,
    uploads_of,
)

public_router = APIRouter(prefix="/public", tags=["remedies"], responses=errors(422, 429))
router = APIRouter(prefix="/cases", tags=["remedies"])


@public_router.post("/reports", status_code=201, summary="Report, complain or ask for review")
def submit_report(body: ReportIn, request: Request, c: ContainerDep) -> ReceiptOut:
    """No account needed. Answers only after the report is stored (coe-fc:14.2.c,
    unga-78-265:op6.c); rate limited per address (OMBUD_PUBLIC_RATE_LIMIT)."""
    rate_limit(request, c.settings.public_rate_limit, "public-intake")
    receipt = c.remedies.submit(
        PublicReport(
            body.system,
            body.kind,
            body.category,
            body.description,
            body.contact,
            body.decision_reference,
            body.removal_requested,
        ),
        uploads_of(body.attachments),
    )
    return ReceiptOut(  # OMBUD_PUBLIC_URL, never the request's Host header
        tracking_code=receipt.tracking_code,
        follow_url=f"{c.settings.base_url}/follow/{receipt.tracking_code}/{receipt.secret}",
    )


@router.get("", summary="Triage queue")
def list_cases(
    c: ContainerDep,
    principal: ApiPrincipal,
    paging: PagingDep,
    state: Annotated[CaseState | None, Query()] = None,
) -> CasePage:
    """Cases about the systems of the organisations whose cases you handle, newest first."""
    page = c.remedies.cases(principal, state, paging.offset, paging.limit)
    return CasePage(
        items=[CaseOut.of(x) for x in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/escalated", summary="Oversight queue")
def escalated(c: ContainerDep, principal: ApiPrincipal, paging: PagingDep) -> CasePage:
    """Escalated cases of the organisations in your oversight body's jurisdiction."""
    page = c.remedies.oversight_queue(principal, paging.offset, paging.limit)
    return CasePage(
        items=[CaseOut.of(x) for x in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


@router.post("/{case_id}/assign", summary="Assign a reviewer", responses=errors(403, 404))
def assign(case_id: PathId, body: AssignIn, c: ContainerDep, principal: ApiPrincipal) -> CaseOut:
    """For a human review, name who took the original decision: the reviewer must be
    someone else (unga-78-265:op6.k)."""
    return CaseOut.of(c.remedies.assign(principal, case_id, body.reviewer, body.original_decider))


@router.get("/{case_id}", summary="One case", responses=errors(404))
def get_case(case_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> CaseDetailOut:
    """The case as its handlers (or, once escalated, its overseers) see it."""
    view = c.remedies.get(principal, case_id)
    return CaseDetailOut(**CaseOut.of(view.case).model_dump(), permissions=dict(view.can))


@router.post("/{case_id}/state", summary="Move a case", responses=errors(403, 404))
def move_case(case_id: PathId, body: MoveIn, c: ContainerDep, principal: ApiPrincipal) -> CaseOut:
    """Acknowledge, review, ask for information, decide (with reasons), close or escalate:
    the organisation's case handlers only (403 for its overseers)."""
    return CaseOut.of(c.remedies.move(principal, case_id, body.state, body.message, body.outcome))


@router.post(
    "/{case_id}/notes", status_code=201, summary="Note or message", responses=errors(403, 404)
)
def add_note(case_id: PathId, body: NoteIn, c: ContainerDep, principal: ApiPrincipal) -> CaseOut:
    """An internal note, or (internal: false) a message the reporter sees, signed with the
    organisation's name. Once a case is escalated, officers (editor, approver, admin) of
    the oversight body write too; its viewers and parliaments get 403 (coe-fc:26)."""
    c.remedies.note(principal, case_id, body.text, body.internal)
    return CaseOut.of(c.remedies.get(principal, case_id).case)

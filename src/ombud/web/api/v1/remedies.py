"""Reports, complaints and human review requests: public intake and case handling.

`POST /public/reports` takes `{system, kind, category, description, ...}` (system: the
register id; kind: incident, complaint or human_review) and answers 201 with
`{tracking_code, follow_url}`. GET on the follow_url with `Accept: application/json`
returns the public status of the case; the tracking code alone reveals nothing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ombud.domain.remedies import (
    CONTACT_MAX,
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    REFERENCE_MAX,
    Case,
    CaseKind,
    CaseState,
    Category,
    PublicReport,
)
from ombud.kernel.errors import FieldProblem, Invalid
from ombud.kernel.files import NAME_MAX, Upload, clean_name
from ombud.kernel.web.api import PagingDep, PathId, errors, rate_limit
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.kernel.web.schemas import UtcDateTime

public_router = APIRouter(prefix="/public", tags=["remedies"], responses=errors(422, 429))
router = APIRouter(prefix="/cases", tags=["remedies"])


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX, description="e.g. screenshot.png")
    content_type: str = Field(
        "", max_length=100, description="Informational: the type is decided by the content."
    )
    data_base64: str = Field(min_length=1, description="The file, base64-encoded.")


def _uploads(items: list[AttachmentIn]) -> list[Upload]:
    found = []
    for n, item in enumerate(items):
        try:
            data = base64.b64decode(item.data_base64, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(
                f"attachments[{n}] ({item.name}): data_base64 is not valid base64.",
                [FieldProblem(("body", "attachments", n, "data_base64"), "Not valid base64.")],
            ) from None
        found.append(Upload(clean_name(item.name), data))
    return found


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: int = Field(ge=1, le=2**53, description="The system's id in the public register.")
    kind: CaseKind
    category: Category
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    contact: str = Field("", max_length=CONTACT_MAX, description="E-mail for news; optional.")
    decision_reference: str = Field("", max_length=REFERENCE_MAX)
    removal_requested: bool = False
    attachments: list[AttachmentIn] = Field(
        default_factory=list,
        max_length=20,
        description="Optional files (PNG, JPEG, PDF or text; limits as on the form: "
        "OMBUD_ATTACHMENT_MAX_FILES per report, OMBUD_ATTACHMENT_MAX_BYTES each).",
    )


class ReceiptOut(BaseModel):
    tracking_code: str
    follow_url: str = Field(description="Carries the secret key: keep it to follow the case.")


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
        _uploads(body.attachments),
    )
    return ReceiptOut(  # OMBUD_PUBLIC_URL, never the request's Host header
        tracking_code=receipt.tracking_code,
        follow_url=f"{c.settings.base_url}/follow/{receipt.tracking_code}/{receipt.secret}",
    )


class CaseOut(BaseModel):
    id: int
    system_id: int
    kind: CaseKind
    category: Category
    state: CaseState
    tracking_code: str
    description: str
    decision_reference: str
    removal_requested: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime
    deadline: UtcDateTime | None
    outcome: str

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        return cls(
            id=case.id,
            system_id=case.system_id,
            kind=case.kind,
            category=case.category,
            state=case.state,
            tracking_code=case.tracking_code,
            description=case.description,
            decision_reference=case.decision_reference,
            removal_requested=case.removal_requested,
            created_at=case.created_at,
            updated_at=case.updated_at,
            deadline=case.deadline,
            outcome=case.outcome,
        )


class CaseDetailOut(CaseOut):
    permissions: dict[str, bool] = Field(
        description="What you may do on this case, by policy action: case.handle (move, "
        "decide, assign), case.write (notes and messages to the person), incident.record."
    )


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    offset: int
    limit: int


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: CaseState
    message: str = Field("", max_length=MESSAGE_MAX)
    outcome: str = Field("", max_length=MESSAGE_MAX)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MESSAGE_MAX)
    internal: bool = True


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


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=3, max_length=320)
    original_decider: str = Field("", max_length=320)


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

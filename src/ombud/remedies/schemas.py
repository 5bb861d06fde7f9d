"""The API schemas of reports and cases."""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel, ConfigDict, Field

from ombud.kernel.errors import FieldProblem, Invalid
from ombud.kernel.files import NAME_MAX, Upload, clean_name
from ombud.kernel.web.schemas import UtcDateTime
from ombud.remedies.domain import (
    CONTACT_MAX,
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    REFERENCE_MAX,
    Case,
    CaseKind,
    CaseState,
    Category,
)


class AttachmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX, description="e.g. screenshot.png")
    content_type: str = Field(
        "", max_length=100, description="Informational: the type is decided by the content."
    )
    data_base64: str = Field(min_length=1, description="The file, base64-encoded.")


def uploads_of(items: list[AttachmentIn]) -> list[Upload]:
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


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=3, max_length=320)
    original_decider: str = Field("", max_length=320)

"""Assessments as JSON: templates, start, answer, submit, sign off, comment, red lines."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from ombud.domain.assessments import RedLineDecisionKind, Template
from ombud.kernel.web.api import PathId, errors
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.kernel.web.schemas import UtcDateTime
from ombud.services.assessments import AssessmentView

router = APIRouter(tags=["assessments"])

TemplateRef = Annotated[str, Path(pattern=r"^[a-z0-9:.-]{1,120}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateOut(BaseModel):
    urn: str
    version: str
    title: str
    description: str
    scoring: str
    rule_text: str
    provisions: list[str]
    requirements: list[str]
    questions: list[dict[str, Any]]

    @classmethod
    def of(cls, t: Template) -> TemplateOut:
        return cls(
            urn=t.urn,
            version=t.version,
            title=t.title,
            description=t.description,
            scoring=t.scoring.method.value,
            rule_text=t.scoring.rule_text,
            provisions=list(t.provisions),
            requirements=list(t.requirements),
            questions=[
                {
                    "id": q.id,
                    "section": s.id,
                    "text": q.text,
                    "kind": q.kind.value,
                    "required": q.required,
                    "options": [o.value for o in q.options],
                    "columns": [c.id for c in q.columns],
                }
                for s in t.sections
                for q in s.questions
            ],
        )


class TemplateList(BaseModel):
    items: list[TemplateOut]


class StartIn(_In):
    template: str = Field(min_length=1, max_length=120, description="URN or urn:version.")


class AnswersIn(_In):
    answers: dict[str, Any] = Field(description="Question id -> answer; null removes one.")
    expected_revision: int | None = Field(None, ge=1)


class SignIn(_In):
    review_date: date | None = None


class CommentIn(_In):
    text: str = Field(min_length=1, max_length=5000)


class DecisionIn(_In):
    rule_id: str = Field(min_length=1, max_length=80)
    kind: RedLineDecisionKind
    reason: str = Field(min_length=1, max_length=5000)
    until: date | None = None
    legal_basis: str = Field("", max_length=5000)
    review_date: date | None = None


class AssessmentOut(BaseModel):
    id: int
    system_id: int
    template: str
    status: str
    revision: int
    answers: dict[str, Any]
    level: str | None
    score: float
    maximum: float
    mitigation_discount_applied: bool
    red_lines: list[dict[str, str]]
    decisions: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    stale: bool
    stale_reason: str
    signed_at: UtcDateTime | None
    signed_by: str | None
    content_hash: str | None
    review_date: UtcDateTime | None

    @classmethod
    def of(cls, v: AssessmentView) -> AssessmentOut:
        a = v.assessment
        return cls(
            id=a.id,
            system_id=a.system_id,
            template=a.template_key,
            status=a.status.value,
            revision=a.revision,
            answers=a.answers,
            level=v.score.level,
            score=v.score.final,
            maximum=v.score.maximum,
            mitigation_discount_applied=v.score.discounted,
            red_lines=[
                {
                    "id": h.rule.id,
                    "provision": h.rule.provision,
                    "message": h.rule.message,
                    "verdict": h.rule.verdict,
                }
                for h in v.red_lines
            ],
            decisions=[
                {
                    "rule_id": d.rule_id,
                    "kind": d.kind.value,
                    "reason": d.reason,
                    "decided_by": d.decided_by,
                }
                for d in v.decisions
            ],
            comments=[
                {"at": c.at.isoformat() + "Z", "actor": c.actor, "text": c.text} for c in v.comments
            ],
            stale=v.stale,
            stale_reason=v.stale_reason,
            signed_at=a.signed_at,
            signed_by=a.signed_by,
            content_hash=a.content_hash,
            review_date=a.review_date,
        )


class AssessmentList(BaseModel):
    items: list[AssessmentOut]


@router.get("/templates", summary="Assessment templates (newest versions)")
def list_templates(c: ContainerDep, _principal: ApiPrincipal) -> TemplateList:
    """Declarative templates: questions, conditions, the scoring rule and red lines."""
    return TemplateList(items=[TemplateOut.of(t) for t in c.assessments.latest_templates()])


@router.get(
    "/systems/{system_id}/assessments", summary="Assessments of a system", responses=errors(404)
)
def system_assessments(
    system_id: PathId, c: ContainerDep, principal: ApiPrincipal
) -> AssessmentList:
    """Every assessment of the system, newest first, with score, level and staleness."""
    found = c.assessments.for_system(principal, system_id)
    return AssessmentList(
        items=[AssessmentOut.of(c.assessments.get(principal, a.id)) for a in found]
    )


@router.post(
    "/systems/{system_id}/assessments",
    status_code=201,
    summary="Start an assessment",
    responses=errors(404),
)
def start(
    system_id: PathId, body: StartIn, c: ContainerDep, principal: ApiPrincipal
) -> AssessmentOut:
    """A new draft of the given template for the system (assessors, approvers, admins)."""
    a = c.assessments.start(principal, system_id, body.template)
    return AssessmentOut.of(c.assessments.get(principal, a.id))


@router.get("/assessments/{assessment_id}", summary="One assessment", responses=errors(404))
def get_assessment(
    assessment_id: PathId, c: ContainerDep, principal: ApiPrincipal
) -> AssessmentOut:
    """Answers, live score and level, red lines hit, decisions, comments, sign-off."""
    return AssessmentOut.of(c.assessments.get(principal, assessment_id))


@router.patch(
    "/assessments/{assessment_id}/answers", summary="Save answers", responses=errors(404, 409)
)
def save_answers(
    assessment_id: PathId, body: AnswersIn, c: ContainerDep, principal: ApiPrincipal
) -> AssessmentOut:
    """Merge answers into the draft; a wrong answer is refused naming the question
    (`fields[].loc = ["answers", id]`) and nothing is saved."""
    c.assessments.save_answers(principal, assessment_id, body.answers, body.expected_revision)
    return AssessmentOut.of(c.assessments.get(principal, assessment_id))


@router.post(
    "/assessments/{assessment_id}/submit", summary="Submit for sign-off", responses=errors(404, 409)
)
def submit(assessment_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> AssessmentOut:
    """Refused while required questions are unanswered (each is named)."""
    c.assessments.submit(principal, assessment_id)
    return AssessmentOut.of(c.assessments.get(principal, assessment_id))


@router.post(
    "/assessments/{assessment_id}/sign", summary="Sign off (four eyes)", responses=errors(404, 409)
)
def sign(
    assessment_id: PathId, body: SignIn, c: ContainerDep, principal: ApiPrincipal
) -> AssessmentOut:
    """An approver who did not answer it signs; the content hash goes on the ledger."""
    c.assessments.sign(principal, assessment_id, body.review_date)
    return AssessmentOut.of(c.assessments.get(principal, assessment_id))


@router.post(
    "/assessments/{assessment_id}/comments",
    status_code=201,
    summary="Comment",
    responses=errors(404),
)
def comment(
    assessment_id: PathId, body: CommentIn, c: ContainerDep, principal: ApiPrincipal
) -> AssessmentOut:
    """A comment for the assessors and approvers."""
    c.assessments.comment(principal, assessment_id, body.text)
    return AssessmentOut.of(c.assessments.get(principal, assessment_id))


@router.post(
    "/assessments/{assessment_id}/red-line-decisions",
    status_code=201,
    summary="Decide on a red-line hit",
    responses=errors(404),
)
def decide(
    assessment_id: PathId, body: DecisionIn, c: ContainerDep, principal: ApiPrincipal
) -> AssessmentOut:
    """Ban, moratorium until a date, or justified exception with its legal basis
    (coe-fc:16.4); recorded with who took it and its review date."""
    c.assessments.decide_red_line(
        principal,
        assessment_id,
        body.rule_id,
        body.kind,
        body.reason,
        body.until,
        body.legal_basis,
        body.review_date,
    )
    return AssessmentOut.of(c.assessments.get(principal, assessment_id))

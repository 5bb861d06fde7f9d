"""The API schemas of assessments."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from ombud.assessments.domain import RedLineDecisionKind, Template
from ombud.assessments.service import AssessmentView
from ombud.kernel.web.schemas import UtcDateTime

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

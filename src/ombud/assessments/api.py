"""Assessments as JSON: templates, start, answer, submit, sign off, comment, red lines."""

from __future__ import annotations

from fastapi import APIRouter

from ombud.assessments.schemas import (
    AnswersIn,
    AssessmentList,
    AssessmentOut,
    CommentIn,
    DecisionIn,
    SignIn,
    StartIn,
    TemplateList,
    TemplateOut,
)
from ombud.kernel.web.api import PathId, errors
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep

router = APIRouter(tags=["assessments"])


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

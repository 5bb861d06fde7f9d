"""An assessment's course: started as a draft, answered (by hand or from a file),
submitted, and signed off by someone who did not answer it (four eyes).

coe-fc:16 (risk and impact management), coe-fc:16.4 (red-line screening first).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from ombud.accounts.access import authorize
from ombud.assessments.domain import (
    Assessment,
    AssessmentStatus,
    problems,
    red_line_hits,
    score,
)
from ombud.assessments.reading import RED_LINE_SCREENING, AssessmentReading
from ombud.assessments.sign_off import (
    answers_without_none,
    content_hash,
    review_date_of,
    risk_from,
)
from ombud.compliance.applicability import facts_of
from ombud.kernel.access import Action, Principal, Role
from ombud.kernel.errors import Conflict, FieldProblem, Forbidden, Invalid
from ombud.kernel.ledger.domain import LedgerAction
from ombud.register.access import readable_system

ANSWERS_MAX_BYTES = 500_000


class AssessmentWorkflow(AssessmentReading):
    """The part of ``AssessmentsService`` that moves an assessment along its course."""

    def start(self, actor: Principal, system_id: int, template_ref: str) -> Assessment:
        """A new, empty draft of the template (by ``urn:version`` or URN) for the system."""
        template = self.template(template_ref)
        now = self.clock()
        with self.uow_factory() as uow:
            system, org = readable_system(uow, actor, system_id)
            authorize(actor, Action.ASSESSMENT_EDIT, org)
            a = uow.assessments.add(
                Assessment(
                    id=0,
                    system_id=system.id,
                    organisation_id=org.id,
                    template_urn=template.urn,
                    template_version=template.version,
                    status=AssessmentStatus.DRAFT,
                    answers={},
                    level=None,
                    created_by=actor.user_id,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._record(
                uow,
                actor,
                LedgerAction.CREATE,
                "assessment",
                a.id,
                org.id,
                after={"system_id": system.id, "template": template.key},
            )
            uow.commit()
            return a

    def save_answers(
        self,
        actor: Principal,
        assessment_id: int,
        answers: dict[str, Any],
        expected_revision: int | None = None,
    ) -> Assessment:
        """Merge answers into a draft (nothing typed is lost: each save is kept).

        A value of None removes an answer. Refuses answers of the wrong kind, naming
        the question; the assessment is unchanged then.
        """
        if len(json.dumps(answers, default=str)) > ANSWERS_MAX_BYTES:
            raise Invalid.from_fields({"answers": "The answers are too large to save at once."})
        now = self.clock()
        with self.uow_factory() as uow:
            a, system, org = self._load(uow, actor, assessment_id, lock=True)
            authorize(actor, Action.ASSESSMENT_EDIT, org)
            if a.status is AssessmentStatus.SIGNED:
                raise Conflict("A signed assessment is read-only; start a new one to revise it.")
            if expected_revision is not None and expected_revision != a.revision:
                raise Conflict(
                    f"The assessment was saved by someone else (now revision {a.revision}); "
                    "reload it and apply your answers again."
                )
            template = self.templates[a.template_key]
            merged = {**a.answers, **answers}
            merged = {k: v for k, v in merged.items() if v is not None}
            found = problems(
                template, answers_without_none(answers), facts_of(system, org), complete=False
            )
            if found:
                raise Invalid(
                    "Some answers are not valid: " + ", ".join(found),
                    [FieldProblem(("answers", q), m) for q, m in found.items()],
                )
            before = {"answers": a.answers, "status": a.status.value}
            a.answers = merged
            a.updated_at = now
            a.revision += 1
            if a.status is AssessmentStatus.SUBMITTED:
                a.status = AssessmentStatus.DRAFT  # an edit after submission goes back to draft
            a.level = score(template, merged, facts_of(system, org)).level
            uow.assessments.save(a)
            uow.assessments.add_author(a.id, actor.user_id)
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "assessment",
                a.id,
                org.id,
                before=before,
                after={"answers": merged, "status": a.status.value},
            )
            uow.commit()
            return a

    def answers_from_file(self, name: str, text: str) -> tuple[dict[str, Any], dict[str, int]]:
        """The answers in a YAML/JSON file, with the line of each, or Invalid naming the line."""
        if self.read_answers is None:
            raise Invalid("Reading answers files is not configured.")
        data, lines = self.read_answers(name, text)
        if isinstance(data, dict) and isinstance(data.get("answers"), dict):
            data = data["answers"]
            lines = {k: lines.get(k, 0) for k in data}
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise Invalid(f"{name}: expected a mapping of question ids to answers.")
        return data, lines

    def run_answers_file(
        self, actor: Principal, assessment_id: int, name: str, text: str
    ) -> Assessment:
        """Save the answers of a file into a draft; problems name file, line and question."""
        answers, lines = self.answers_from_file(name, text)
        try:
            return self.save_answers(actor, assessment_id, answers)
        except Invalid as exc:
            located = [
                FieldProblem(
                    ("file", name, "line", lines.get(str(p.loc[-1]), 0), *p.loc[1:]),
                    f"{p.loc[-1]}: {p.message}",
                )
                for p in exc.problems
            ]
            first = located[0] if located else None
            where = f"{name}:{first.loc[3]}: {first.message}" if first else exc.message
            raise Invalid(where, located) from None

    def submit(self, actor: Principal, assessment_id: int) -> Assessment:
        """Submit a complete draft for sign-off; Invalid names the questions left."""
        now = self.clock()
        with self.uow_factory() as uow:
            a, system, org = self._load(uow, actor, assessment_id, lock=True)
            authorize(actor, Action.ASSESSMENT_EDIT, org)
            if a.status is not AssessmentStatus.DRAFT:
                raise Conflict(f"Only a draft can be submitted; this one is {a.status.value}.")
            template = self.templates[a.template_key]
            found = problems(template, a.answers, facts_of(system, org), complete=True)
            if found:
                raise Invalid(
                    f"{len(found)} questions still need an answer: " + ", ".join(found),
                    [FieldProblem(("answers", q), m) for q, m in found.items()],
                )
            a.status = AssessmentStatus.SUBMITTED
            a.submitted_at = now
            a.updated_at = now
            uow.assessments.save(a)
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "assessment",
                a.id,
                org.id,
                after={"status": "submitted"},
            )
            uow.commit()
            return a

    def sign(self, actor: Principal, assessment_id: int, review_date: date | None = None) -> str:
        """Sign off a submitted assessment; returns the content hash put on the ledger.

        Four eyes: the approver must not have answered it. Red-line screening comes
        first: other templates wait for a signed, current screening; a screening with
        hits waits for a decision on each (coe-fc:16.4).
        """
        now = self.clock()
        with self.uow_factory() as uow:
            a, system, org = self._load(uow, actor, assessment_id, lock=True)
            authorize(actor, Action.ASSESSMENT_SIGN, org)
            if a.status is not AssessmentStatus.SUBMITTED:
                raise Conflict(
                    f"Only a submitted assessment can be signed; this one is {a.status.value}."
                )
            if actor.user_id in uow.assessments.authors(a.id):
                raise Forbidden(
                    "Four eyes: you answered this assessment, so another approver must sign it."
                )
            template = self.templates[a.template_key]
            role = actor.role_in(org.id)
            if role is not Role.ADMIN and (
                role is None or role.value not in template.signoff_roles
            ):
                raise Forbidden(
                    f"{template.title} is signed off by: {', '.join(template.signoff_roles)}."
                )
            facts = facts_of(system, org)
            hits = red_line_hits(template, a.answers, facts)
            if template.requires_red_line_screening:
                screenings = [
                    s
                    for s in uow.assessments.for_system(system.id)
                    if s.template_urn == RED_LINE_SCREENING and s.is_current(now)
                ]
                if not screenings:
                    raise Conflict(
                        "Sign a current red-line screening of this system first "
                        "(coe-fc:16.4, unga-78-265:op5)."
                    )
            decisions = uow.assessments.decisions(system.id)
            decided = {d.rule_id for d in decisions if d.assessment_id == a.id}
            undecided = [h.rule.id for h in hits if h.rule.id not in decided]
            if undecided:
                raise Conflict(
                    "Record a decision (ban, moratorium or justified exception) on each red "
                    f"line hit before signing: {', '.join(undecided)}."
                )
            result = score(template, a.answers, facts)
            a.status = AssessmentStatus.SIGNED
            a.signed_at = now
            a.signed_by = actor.label
            a.system_revision = system.revision
            a.review_date = (
                datetime.combine(review_date, datetime.min.time())
                if review_date
                else review_date_of(a.answers)
            )
            a.updated_at = now
            a.content_hash = content_hash(a, result)
            uow.assessments.save(a)
            risk = risk_from(result.level, decisions)
            if risk is not None and risk is not system.risk_level:
                system.risk_level = risk
                system.updated_at = now
                uow.systems.save(system)
            self._record(
                uow,
                actor,
                LedgerAction.SIGN_OFF,
                "assessment",
                a.id,
                org.id,
                after={
                    "content_hash": a.content_hash,
                    "level": result.level,
                    "template": a.template_key,
                    "system_id": system.id,
                },
            )
            uow.commit()
            return a.content_hash

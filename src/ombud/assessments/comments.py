"""Comments on an assessment, by its assessors and approvers."""

from __future__ import annotations

from ombud.accounts.access import org_ref
from ombud.assessments.domain import Comment
from ombud.assessments.reading import AssessmentReading
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import Forbidden, Invalid
from ombud.kernel.ledger.domain import LedgerAction

COMMENT_MAX = 5000


class AssessmentComments(AssessmentReading):
    """The comments part of ``AssessmentsService``."""

    def comment(self, actor: Principal, assessment_id: int, text: str) -> None:
        """Add a comment (those who may edit or sign the assessment); it is on the ledger."""
        text = text.strip()
        if not text:
            raise Invalid.from_fields({"text": "Write a comment."})
        if len(text) > COMMENT_MAX:
            raise Invalid.from_fields({"text": f"At most {COMMENT_MAX} characters."})
        with self.uow_factory() as uow:
            a, _system, org = self._load(uow, actor, assessment_id)
            if not (
                is_allowed(actor, Action.ASSESSMENT_EDIT, org_ref(org))
                or is_allowed(actor, Action.ASSESSMENT_SIGN, org_ref(org))
            ):
                raise Forbidden("Only assessors and approvers comment on assessments.")
            uow.assessments.add_comment(Comment(a.id, self.clock(), actor.label, text))
            self._record(
                uow, actor, LedgerAction.UPDATE, "assessment", a.id, org.id, after={"comment": text}
            )
            uow.commit()

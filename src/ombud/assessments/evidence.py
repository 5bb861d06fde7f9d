"""Evidence files attached to an assessment, and reading them back."""

from __future__ import annotations

import hashlib

from ombud.accounts.access import authorize
from ombud.assessments.domain import AssessmentStatus, EvidenceFile, check_evidence_file
from ombud.assessments.reading import AssessmentReading
from ombud.kernel.access import Action, Principal
from ombud.kernel.errors import Conflict, Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction


class AssessmentEvidence(AssessmentReading):
    """The evidence files part of ``AssessmentsService``."""

    def attach_evidence(
        self, actor: Principal, assessment_id: int, name: str, data: bytes
    ) -> EvidenceFile:
        """Attach an evidence file to an assessment that is not signed; refused (and
        nothing stored) when its type, content or size is wrong."""
        name = name.strip().rsplit("/", 1)[-1][:200]
        content_type, problem = check_evidence_file(name, data)
        if problem:
            raise Invalid.from_fields({"evidence_file": problem})
        now = self.clock()
        with self.uow_factory() as uow:
            a, _system, org = self._load(uow, actor, assessment_id, lock=True)
            authorize(actor, Action.ASSESSMENT_EDIT, org)
            if a.status is AssessmentStatus.SIGNED:
                raise Conflict("A signed assessment is read-only; evidence cannot be added.")
            digest = hashlib.sha256(data).hexdigest()
            f = uow.evidence.add(
                EvidenceFile(0, a.id, name, content_type, len(data), digest, actor.label, now),
                data,
            )
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "assessment",
                a.id,
                org.id,
                after={"evidence": {"id": f.id, "name": name, "sha256": digest}},
            )
            uow.commit()
            return f

    def evidence(self, actor: Principal, assessment_id: int) -> list[EvidenceFile]:
        """The evidence files of an assessment the actor may read."""
        with self.uow_factory(readonly=True) as uow:
            self._load(uow, actor, assessment_id)
            return uow.evidence.for_assessment(assessment_id)

    def evidence_file(self, actor: Principal, file_id: int) -> tuple[EvidenceFile, bytes]:
        """One evidence file with its content; NotFound unless its assessment is readable."""
        with self.uow_factory(readonly=True) as uow:
            found = uow.evidence.get(file_id)
            if found is None:
                raise NotFound(f"Evidence file {file_id} does not exist or is not visible to you.")
            try:
                self._load(uow, actor, found[0].assessment_id)
            except NotFound:
                raise NotFound(
                    f"Evidence file {file_id} does not exist or is not visible to you."
                ) from None
            return found

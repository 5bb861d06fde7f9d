"""Red-line decisions: a ban, a moratorium or a justified exception on each red line an
assessment's answers hit, and reading them back (coe-fc:16.4, unga-78-265:op6.b/e)."""

from __future__ import annotations

from datetime import date, datetime

from ombud.accounts.access import authorize
from ombud.assessments.domain import RedLineDecision, RedLineDecisionKind, red_line_hits
from ombud.assessments.reading import AssessmentReading
from ombud.compliance.applicability import facts_of
from ombud.kernel.access import Action, Principal
from ombud.kernel.errors import Invalid
from ombud.kernel.ledger.domain import LedgerAction
from ombud.register.access import readable_system
from ombud.register.domain.systems import PublicationState, RiskLevel


class RedLineDecisions(AssessmentReading):
    """The red-line decisions part of ``AssessmentsService``."""

    def red_line_decisions(self, actor: Principal, system_id: int) -> list[RedLineDecision]:
        """Bans, moratoria and justified exceptions decided for the system (coe-fc:16.4)."""
        with self.uow_factory(readonly=True) as uow:
            readable_system(uow, actor, system_id)
            return uow.assessments.decisions(system_id)

    def published_red_line_decisions(self, system_id: int) -> list[RedLineDecision]:
        """The decisions of a published system, for its public register page."""
        with self.uow_factory(readonly=True) as uow:
            system = uow.systems.get(system_id)
            if system is None or system.publication_state is not PublicationState.PUBLISHED:
                return []
            return uow.assessments.decisions(system_id)

    def decide_red_line(
        self,
        actor: Principal,
        assessment_id: int,
        rule_id: str,
        kind: RedLineDecisionKind,
        reason: str,
        until: date | None = None,
        legal_basis: str = "",
        review_date: date | None = None,
    ) -> RedLineDecision:
        """Record the decision on a red-line hit: a ban, a moratorium until a date, or a
        justified exception with its legal basis (coe-fc:16.4)."""
        problems_found = {}
        if not reason.strip():
            problems_found["reason"] = "Give the reasons for the decision."
        if kind is RedLineDecisionKind.MORATORIUM and until is None:
            problems_found["until"] = "A moratorium needs the date it runs until."
        if kind is RedLineDecisionKind.JUSTIFIED_EXCEPTION and not legal_basis.strip():
            problems_found["legal_basis"] = "A justified exception needs its legal basis."
        if problems_found:
            raise Invalid.from_fields(problems_found)
        now = self.clock()
        with self.uow_factory() as uow:
            a, system, org = self._load(uow, actor, assessment_id, lock=True)
            authorize(actor, Action.ASSESSMENT_SIGN, org)
            template = self.templates[a.template_key]
            hits = {h.rule.id: h for h in red_line_hits(template, a.answers, facts_of(system, org))}
            if rule_id not in hits:
                raise Invalid.from_fields(
                    {"rule_id": f"'{rule_id}' is not a red line hit by this assessment's answers."}
                )
            decision = uow.assessments.add_decision(
                RedLineDecision(
                    id=0,
                    system_id=system.id,
                    assessment_id=a.id,
                    rule_id=rule_id,
                    provision=hits[rule_id].rule.provision,
                    kind=kind,
                    until=datetime.combine(until, datetime.min.time()) if until else None,
                    legal_basis=legal_basis.strip(),
                    reason=reason.strip(),
                    decided_by=actor.label,
                    decided_at=now,
                    review_date=datetime.combine(review_date, datetime.min.time())
                    if review_date
                    else None,
                )
            )
            if kind is not RedLineDecisionKind.JUSTIFIED_EXCEPTION:
                system.risk_level = RiskLevel.UNACCEPTABLE
                system.updated_at = now
                uow.systems.save(system)
            self._record(
                uow,
                actor,
                LedgerAction.RED_LINE_DECISION,
                "ai_system",
                system.id,
                org.id,
                after={
                    "assessment_id": a.id,
                    "rule": rule_id,
                    "kind": kind.value,
                    "reason": reason.strip(),
                },
            )
            uow.commit()
            return decision

"""Risk and impact assessments: start, answer, submit, sign off (four eyes), comment,
record red-line decisions, and see what has gone stale.

coe-fc:16 (risk and impact management across the lifecycle), coe-fc:16.4 (bans
and moratoria), unga-78-265:op6.b/e, ipu-148 (legal review of weapons).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ombud.accounts.domain import Organisation
from ombud.assessments.domain import (
    Assessment,
    AssessmentStatus,
    Comment,
    EvidenceFile,
    RedLineDecision,
    RedLineDecisionKind,
    RedLineHit,
    Score,
    Template,
    check_evidence_file,
    problems,
    red_line_hits,
    score,
)
from ombud.assessments.ports import AnswersReader, ReportRenderer
from ombud.assessments.sign_off import (
    answers_without_none,
    content_hash,
    review_date_of,
    risk_from,
    template_version,
)
from ombud.compliance.applicability import facts_of
from ombud.kernel.access import Action, Principal, Role, is_allowed
from ombud.kernel.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import Service, authorize, org_ref, readable_system, utcnow
from ombud.register.domain.lifecycle import LIVE_STAGES
from ombud.register.domain.systems import AISystem, PublicationState, RiskLevel
from ombud.register.ports import SystemFilter

RED_LINE_SCREENING = "urn:ombud:template:red-line-screening"
COMMENT_MAX = 5000
ANSWERS_MAX_BYTES = 500_000


REQUIRED_BEFORE_USE = (RED_LINE_SCREENING, "urn:ombud:template:hudera")


@dataclass(frozen=True)
class DueItem:
    system_id: int
    system: str
    assessment_id: int | None
    template: str
    why: str


@dataclass(frozen=True)
class AssessmentView:
    assessment: Assessment
    template: Template
    system: AISystem
    organisation: Organisation
    score: Score
    red_lines: list[RedLineHit]
    decisions: list[RedLineDecision]
    comments: list[Comment]
    authors: set[int]
    stale: bool
    stale_reason: str
    can_edit: bool
    can_sign: bool
    can_decide: bool


class AssessmentsService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        templates: dict[str, Template],
        clock: Clock = utcnow,
        read_answers: AnswersReader | None = None,
        reports: ReportRenderer | None = None,
    ) -> None:
        super().__init__(uow_factory, clock)
        self.templates = templates
        self.read_answers = read_answers
        self.reports = reports

    def heatmap_svg(self, view: AssessmentView) -> str:
        """The risk picture of an assessment (empty when it does not score)."""
        if self.reports is None or view.score.level is None:
            return ""
        levels = [(t.at, t.level) for t in view.template.scoring.levels]
        return self.reports.heatmap_svg(view.score, levels)

    def report_html(self, actor: Principal, assessment_id: int, links: bool = False) -> str:
        """The report: answers, level with its rule, heat map, red lines, provisions served,
        sign-off and content hash."""
        if self.reports is None:
            raise Invalid("Reports are not configured.")
        view = self.get(actor, assessment_id)
        return self.reports.assessment_html(
            {
                "v": view,
                "a": view.assessment,
                "t": view.template,
                "heatmap": self.heatmap_svg(view),
                "links": links,
            }
        )

    def report_pdf(self, actor: Principal, assessment_id: int) -> bytes:
        if self.reports is None:
            raise Invalid("Reports are not configured.")
        return self.reports.pdf(self.report_html(actor, assessment_id))

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

    # -- templates ------------------------------------------------------------

    def latest_templates(self) -> list[Template]:
        """The newest version of each template."""
        newest: dict[str, Template] = {}
        for t in self.templates.values():
            current = newest.get(t.urn)
            if current is None or template_version(t.version) > template_version(current.version):
                newest[t.urn] = t
        return sorted(newest.values(), key=lambda t: t.title)

    def _title(self, urn: str) -> str:
        newest = next((t for t in self.latest_templates() if t.urn == urn), None)
        return newest.title if newest else urn.rsplit(":", 1)[1].replace("-", " ")

    def template(self, ref: str) -> Template:
        """By ``urn:version``, or by URN for the newest version."""
        if ref in self.templates:
            return self.templates[ref]
        for t in self.latest_templates():
            if t.urn == ref or t.urn.rsplit(":", 1)[1] == ref:
                return t
        known = ", ".join(t.urn for t in self.latest_templates())
        raise NotFound(f"No assessment template '{ref}'. Known: {known}.")

    # -- reading ----------------------------------------------------------------

    def _load(
        self, uow: UnitOfWork, actor: Principal, assessment_id: int, lock: bool = False
    ) -> tuple[Assessment, AISystem, Organisation]:
        a = uow.assessments.get(assessment_id, for_update=lock)
        try:
            if a is None:
                raise NotFound("no such assessment")
            system, org = readable_system(uow, actor, a.system_id)
        except NotFound:
            raise NotFound(
                f"Assessment {assessment_id} does not exist or is not visible to you."
            ) from None
        return a, system, org

    def get(self, actor: Principal, assessment_id: int) -> AssessmentView:
        with self.uow_factory(readonly=True) as uow:
            a, system, org = self._load(uow, actor, assessment_id)
            return self._view(uow, actor, a, system, org)

    def _view(
        self,
        uow: UnitOfWork,
        actor: Principal,
        a: Assessment,
        system: AISystem,
        org: Organisation,
    ) -> AssessmentView:
        template = self.templates[a.template_key]
        facts = facts_of(system, org)
        authors = uow.assessments.authors(a.id)
        now = self.clock()
        ref = org_ref(org)
        return AssessmentView(
            assessment=a,
            template=template,
            system=system,
            organisation=org,
            score=score(template, a.answers, facts),
            red_lines=red_line_hits(template, a.answers, facts),
            decisions=[d for d in uow.assessments.decisions(system.id) if d.assessment_id == a.id],
            comments=uow.assessments.comments(a.id),
            authors=authors,
            stale=a.is_stale(now),
            stale_reason=a.stale_because(now),
            can_edit=a.status is not AssessmentStatus.SIGNED
            and is_allowed(actor, Action.ASSESSMENT_EDIT, ref),
            can_sign=a.status is AssessmentStatus.SUBMITTED
            and is_allowed(actor, Action.ASSESSMENT_SIGN, ref)
            and actor.user_id not in authors,
            can_decide=a.status is not AssessmentStatus.SIGNED
            and is_allowed(actor, Action.ASSESSMENT_SIGN, ref),
        )

    def for_system(self, actor: Principal, system_id: int) -> list[Assessment]:
        with self.uow_factory(readonly=True) as uow:
            readable_system(uow, actor, system_id)
            return uow.assessments.for_system(system_id)

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

    def due(self, actor: Principal) -> list[DueItem]:
        """What needs work: live systems without current assessments, stale assessments
        (significant modification, passed review date), drafts and sign-offs waiting."""
        now = self.clock()
        out: list[DueItem] = []
        with self.uow_factory(readonly=True) as uow:
            readable = actor.readable_org_ids()
            found = uow.assessments.for_organisations(readable)
            names: dict[int, str] = {}
            current: dict[int, set[str]] = {}
            for a in found:
                if a.is_current(now):
                    current.setdefault(a.system_id, set()).add(a.template_urn)
            for stage in LIVE_STAGES:
                flt = SystemFilter(organisation_ids=readable, lifecycle_stage=stage)
                for listing in uow.systems.iter_listings(flt):
                    system = listing.system
                    names[system.id] = system.details.name
                    missing = [
                        t for t in REQUIRED_BEFORE_USE if t not in current.get(system.id, set())
                    ]
                    if missing:
                        titles = ", ".join(self._title(t) for t in missing)
                        out.append(
                            DueItem(
                                system.id,
                                system.details.name,
                                None,
                                "",
                                f"in {stage.label} without a current {titles}",
                            )
                        )
            for a in found:
                name = names.get(a.system_id) or _system_name(uow, a.system_id)
                title = self.templates[a.template_key].title
                if a.is_stale(now):
                    why = "stale: " + a.stale_because(now)
                elif a.status is AssessmentStatus.SUBMITTED:
                    why = "waiting for sign-off"
                elif a.status is AssessmentStatus.DRAFT:
                    why = "draft"
                else:
                    continue
                out.append(DueItem(a.system_id, name, a.id, title, why))
        return out

    # -- writing ------------------------------------------------------------------

    def start(self, actor: Principal, system_id: int, template_ref: str) -> Assessment:
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

    def submit(self, actor: Principal, assessment_id: int) -> Assessment:
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
        with self.uow_factory(readonly=True) as uow:
            self._load(uow, actor, assessment_id)
            return uow.evidence.for_assessment(assessment_id)

    def evidence_file(self, actor: Principal, file_id: int) -> tuple[EvidenceFile, bytes]:
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

    def comment(self, actor: Principal, assessment_id: int, text: str) -> None:
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


def _system_name(uow: UnitOfWork, system_id: int) -> str:
    system = uow.systems.get(system_id)
    return system.details.name if system else f"system {system_id}"

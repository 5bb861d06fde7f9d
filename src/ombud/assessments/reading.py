"""Reading assessments: the templates they are made from, one assessment as its page
shows it (with what the reader may do), its report, and what is due.

The first part of ``AssessmentsService`` (service.py); the parts that change an
assessment build on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ombud.accounts.access import org_ref
from ombud.accounts.domain import Organisation
from ombud.assessments.domain import (
    Assessment,
    AssessmentStatus,
    Comment,
    RedLineDecision,
    RedLineHit,
    Score,
    Template,
    red_line_hits,
    score,
)
from ombud.assessments.ports import AnswersReader, ReportRenderer
from ombud.assessments.sign_off import template_version
from ombud.compliance.applicability import facts_of
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import Invalid, NotFound
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import Service, utcnow
from ombud.register.access import readable_system
from ombud.register.domain.lifecycle import LIVE_STAGES
from ombud.register.domain.systems import AISystem
from ombud.register.ports import SystemFilter

RED_LINE_SCREENING = "urn:ombud:template:red-line-screening"
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


class AssessmentReading(Service):
    """The reading part of ``AssessmentsService``, and the settings every part uses."""

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
        """One assessment as its page shows it, with what the actor may do with it."""
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
        """The assessments of a system the actor may read."""
        with self.uow_factory(readonly=True) as uow:
            readable_system(uow, actor, system_id)
            return uow.assessments.for_system(system_id)

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

    # -- the report ------------------------------------------------------------

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
        """The report as PDF."""
        if self.reports is None:
            raise Invalid("Reports are not configured.")
        return self.reports.pdf(self.report_html(actor, assessment_id))


def _system_name(uow: UnitOfWork, system_id: int) -> str:
    system = uow.systems.get(system_id)
    return system.details.name if system else f"system {system_id}"

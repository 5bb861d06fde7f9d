"""Demo data: organisations, people and AI systems across the lifecycle.

The data (resources/demo/demo.yaml, read by an adapter) is loaded through the
same services as real use, so every demo record passes the same validation and
gates and leaves the same ledger trail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ombud.accounts.service import AccountsService
from ombud.assessments.domain import RedLineDecisionKind
from ombud.assessments.service import RED_LINE_SCREENING, AssessmentsService
from ombud.audits.domain.runs import Purpose, RunRequest, RunState
from ombud.audits.service import AuditRunService
from ombud.incidents.domain import IncidentDraft, Severity
from ombud.incidents.service import IncidentService
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Principal, Role
from ombud.kernel.errors import Invalid
from ombud.kernel.service import Service
from ombud.register.domain.lifecycle import LIVE_STAGES, LifecycleStage
from ombud.register.domain.systems import AISystem, PublicationState, RiskLevel, SystemDetails
from ombud.register.ports import SystemFilter
from ombud.register.service import RegisterService
from ombud.remedies.domain import CaseKind, CaseState, Category, PublicReport
from ombud.remedies.service import RemediesService

HUDERA = "urn:ombud:template:hudera"
# Severity (1-4) of the demo impact assessments, from the demo's risk level.
_SEVERITY = {"low": 1, "unassessed": 2, "medium": 2, "high": 3, "unacceptable": 4}


@dataclass
class DemoUser:
    email: str
    password: str
    roles: list[str] = field(default_factory=list)


@dataclass
class DemoReport:
    organisations: int = 0
    systems: int = 0
    users: list[DemoUser] = field(default_factory=list)


PRE_DEPLOYMENT_TESTING = "urn:ombud:template:pre-deployment-testing"


class DemoService(Service):
    def __init__(
        self,
        accounts: AccountsService,
        register: RegisterService,
        read_demo_data: Callable[[], dict[str, Any]],
        assessments: AssessmentsService | None = None,
        remedies: RemediesService | None = None,
        incidents: IncidentService | None = None,
        audit_runs: AuditRunService | None = None,
        audit_data_dir: str = "",
    ) -> None:
        super().__init__(register.uow_factory, register.clock)
        self.accounts = accounts
        self.register = register
        self.read_demo_data = read_demo_data
        self.assessments = assessments
        self.remedies = remedies
        self.incidents = incidents
        self.audit_runs = audit_runs
        self.audit_data_dir = audit_data_dir
        self._signers: dict[int, Principal] = {}

    def is_empty(self) -> bool:
        with self.uow_factory(readonly=True) as uow:
            return uow.organisations.count() == 0

    def load(self, data: dict[str, Any] | None = None) -> DemoReport:
        """Create the demo organisations, users and systems (on an empty database)."""
        data = data if data is not None else self.read_demo_data()
        if not self.is_empty():
            raise Invalid(
                "The database already holds organisations; demo data goes into an "
                "empty database only."
            )
        report = DemoReport()
        root = SYSTEM_PRINCIPAL
        orgs: dict[str, int] = {}
        for raw in data["organisations"]:
            org = self.accounts.create_organisation(
                root,
                raw["name"],
                OrganisationKind(raw["kind"]),
                raw["slug"],
                raw.get("country", ""),
            )
            orgs[org.slug] = org.id
            if raw.get("notice_languages"):
                self.accounts.set_notice_languages(root, org.id, raw["notice_languages"])
        report.organisations = len(orgs)
        for raw in data.get("jurisdiction", []):
            for slug in raw["organisations"]:
                self.accounts.grant_jurisdiction(root, raw["oversight"], slug)
        self._report = report
        actors: dict[int, Principal] = {}
        for raw in data["users"]:
            user = self.accounts.create_user(
                root,
                raw["email"],
                raw["password"],
                raw.get("display_name", ""),
                bool(raw.get("superuser", False)),
            )
            roles = []
            for m in raw.get("memberships", []):
                self.accounts.set_role(root, orgs[m["org"]], user.email, Role(m["role"]))
                roles.append(f"{m['role']} @ {m['org']}")
            if raw.get("superuser"):
                roles.append("platform administrator")
            report.users.append(DemoUser(user.email, raw["password"], roles))
        for raw in data["systems"]:
            org_id = orgs[raw["org"]]
            actor = actors.get(org_id) or self._admin_of(org_id)
            actors[org_id] = actor
            self._load_system(actor, org_id, raw)
            report.systems += 1
        self._cases(data.get("cases", []), actors)
        self._audits(data.get("audits", []), actors)
        return report

    def _audits(self, audits: list[dict[str, Any]], actors: dict[int, Principal]) -> None:
        """Bias audits of shipped demo data, run now (not through the worker), cited in a
        pre-deployment testing record and, if asked, summarised on the public register."""
        if self.audit_runs is None or self.assessments is None:
            return
        for raw in audits:
            system = self._published_system(raw["system"])
            actor = actors.get(system.organisation_id) or self._admin_of(system.organisation_id)
            rr = RunRequest(
                label=raw["label"],
                groups=tuple(raw["groups"]),
                prediction=raw.get("prediction"),
                score=raw.get("score"),
                threshold=raw.get("threshold"),
                intersect=bool(raw.get("intersect", False)),
                references=dict(raw.get("references", {})),
                purpose=Purpose(raw.get("purpose", "pre_deployment")),
                time_column=raw.get("time"),
                window=raw.get("window"),
                alerts=tuple(raw.get("alerts", [])),
            )
            path = f"{self.audit_data_dir}/{raw['data']}"
            run = self.audit_runs.request(actor, system.id, rr, path, raw["data"])
            while self.audit_runs.run_pending(1):
                pass
            done, _ = self.audit_runs.get(actor, run.id)
            if done.state is not RunState.DONE:
                raise Invalid(f"Demo audit of {raw['system']!r} failed: {done.error}")
            if raw.get("publish"):
                self.audit_runs.set_published(
                    self._signer(system.organisation_id, actor), run.id, True
                )
            if raw.get("cite_in_testing_record"):
                record = self.assessments.start(actor, system.id, PRE_DEPLOYMENT_TESTING)
                self.audit_runs.cite(actor, record.id, run.id)

    def _cases(self, cases: list[dict[str, Any]], actors: dict[int, Principal]) -> None:
        """Reports from the public, moved along their states by the organisation."""
        if self.remedies is None:
            return
        for raw in cases:
            system = self._published_system(raw["system"])
            receipt = self.remedies.submit(
                PublicReport(
                    system.id,
                    CaseKind(raw["kind"]),
                    Category(raw["category"]),
                    raw["description"],
                    decision_reference=raw.get("decision_reference", ""),
                    removal_requested=bool(raw.get("removal_requested", False)),
                )
            )
            actor = actors.get(system.organisation_id) or self._admin_of(system.organisation_id)
            case = next(
                c
                for c in self.remedies.cases(actor, None, 0, 100).items
                if c.tracking_code == receipt.tracking_code
            )
            for step in raw.get("steps", []):
                self.remedies.move(
                    actor,
                    case.id,
                    CaseState(step["state"]),
                    step.get("message", ""),
                    step.get("outcome", ""),
                )
            if "incident" in raw and self.incidents is not None:
                self._incident(actor, system.id, case.id, raw["incident"])

    def _incident(
        self, actor: Principal, system_id: int, case_id: int, raw: dict[str, Any]
    ) -> None:
        """A case confirmed as an incident (harm, severity, cause, corrective action)."""
        assert self.incidents is not None
        occurred = raw.get("occurred")
        incident = self.incidents.record(
            actor,
            system_id,
            IncidentDraft(
                title=raw["title"],
                category=Category(raw["category"]),
                harm=raw["harm"],
                severity=Severity(raw["severity"]),
                people_affected=raw.get("people_affected"),
                root_cause=raw.get("root_cause", ""),
                corrective_action=raw.get("corrective_action", ""),
                public_summary=raw.get("public_summary", ""),
                occurred_at=datetime.fromisoformat(str(occurred)) if occurred else None,
            ),
            case_id,
        )
        if raw.get("resolved"):
            self.incidents.resolve(actor, incident.id)

    def _published_system(self, name: str) -> AISystem:
        with self.uow_factory(readonly=True) as uow:
            flt = SystemFilter(publication_state=PublicationState.PUBLISHED)
            for listing in uow.systems.iter_listings(flt):
                if listing.system.details.name == name:
                    return listing.system
        raise Invalid(f"Demo case: no published system named {name!r}.")

    def _admin_of(self, org_id: int) -> Principal:
        members = self.accounts.members(SYSTEM_PRINCIPAL, org_id)
        admin = next((u for u, r in members if r is Role.ADMIN), None)
        if admin is None:
            raise Invalid(f"Demo organisation {org_id} has systems but no admin.")
        return self.accounts.principal_for_user(admin.id)

    def _signer(self, org_id: int, author: Principal) -> Principal:
        """A second approver for four-eyes sign-off; created for the demo if the data
        has none (and listed with the demo accounts)."""
        if org_id in self._signers:
            return self._signers[org_id]
        root = SYSTEM_PRINCIPAL
        members = self.accounts.members(root, org_id)
        other = next(
            (u for u, r in members if r in (Role.APPROVER, Role.ADMIN) and u.id != author.user_id),
            None,
        )
        if other is None:
            org = self.accounts.get_organisation(org_id)
            email, password = f"approver@{org.slug}.example", f"{org.slug}-approver-demo"
            user = self.accounts.create_user(root, email, password, "Demo approver")
            self.accounts.set_role(root, org_id, email, Role.APPROVER)
            self._report.users.append(DemoUser(email, password, [f"approver @ {org.slug}"]))
            other = user
        signer = self.accounts.principal_for_user(other.id)
        self._signers[org_id] = signer
        return signer

    def _assess(self, actor: Principal, system: AISystem, raw: dict[str, Any]) -> None:
        """Signed red-line screening and impact assessment, as the gate to deployment asks."""
        if self.assessments is None:
            return
        signer = self._signer(system.organisation_id, actor)
        d = system.details
        severity = _SEVERITY.get(raw.get("risk_level", "medium"), 2)
        answers: dict[str, dict[str, Any]] = {
            RED_LINE_SCREENING: {
                "use_description": d.purpose or d.name,
                "biometrics": "no",
                "practices": ["none"],
                "impossible_to_comply": "no",
                "undue_risk": "no",
                "state_measure": "none",
                "incompatible_use": "no",
                "reasoning": "No practice named in the instruments applies: "
                + (d.human_oversight or "a person reviews the outputs."),
            },
            HUDERA: {
                "occasion": "before_first_use",
                "purpose_and_use": d.purpose or d.name,
                "deployment_setting": d.deployment_context or "As registered.",
                "legal_framework": d.legal_basis or "As registered.",
                "affected_people": ", ".join(d.affected_groups) or "Members of the public.",
                "rights": [
                    {
                        "right": "equality_non_discrimination",
                        "gravity": severity,
                        "scope": 2,
                        "reversibility": 2,
                        "probability": severity,
                    },
                    {
                        "right": "privacy_personal_data",
                        "gravity": max(1, severity - 1),
                        "scope": 2,
                        "reversibility": 1,
                        "probability": 2,
                    },
                ],
                "affected_persons_heard": "partly",
                "no_consultation_reason": "Service users' panels were heard; other groups "
                "through complaints received and earlier consultations.",
                "mitigations": [
                    {
                        "measure": d.human_oversight or "Human review",
                        "owner": d.contact_point or "System owner",
                        "status": "done",
                    }
                ],
                "monitoring": d.risks_and_safeguards or "Quarterly review of outcomes.",
                "residual_risk": "medium" if severity >= 3 else "low",
                "residual_risk_reasons": "Safeguards listed in the mitigation table.",
                "conclusion": "The system may be deployed with the safeguards listed.",
                "review_date": "2027-06-30",
            },
        }
        hudera = answers[HUDERA]
        if d.decision_role.value == "fully_automated":
            hudera["automated_decision_safeguards"] = d.contest_information or "Human review."
        if d.sector.value in ("elections_democracy", "justice", "media_information"):
            hudera["democratic_processes_context"] = d.effect_on_people or d.purpose
        if d.affects_children:
            hudera["children_needs"] = "Child-rights impact considered; guardians informed."
        if d.affects_persons_with_disabilities:
            hudera["disability_needs"] = "Accessible formats and reasonable adjustments offered."
        for urn in (RED_LINE_SCREENING, HUDERA):
            a = self.assessments.start(actor, system.id, urn)
            self.assessments.save_answers(actor, a.id, answers[urn])
            self.assessments.submit(actor, a.id)
            self.assessments.sign(signer, a.id)

    def _red_line_ban(self, actor: Principal, system: AISystem, practice: str) -> None:
        if self.assessments is None:
            return
        signer = self._signer(system.organisation_id, actor)
        a = self.assessments.start(actor, system.id, RED_LINE_SCREENING)
        self.assessments.save_answers(
            actor,
            a.id,
            {
                "use_description": system.details.purpose or system.details.name,
                "biometrics": "yes",
                "biometrics_details": "Live face matching of people taking part in demonstrations.",
                "practices": [practice],
                "impossible_to_comply": "yes",
                "undue_risk": "yes",
                "state_measure": "none",
                "incompatible_use": "yes",
                "reasoning": "Identifying participants in political demonstrations is AI-enabled "
                "surveillance in unwarranted political surveillance (ipu-149:op18).",
                "decision_context": "Proposal by the public-order unit; not to be developed.",
            },
        )
        self.assessments.submit(actor, a.id)
        view = self.assessments.get(signer, a.id)
        for hit in view.red_lines:
            self.assessments.decide_red_line(
                signer,
                a.id,
                hit.rule.id,
                RedLineDecisionKind.BAN,
                "Incompatible with the freedoms of assembly and expression and with privacy; "
                "the proposal is not to be developed or deployed.",
                review_date=date(2027, 12, 31),
            )
        self.assessments.sign(signer, a.id)

    def _draft_assessment(self, actor: Principal, system: AISystem) -> None:
        if self.assessments is None:
            return
        a = self.assessments.start(actor, system.id, HUDERA)
        self.assessments.save_answers(
            actor,
            a.id,
            {
                "occasion": "before_development",
                "purpose_and_use": system.details.purpose or system.details.name,
                "affected_people": "Children and families referred to child-welfare services.",
            },
        )

    def _load_system(self, actor: Principal, org_id: int, raw: dict[str, Any]) -> None:
        details = SystemDetails.from_snapshot(raw["details"])
        path = [LifecycleStage(s) for s in raw["path"]]
        system = self.register.create(actor, org_id, details, path[0], "Registered from demo data")
        assessed = False
        for stage in path[1:]:
            if stage in LIVE_STAGES and not assessed:
                self._assess(actor, system, raw)
                assessed = True
            system = self.register.transition(actor, system.id, stage, f"Moved to {stage.label}")
        if raw.get("red_line_ban"):
            self._red_line_ban(actor, system, raw["red_line_ban"])
        if raw.get("draft_assessment"):
            self._draft_assessment(actor, system)
        for edit in raw.get("edits", []):
            snapshot = {**system.details.snapshot(), **edit["changes"]}
            system = self.register.update(
                actor,
                system.id,
                SystemDetails.from_snapshot(snapshot),
                significant_reason=edit.get("significant_reason", ""),
                note=edit.get("note", ""),
            )
        level = RiskLevel(raw.get("risk_level", "unassessed"))
        if level is not RiskLevel.UNASSESSED:
            self.register.classify_risk(actor, system.id, level, "Preliminary classification")
        state = PublicationState(raw.get("publication", "draft"))
        if state is not PublicationState.DRAFT:
            self.register.set_publication(actor, system.id, PublicationState.PUBLISHED)
        if state is PublicationState.ARCHIVED:
            self.register.set_publication(actor, system.id, PublicationState.ARCHIVED)

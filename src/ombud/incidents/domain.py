"""Confirmed incidents: what harm an AI system did or nearly did, and what was done.

unga-78-265:op6.c asks for feedback mechanisms so that users and third parties
can uncover and report misuse, vulnerabilities and incidents; coe-fc:16.2.e
asks for monitoring for risks and adverse impacts and coe-fc:16.2.f for the
documentation of actual and potential impacts; ipa-cis-2024 is about terrorist
use of AI. An incident here is a confirmed one: a handler records it (from a case
or directly), with harm, severity, people affected, root cause and corrective
action. Recording one makes the system's signed assessments stale (they were
signed without knowing it).

Exchange formats: the AI Incident Database's incident fields
(https://incidentdatabase.ai, ``incident_id``, ``date``, ``title``,
``description``, ``Alleged deployer of AI system`` ...) and AVID-style reports
(https://avidml.org, ``data_type: AVID``, ``affects``, ``problemtype``,
``impact.avid``) for vulnerabilities, both as JSON.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from ombud.remedies.domain import CATEGORY_LABELS, Category

TITLE_MAX = 200
TEXT_MAX = 10_000
PEOPLE_MAX = 1_000_000_000
AVID_TAXONOMY_VERSION = "0.2"
AVID_DATA_VERSION = "0.2"


class Severity(enum.StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    SERIOUS = "serious"
    CRITICAL = "critical"

    @property
    def serious(self) -> bool:
        """Serious and critical incidents appear, anonymised, on the public register."""
        return self in (Severity.SERIOUS, Severity.CRITICAL)


class IncidentStatus(enum.StrEnum):
    OPEN = "open"  # harm known, corrective action not yet complete
    RESOLVED = "resolved"  # root cause found and corrective action taken


@dataclass(frozen=True)
class IncidentDraft:
    """What a handler records; validated by ``problems``."""

    title: str
    category: Category
    harm: str
    severity: Severity
    people_affected: int | None = None
    root_cause: str = ""
    corrective_action: str = ""
    public_summary: str = ""  # the anonymised text shown publicly for serious incidents
    occurred_at: datetime | None = None

    def problems(self, now: datetime) -> dict[str, str]:
        found: dict[str, str] = {}
        if not self.title.strip():
            found["title"] = "Give the incident a short title."
        elif len(self.title) > TITLE_MAX:
            found["title"] = f"At most {TITLE_MAX} characters."
        if not self.harm.strip():
            found["harm"] = "Describe the harm done or nearly done, and to whom (not by name)."
        for name in ("harm", "root_cause", "corrective_action", "public_summary"):
            if len(getattr(self, name)) > TEXT_MAX:
                found[name] = f"At most {TEXT_MAX} characters."
        if self.people_affected is not None and not 0 <= self.people_affected <= PEOPLE_MAX:
            found["people_affected"] = "A number of people from 0 upwards, or empty if unknown."
        if self.occurred_at is not None and self.occurred_at > now:
            found["occurred_at"] = "The date the incident occurred cannot be in the future."
        if self.severity.serious and not self.public_summary.strip():
            found["public_summary"] = (
                "A serious incident is shown on the public register: write a summary "
                "without names or other personal data."
            )
        leaked = personal_data_in(self.public_summary)
        if leaked and "public_summary" not in found:
            found["public_summary"] = (
                f"The public summary seems to contain personal data ({leaked}); remove it."
            )
        return found


@dataclass
class Incident:
    id: int
    system_id: int
    organisation_id: int
    case_id: int | None
    title: str
    category: Category
    harm: str
    severity: Severity
    people_affected: int | None
    root_cause: str
    corrective_action: str
    public_summary: str
    occurred_at: datetime | None
    recorded_at: datetime
    recorded_by: str
    status: IncidentStatus = IncidentStatus.OPEN
    resolved_at: datetime | None = None
    external: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_draft(
        cls,
        draft: IncidentDraft,
        system_id: int,
        organisation_id: int,
        recorded_by: str,
        now: datetime,
        case_id: int | None = None,
        external: Mapping[str, Any] | None = None,
    ) -> Incident:
        return cls(
            id=0,
            system_id=system_id,
            organisation_id=organisation_id,
            case_id=case_id,
            title=draft.title.strip(),
            category=draft.category,
            harm=draft.harm.strip(),
            severity=draft.severity,
            people_affected=draft.people_affected,
            root_cause=draft.root_cause.strip(),
            corrective_action=draft.corrective_action.strip(),
            public_summary=draft.public_summary.strip(),
            occurred_at=draft.occurred_at,
            recorded_at=now,
            recorded_by=recorded_by,
            external=dict(external or {}),
        )

    def draft(self) -> IncidentDraft:
        return IncidentDraft(
            title=self.title,
            category=self.category,
            harm=self.harm,
            severity=self.severity,
            people_affected=self.people_affected,
            root_cause=self.root_cause,
            corrective_action=self.corrective_action,
            public_summary=self.public_summary,
            occurred_at=self.occurred_at,
        )

    def updated(self, draft: IncidentDraft) -> Incident:
        return replace(
            self,
            title=draft.title.strip(),
            category=draft.category,
            harm=draft.harm.strip(),
            severity=draft.severity,
            people_affected=draft.people_affected,
            root_cause=draft.root_cause.strip(),
            corrective_action=draft.corrective_action.strip(),
            public_summary=draft.public_summary.strip(),
            occurred_at=draft.occurred_at,
        )

    @property
    def unaddressed(self) -> bool:
        """Open with no corrective action recorded: the adverse impact is not yet addressed."""
        return self.status is IncidentStatus.OPEN and not self.corrective_action

    def resolution_problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        if not self.root_cause.strip():
            found["root_cause"] = "Record the root cause before resolving the incident."
        if not self.corrective_action.strip():
            found["corrective_action"] = "Record the corrective action taken before resolving."
        return found


# -- the public, anonymised view --------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)\+?\d[\d ().-]{7,}\d(?!\w)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b")


def personal_data_in(text: str) -> str:
    """Names the kind of personal data spotted in text meant for the public, or ''.

    A safety net, not an anonymiser: the handler writes the public summary; this
    catches e-mail addresses, telephone numbers and bank account numbers."""
    if _EMAIL.search(text):
        return "an e-mail address"
    if _IBAN.search(text):
        return "a bank account number"
    for candidate in _PHONE.findall(text):
        if sum(ch.isdigit() for ch in candidate) >= 9:  # dates and counts have fewer
            return "a telephone number"
    return ""


def people_band(count: int | None) -> str:
    """People affected, in bands on the public page (exact small counts can identify)."""
    if count is None:
        return "not known"
    if count == 0:
        return "none"
    for upper, label in ((10, "fewer than 10"), (100, "10 to 99"), (1000, "100 to 999")):
        if count < upper:
            return label
    return "1,000 or more"


def public_view(incident: Incident) -> dict[str, Any]:
    """What the public register shows of a serious incident: no case, no handler,
    no internal harm description or root cause; the month, not the day."""
    when = incident.occurred_at or incident.recorded_at
    return {
        "category": incident.category.value,
        "category_label": CATEGORY_LABELS[incident.category],
        "severity": incident.severity.value,
        "month": when.strftime("%Y-%m"),
        "people_affected": people_band(incident.people_affected),
        "status": incident.status.value,
        "summary": incident.public_summary,
        "corrective_action_taken": incident.status is IncidentStatus.RESOLVED,
    }


# -- exchange: the AI Incident Database ------------------------------------------

AIID_DEPLOYER = "Alleged deployer of AI system"
AIID_DEVELOPER = "Alleged developer of AI system"
AIID_HARMED = "Alleged harmed or nearly harmed parties"


def entity_id(name: str) -> str:
    """An AIID entity id: the name in lower case, words joined by hyphens."""
    return "-".join(re.findall(r"[^\W_]+", name.lower()))


@dataclass(frozen=True)
class SystemParties:
    """Who is who for an exchange record; taken from the register."""

    system_name: str
    deployer: str
    developer: str
    affected_groups: tuple[str, ...] = ()


def to_aiid(incident: Incident, parties: SystemParties) -> dict[str, Any]:
    """The incident in the AI Incident Database's incident fields."""
    when = (incident.occurred_at or incident.recorded_at).date()
    return {
        "incident_id": incident.external.get("aiid_incident_id"),
        "date": when.isoformat(),
        "title": incident.title,
        "description": incident.public_summary or incident.harm,
        AIID_DEPLOYER: [entity_id(parties.deployer)] if parties.deployer else [],
        AIID_DEVELOPER: [entity_id(parties.developer)] if parties.developer else [],
        AIID_HARMED: [entity_id(g) for g in parties.affected_groups if entity_id(g)],
        "implicated_systems": [entity_id(parties.system_name)],
        "reports": list(incident.external.get("aiid_reports", [])),
        "editor_notes": (
            f"Exported from ombud: incident {incident.id}, {incident.category.value}, "
            f"severity {incident.severity.value}, {incident.status.value}."
        ),
    }


class ExchangeError(ValueError):
    """An imported record is malformed; the message names the record and the field."""


def _text(record: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = record.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ExchangeError(f"{where}: '{key}' must be text.")
    if required and not value.strip():
        raise ExchangeError(f"{where}: '{key}' is missing.")
    return value.strip()


def _day(value: Any, where: str, key: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ExchangeError(f"{where}: '{key}' must be a date as YYYY-MM-DD.")
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise ExchangeError(f"{where}: '{key}' {value!r} is not a date as YYYY-MM-DD.") from None
    return datetime(day.year, day.month, day.day)


@dataclass(frozen=True)
class Imported:
    draft: IncidentDraft
    external: dict[str, Any]
    key: str  # what identifies it in its source, to skip duplicates


def from_aiid(
    record: Any, index: int, severity: Severity, category: Category = Category.OTHER
) -> Imported:
    """One AIID incident as an incident draft. AIID records carry no severity or
    category of ours: the importer gives them."""
    where = f"record {index + 1}"
    if not isinstance(record, Mapping):
        raise ExchangeError(f"{where}: expected an object with AIID incident fields.")
    incident_id = record.get("incident_id")
    if incident_id is not None and (
        isinstance(incident_id, bool) or not isinstance(incident_id, int)
    ):
        raise ExchangeError(f"{where}: 'incident_id' must be a whole number.")
    title = _text(record, "title", where)
    description = _text(record, "description", where)
    reports = record.get("reports", [])
    if not isinstance(reports, list) or not all(isinstance(r, int) for r in reports):
        raise ExchangeError(f"{where}: 'reports' must be a list of report numbers.")
    external: dict[str, Any] = {"source": "aiid", "aiid_reports": reports}
    if incident_id is not None:
        external["aiid_incident_id"] = incident_id
    draft = IncidentDraft(
        title=title[:TITLE_MAX],
        category=category,
        harm=description,
        severity=severity,
        public_summary=description if severity.serious else "",
        occurred_at=_day(record.get("date"), where, "date"),
    )
    key = f"aiid:{incident_id}" if incident_id is not None else f"aiid-title:{title.lower()}"
    return Imported(draft, external, key)


# -- exchange: AVID reports (vulnerabilities) -----------------------------------

# Categories as AVID's risk domains and its effect (SEP) view, where one fits.
AVID_VIEW: dict[Category, tuple[str, tuple[str, ...]]] = {
    Category.DISCRIMINATION: ("Ethics", ("E0100: Bias/ Discrimination",)),
    Category.PRIVACY: ("Performance", ("P0300: Privacy",)),
    Category.SAFETY: ("Performance", ("P0400: Safety",)),
    Category.DECISION_ERROR: ("Performance", ("P0204: Accuracy",)),
    Category.MANIPULATION: ("Ethics", ("E0400: Misinformation",)),
    Category.DEEPFAKE: ("Ethics", ("E0402: Generative Misinformation",)),
    Category.SECURITY: ("Security", ("S0100: Software Vulnerability",)),
    Category.MALICIOUS_USE: ("Security", ()),
    Category.OTHER: ("Performance", ()),
}
_AVID_DOMAINS = {"Security", "Ethics", "Performance"}
# SEP codes back to categories, the most specific first.
_AVID_PREFIXES = (
    ("E0402", Category.DEEPFAKE),
    ("P0204", Category.DECISION_ERROR),
    ("E01", Category.DISCRIMINATION),
    ("E04", Category.MANIPULATION),
    ("P03", Category.PRIVACY),
    ("P04", Category.SAFETY),
    ("S", Category.SECURITY),
)


def to_avid(incident: Incident, parties: SystemParties, reported: date) -> dict[str, Any]:
    """The incident as an AVID-style report (an 'Issue' affecting a system)."""
    domain, sep = AVID_VIEW[incident.category]
    return {
        "data_type": "AVID",
        "data_version": AVID_DATA_VERSION,
        "metadata": {"report_id": incident.external.get("avid_report_id", f"ombud-{incident.id}")},
        "affects": {
            "developer": [parties.developer] if parties.developer else [],
            "deployer": [parties.deployer] if parties.deployer else [],
            "artifacts": [{"type": "System", "name": parties.system_name}],
        },
        "problemtype": {
            "classof": "Undefined",
            "type": "Issue",
            "description": {"lang": "eng", "value": incident.title},
        },
        "metrics": [],
        "references": [],
        "description": {"lang": "eng", "value": incident.public_summary or incident.harm},
        "impact": {
            "avid": {
                "risk_domain": [domain],
                "sep_view": list(sep),
                "lifecycle_view": ["L06: Deployment"],
                "taxonomy_version": AVID_TAXONOMY_VERSION,
            }
        },
        "credit": [],
        "reported_date": reported.isoformat(),
    }


def _category_from_avid(impact: Any, where: str) -> Category:
    if impact in (None, {}):
        return Category.OTHER
    avid = impact.get("avid") if isinstance(impact, Mapping) else None
    if not isinstance(avid, Mapping):
        raise ExchangeError(f"{where}: 'impact.avid' must be an object.")
    sep = avid.get("sep_view") or []
    domains = avid.get("risk_domain") or []
    if not isinstance(sep, list) or not isinstance(domains, list):
        raise ExchangeError(f"{where}: 'impact.avid' views must be lists.")
    unknown = [d for d in domains if d not in _AVID_DOMAINS]
    if unknown:
        raise ExchangeError(f"{where}: unknown AVID risk domain {unknown[0]!r}.")
    codes = [str(s).split(":", 1)[0].strip() for s in sep]
    for prefix, category in _AVID_PREFIXES:
        if any(code.startswith(prefix) for code in codes):
            return category
    if "Security" in domains:
        return Category.SECURITY
    return Category.OTHER


def from_avid(record: Any, index: int, severity: Severity) -> Imported:
    """One AVID report as an incident draft; its category from the report's taxonomy."""
    where = f"report {index + 1}"
    if not isinstance(record, Mapping):
        raise ExchangeError(f"{where}: expected an AVID report object.")
    if record.get("data_type", "AVID") != "AVID":
        raise ExchangeError(f"{where}: 'data_type' must be 'AVID'.")
    problem = record.get("problemtype")
    if not isinstance(problem, Mapping):
        raise ExchangeError(f"{where}: 'problemtype' is missing.")
    title_value = problem.get("description")
    if not isinstance(title_value, Mapping):
        raise ExchangeError(f"{where}: 'problemtype.description' must be {{lang, value}}.")
    title = _text(title_value, "value", f"{where} problemtype.description")
    description = record.get("description")
    if not isinstance(description, Mapping):
        raise ExchangeError(f"{where}: 'description' must be {{lang, value}}.")
    text = _text(description, "value", f"{where} description")
    metadata = record.get("metadata") or {}
    report_id = metadata.get("report_id") if isinstance(metadata, Mapping) else None
    if report_id is not None and not isinstance(report_id, str):
        raise ExchangeError(f"{where}: 'metadata.report_id' must be text.")
    draft = IncidentDraft(
        title=title[:TITLE_MAX],
        category=_category_from_avid(record.get("impact"), where),
        harm=text,
        severity=severity,
        public_summary=text if severity.serious else "",
        occurred_at=_day(record.get("reported_date"), where, "reported_date"),
    )
    external: dict[str, Any] = {"source": "avid"}
    if report_id:
        external["avid_report_id"] = report_id
    key = f"avid:{report_id}" if report_id else f"avid-title:{title.lower()}"
    return Imported(draft, external, key)


def import_keys(incident: Incident) -> set[str]:
    """The keys under which an incident on record matches an imported one: its ids in
    AIID or AVID, the report id ombud gives it on export, and its title."""
    ext = incident.external
    keys = {
        f"avid:ombud-{incident.id}",
        f"aiid-title:{incident.title.lower()}",
        f"avid-title:{incident.title.lower()}",
    }
    if "aiid_incident_id" in ext:
        keys.add(f"aiid:{ext['aiid_incident_id']}")
    if "avid_report_id" in ext:
        keys.add(f"avid:{ext['avid_report_id']}")
    return keys


@dataclass(frozen=True)
class IncidentTally:
    """A system's incidents in numbers, for the compliance matrix."""

    recorded: int = 0
    open: int = 0
    serious_open: int = 0
    unaddressed: int = 0  # open with no corrective action recorded

    @classmethod
    def of(cls, incidents: list[Incident]) -> IncidentTally:
        open_ = [i for i in incidents if i.status is IncidentStatus.OPEN]
        return cls(
            recorded=len(incidents),
            open=len(open_),
            serious_open=sum(1 for i in open_ if i.severity.serious),
            unaddressed=sum(1 for i in open_ if i.unaddressed),
        )

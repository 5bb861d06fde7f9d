"""Requirements and the compliance matrix.

A requirement turns one or more provisions into something an organisation can
meet, and says what evidence satisfies it. Requirements are data, versioned
with the catalogue (resources/rules/requirements.yaml). This module evaluates
one requirement for one system from the facts ombud holds about it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ombud.compliance.applicability import Always, Condition, InstrumentApplicability
from ombud.incidents.domain import IncidentTally
from ombud.instruments.domain import Topic
from ombud.register.domain.systems import FIELD_LABELS


class EvidenceKind(enum.StrEnum):
    REGISTER_FIELD = "register_field"  # fields of the record filled in
    PUBLISHED = "published"  # the system is on the public register
    RISK_CLASSIFIED = "risk_classified"  # a risk level has been set
    ASSESSMENT_SIGNED = "assessment_signed"  # a signed assessment of a template
    BIAS_AUDIT = "bias_audit"  # a bias and discrimination audit
    COMPLAINTS_CHANNEL = "complaints_channel"  # a working complaints / human review channel
    INCIDENT_LOG = "incident_log"  # incidents are recorded
    RED_LINE_DECISION = "red_line_decision"  # a ban / moratorium decision


class Status(enum.StrEnum):
    MET = "met"
    PARTLY = "partly"
    NOT_MET = "not_met"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return {
            "met": "Met",
            "partly": "Partly met",
            "not_met": "Not met",
            "not_applicable": "Not applicable",
        }[self.value]


@dataclass(frozen=True)
class Evidence:
    kind: EvidenceKind
    fields: tuple[str, ...] = ()
    template: str = ""
    note: str = ""

    @cached_property
    def description(self) -> str:
        if self.kind is EvidenceKind.REGISTER_FIELD:
            return "Register fields filled in: " + ", ".join(
                FIELD_LABELS.get(f, f) for f in self.fields
            )
        return {
            EvidenceKind.PUBLISHED: "Published on the public register",
            EvidenceKind.RISK_CLASSIFIED: "Risk level set",
            EvidenceKind.ASSESSMENT_SIGNED: f"Signed assessment ({self.template or 'any'})",
            EvidenceKind.BIAS_AUDIT: "Bias and discrimination audit on record",
            EvidenceKind.COMPLAINTS_CHANNEL: "Complaints and human review channel",
            EvidenceKind.INCIDENT_LOG: "Incidents recorded",
            EvidenceKind.RED_LINE_DECISION: "Red-line decision recorded",
        }[self.kind]


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    statement: str
    provisions: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    topics: tuple[Topic, ...] = ()
    applies_when: Condition = field(default_factory=Always)
    applies_when_text: str = ""  # why it applies, in words (shown when it does not)

    @cached_property
    def instruments(self) -> tuple[str, ...]:
        """The instruments the cited provisions belong to, in citation order."""
        return tuple(dict.fromkeys(p.split(":", 1)[0] for p in self.provisions))


@dataclass(frozen=True)
class EvidenceResult:
    evidence: Evidence
    met: bool
    detail: str


@dataclass(frozen=True)
class RequirementResult:
    requirement: Requirement
    status: Status
    reason: str
    evidence: tuple[EvidenceResult, ...] = ()


# Facts about evidence held elsewhere in ombud (assessments, audits, complaints):
# each area puts a set of what exists under these keys; absent means none yet.
EVIDENCE_FACTS = {
    EvidenceKind.ASSESSMENT_SIGNED: "signed_assessments",
    EvidenceKind.BIAS_AUDIT: "bias_audits",
    EvidenceKind.COMPLAINTS_CHANNEL: "complaints_channel",
    EvidenceKind.INCIDENT_LOG: "incident_log",
    EvidenceKind.RED_LINE_DECISION: "red_line_decisions",
}
INCIDENT_FACTS = EVIDENCE_FACTS[EvidenceKind.INCIDENT_LOG]  # holds an IncidentTally


def _filled(value: Any) -> bool:
    return bool(value.strip()) if isinstance(value, str) else bool(value)


def check_evidence(ev: Evidence, facts: Mapping[str, Any]) -> EvidenceResult:
    if ev.kind is EvidenceKind.REGISTER_FIELD:
        missing = [f for f in ev.fields if not _filled(facts.get(f))]
        if missing:
            names = ", ".join(FIELD_LABELS.get(f, f) for f in missing)
            return EvidenceResult(ev, False, f"Not filled in: {names}.")
        return EvidenceResult(ev, True, "Filled in.")
    if ev.kind is EvidenceKind.PUBLISHED:
        published = facts.get("publication_state") == "published"
        return EvidenceResult(
            ev, published, "Published." if published else "Not on the public register."
        )
    if ev.kind is EvidenceKind.RISK_CLASSIFIED:
        level = facts.get("risk_level", "unassessed")
        ok = level != "unassessed"
        return EvidenceResult(ev, ok, f"Risk level: {level}." if ok else "No risk level set.")
    if ev.kind is EvidenceKind.COMPLAINTS_CHANNEL:
        return _complaints_channel(ev, facts)
    if ev.kind is EvidenceKind.INCIDENT_LOG:
        return _incident_log(ev, facts)
    held = facts.get(EVIDENCE_FACTS[ev.kind]) or ()
    wanted = ev.template or "*"
    ok = bool(held) and (wanted == "*" or wanted in held)
    if ok:
        return EvidenceResult(ev, True, "On record.")
    return EvidenceResult(ev, False, f"None on record in ombud: {ev.description.lower()}.")


def _complaints_channel(ev: Evidence, facts: Mapping[str, Any]) -> EvidenceResult:
    """ombud's public intake takes reports, complaints and human review requests for
    every published system (coe-fc:14.2.c, unga-78-265:op6.c/k)."""
    if facts.get("publication_state") == "published":
        return EvidenceResult(
            ev, True, "Open: reports, complaints and human review requests via the public register."
        )
    return EvidenceResult(
        ev, False, "Not published, so people cannot reach the complaints and review channel."
    )


def _incident_log(ev: Evidence, facts: Mapping[str, Any]) -> EvidenceResult:
    """The incident log is kept: reports can arrive (the system is published) or incidents
    are on record, and no open incident lacks a corrective action."""
    tally = facts.get(INCIDENT_FACTS)
    tally = tally if isinstance(tally, IncidentTally) else IncidentTally()
    if tally.unaddressed:
        return EvidenceResult(
            ev,
            False,
            f"{tally.unaddressed} open incident(s) with no corrective action recorded.",
        )
    if tally.recorded:
        return EvidenceResult(
            ev, True, f"{tally.recorded} incident(s) recorded, {tally.open} open, each addressed."
        )
    if facts.get("publication_state") == "published":
        return EvidenceResult(ev, True, "Kept: incident reports arrive via the public register.")
    return EvidenceResult(
        ev, False, "No incident on record and not published, so no reports can arrive."
    )


def evaluate(
    requirement: Requirement,
    facts: Mapping[str, Any],
    applicability: Mapping[str, InstrumentApplicability],
    checked: dict[Evidence, EvidenceResult] | None = None,
) -> RequirementResult:
    """Met / partly / not met from the evidence, or not applicable with the reason.

    ``checked`` memoises evidence already checked for the same facts: requirements
    share evidence (a signed impact assessment serves several), so a matrix checks
    each piece once per system.
    """
    if not any(applicability[i].applies for i in requirement.instruments):
        reasons = " ".join(applicability[i].explanation for i in requirement.instruments)
        return RequirementResult(requirement, Status.NOT_APPLICABLE, reasons)
    if not requirement.applies_when.holds(facts):
        why = requirement.applies_when_text or requirement.applies_when.describe()
        return RequirementResult(
            requirement, Status.NOT_APPLICABLE, f"Applies only when {why}; not the case here."
        )
    memo = checked if checked is not None else {}
    results = []
    for ev in requirement.evidence:
        result = memo.get(ev)
        if result is None:
            result = memo[ev] = check_evidence(ev, facts)
        results.append(result)
    met = sum(r.met for r in results)
    if met == len(results):
        status = Status.MET
    elif met:
        status = Status.PARTLY
    else:
        status = Status.NOT_MET
    reason = " ".join(r.detail for r in results if not r.met) or "All evidence on record."
    return RequirementResult(requirement, status, reason, tuple(results))


def summarise(results: Sequence[RequirementResult]) -> dict[Status, int]:
    counts = dict.fromkeys(Status, 0)
    for r in results:
        counts[r.status] += 1
    return counts


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, set | frozenset):
        return frozenset(value)
    return value


class MatrixPlan:
    """What a matrix reads of a system's facts, so systems alike are evaluated once.

    Two systems whose facts agree on every field a rule or condition reads, on
    whether each field named as evidence is filled in, and on the evidence held
    elsewhere, get the same results: a matrix over thousands of similar systems
    evaluates each distinct profile once (bench/compliance.py).
    """

    def __init__(self, conditions: Sequence[Condition], requirements: Sequence[Requirement]):
        reads: set[tuple[str, bool]] = {("publication_state", True), ("risk_level", True)}
        for c in [*conditions, *(r.applies_when for r in requirements)]:
            reads |= c.reads
        values = {f for f, by_value in reads if by_value}
        filled = {f for f, by_value in reads if not by_value}
        filled |= {f for r in requirements for e in r.evidence for f in e.fields}
        self.values = tuple(sorted(values))
        self.filled = tuple(sorted(filled - values))
        self.held = tuple(sorted(EVIDENCE_FACTS.values()))

    def signature(self, facts: Mapping[str, Any]) -> tuple[Any, ...]:
        return (
            tuple(_frozen(facts.get(f)) for f in self.values),
            tuple(_filled(facts.get(f)) for f in self.filled),
            tuple(_frozen(facts.get(f)) for f in self.held),
        )

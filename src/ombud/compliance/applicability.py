"""Applicability: which instruments and requirements apply to one AI system, and why.

Rules are declarative data (resources/rules/applicability.yaml), not if-chains
in code: each names the instrument, a condition on the system's record and its
organisation, an outcome, the provision it rests on and the explanation shown
to the user. This module only evaluates them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ombud.accounts.domain import Organisation
from ombud.register.domain.systems import AISystem


class Outcome(enum.StrEnum):
    """What a rule says about an instrument, strongest last."""

    APPLIES = "applies"
    APPLIES_AS_PARTY_CHOOSES = "applies_as_party_chooses"  # coe-fc:3.1.b private actors
    PARTY_MAY_EXEMPT = "party_may_exempt"  # coe-fc:3.2 national security
    OUT_OF_SCOPE = "out_of_scope"

    @property
    def in_scope(self) -> bool:
        return self is not Outcome.OUT_OF_SCOPE

    @property
    def label(self) -> str:
        return {
            "applies": "Applies",
            "applies_as_party_chooses": "Applies as the Party chooses",
            "party_may_exempt": "A Party may exempt",
            "out_of_scope": "Out of scope",
        }[self.value]


_STRENGTH = {o: i for i, o in enumerate(Outcome)}


# -- conditions ---------------------------------------------------------------


class Op(enum.StrEnum):
    EQUALS = "equals"
    IN = "in"
    FILLED = "filled"  # non-empty text or list, or True
    CONTAINS = "contains"  # a multi-choice answer includes the value
    AT_LEAST = "at_least"  # a number or scale answer reaches the value


@dataclass(frozen=True)
class FieldTest:
    field: str
    op: Op
    value: Any = None

    def holds(self, facts: Mapping[str, Any]) -> bool:
        actual = facts.get(self.field)
        if self.op is Op.EQUALS:
            return bool(actual == self.value)
        if self.op is Op.IN:
            return actual in self.value
        if self.op is Op.CONTAINS:
            return isinstance(actual, list | tuple) and self.value in actual
        if self.op is Op.AT_LEAST:
            number = isinstance(actual, int | float) and not isinstance(actual, bool)
            return number and actual >= self.value
        filled = bool(actual.strip()) if isinstance(actual, str) else bool(actual)
        return filled == bool(self.value)

    @property
    def reads(self) -> frozenset[tuple[str, bool]]:
        """(field, whether its value matters or only whether it is filled in)."""
        return frozenset({(self.field, self.op is not Op.FILLED)})

    def describe(self) -> str:
        if self.op is Op.FILLED:
            return f"{self.field} is {'filled in' if self.value else 'empty'}"
        if self.op is Op.IN:
            return f"{self.field} is one of {', '.join(map(str, self.value))}"
        if self.op is Op.CONTAINS:
            return f"{self.field} includes {self.value}"
        if self.op is Op.AT_LEAST:
            return f"{self.field} is at least {self.value}"
        return f"{self.field} is {self.value}"


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return all(c.holds(facts) for c in self.conditions)

    @property
    def reads(self) -> frozenset[tuple[str, bool]]:
        return frozenset().union(*(c.reads for c in self.conditions))

    def describe(self) -> str:
        return " and ".join(c.describe() for c in self.conditions)


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return any(c.holds(facts) for c in self.conditions)

    @property
    def reads(self) -> frozenset[tuple[str, bool]]:
        return frozenset().union(*(c.reads for c in self.conditions))

    def describe(self) -> str:
        return "(" + " or ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True)
class Not:
    condition: Condition

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return not self.condition.holds(facts)

    @property
    def reads(self) -> frozenset[tuple[str, bool]]:
        return self.condition.reads

    def describe(self) -> str:
        return f"not ({self.condition.describe()})"


@dataclass(frozen=True)
class Always:
    def holds(self, facts: Mapping[str, Any]) -> bool:
        return True

    @property
    def reads(self) -> frozenset[tuple[str, bool]]:
        return frozenset()

    def describe(self) -> str:
        return "always"


Condition = FieldTest | AllOf | AnyOf | Not | Always

# Facts a condition may read besides the record's own fields.
EXTRA_FACTS = (
    "organisation_kind",
    "lifecycle_stage",
    "publication_state",
    "risk_level",
    "weapons_review_required",
)


def facts_of(system: AISystem, organisation: Organisation) -> dict[str, Any]:
    """The record and its organisation as plain values that conditions test."""
    facts: dict[str, Any] = dict(system.details.snapshot())
    facts.update(
        organisation_kind=organisation.kind.value,
        lifecycle_stage=system.lifecycle_stage.value,
        publication_state=system.publication_state.value,
        risk_level=system.risk_level.value,
        weapons_review_required=system.details.weapons_review_required,
    )
    return facts


# -- rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicabilityRule:
    id: str
    instrument: str
    when: Condition
    outcome: Outcome
    provision: str
    explanation: str


@dataclass(frozen=True)
class InstrumentApplicability:
    instrument: str
    outcome: Outcome | None  # None: no rule brought the system under the instrument
    reasons: tuple[ApplicabilityRule, ...]

    @property
    def applies(self) -> bool:
        return self.outcome is not None and self.outcome.in_scope

    @cached_property
    def explanation(self) -> str:
        if not self.reasons:
            return "No rule brings this system under the instrument."
        return " ".join(r.explanation for r in self.reasons)


def decide(
    instrument_ids: Sequence[str], rules: Sequence[ApplicabilityRule], facts: Mapping[str, Any]
) -> dict[str, InstrumentApplicability]:
    """For each instrument, the strongest outcome among the rules that fire, with all reasons.

    Out of scope beats every other outcome: an exclusion (coe-fc:3.4) is not undone
    by the rule that would otherwise apply the convention.
    """
    out = {}
    for iid in instrument_ids:
        fired = tuple(r for r in rules if r.instrument == iid and r.when.holds(facts))
        outcome = max((r.outcome for r in fired), key=_STRENGTH.__getitem__, default=None)
        reasons = tuple(r for r in fired if r.outcome is outcome) if outcome else ()
        out[iid] = InstrumentApplicability(iid, outcome, reasons)
    return out

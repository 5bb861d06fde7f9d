"""Loads applicability rules and requirements (resources/rules/*.yaml) with their schema.

Conditions are written as data:

    when:
      all:
        - {field: military_use, equals: true}
        - {field: organisation_kind, in: [public_authority, private_on_behalf_of_public]}
        - {field: contest_information, filled: false}
        - not: {field: scope_exemption, equals: none}
        - any: [...]
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ombud.compliance.applicability import (
    EXTRA_FACTS,
    AllOf,
    Always,
    AnyOf,
    ApplicabilityRule,
    Condition,
    FieldTest,
    Not,
    Op,
    Outcome,
)
from ombud.compliance.domain import Evidence, EvidenceKind, Requirement
from ombud.instruments.domain import Catalogue, Topic
from ombud.kernel.errors import FieldProblem
from ombud.kernel.yaml_schema import SchemaError, validate
from ombud.register.domain.systems import DETAIL_FIELDS

KNOWN_FACTS = frozenset(DETAIL_FIELDS) | frozenset(EXTRA_FACTS)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ConditionModel(_Strict):
    field: str | None = None
    equals: Any = None
    in_: list[Any] | None = Field(None, alias="in")
    filled: bool | None = None
    contains: Any = None
    at_least: float | None = None
    all: list[ConditionModel] | None = None
    any: list[ConditionModel] | None = None
    not_: ConditionModel | None = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        combinators = [x for x in (self.all, self.any, self.not_) if x is not None]
        if self.field is not None:
            if combinators:
                raise ValueError("a condition is either a field test or all/any/not, not both")
            # Dotted fields (answers.x, system.y) belong to templates, checked there.
            if "." not in self.field and self.field not in KNOWN_FACTS:
                raise ValueError(f"unknown field {self.field!r}")
            tests = [
                self.equals is not None,
                self.in_ is not None,
                self.filled is not None,
                self.contains is not None,
                self.at_least is not None,
            ]
            if sum(tests) != 1:
                raise ValueError(
                    "a field test needs exactly one of equals, in, filled, contains, at_least"
                )
        elif len(combinators) != 1:
            raise ValueError("give a field test, or exactly one of all, any, not")
        return self

    def fields(self) -> set[str]:
        """Every field the condition reads."""
        own = {self.field} if self.field is not None else set()
        nested = [*(self.all or []), *(self.any or []), *([self.not_] if self.not_ else [])]
        return own.union(*(c.fields() for c in nested))

    def to_domain(self) -> Condition:
        if self.field is not None:
            if self.equals is not None:
                return FieldTest(self.field, Op.EQUALS, self.equals)
            if self.in_ is not None:
                return FieldTest(self.field, Op.IN, tuple(self.in_))
            if self.contains is not None:
                return FieldTest(self.field, Op.CONTAINS, self.contains)
            if self.at_least is not None:
                return FieldTest(self.field, Op.AT_LEAST, self.at_least)
            return FieldTest(self.field, Op.FILLED, self.filled)
        if self.all is not None:
            return AllOf(tuple(c.to_domain() for c in self.all))
        if self.any is not None:
            return AnyOf(tuple(c.to_domain() for c in self.any))
        assert self.not_ is not None
        return Not(self.not_.to_domain())


class RuleModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    instrument: str
    when: ConditionModel | None = None
    outcome: Outcome
    provision: str
    explanation: str = Field(min_length=1)


class RulesFile(_Strict):
    version: str
    rules: list[RuleModel] = Field(min_length=1)


class EvidenceModel(_Strict):
    kind: EvidenceKind
    fields: list[str] = []
    template: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _fields(self) -> Self:
        if self.kind is EvidenceKind.REGISTER_FIELD and not self.fields:
            raise ValueError("register_field evidence names the fields")
        unknown = [f for f in self.fields if f not in KNOWN_FACTS]
        if unknown:
            raise ValueError(f"unknown register fields: {', '.join(unknown)}")
        return self


class RequirementModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    title: str = Field(min_length=1)
    statement: str = Field(min_length=1)
    provisions: list[str] = Field(min_length=1)
    topics: list[Topic] = []
    applies_when: ConditionModel | None = None
    applies_when_text: str = ""
    evidence: list[EvidenceModel] = Field(min_length=1)


class RequirementsFile(_Strict):
    version: str
    requirements: list[RequirementModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [r.id for r in self.requirements]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"requirement ids appear twice: {', '.join(dupes)}")
        return self


def rules_dir() -> Path:
    return Path(str(resources.files("ombud.resources").joinpath("rules")))


def _unknown_provisions(name: str, catalogue: Catalogue, cited: list[tuple[str, str]]) -> None:
    bad = [(owner, pid) for owner, pid in cited if catalogue.provision(pid) is None]
    if bad:
        raise SchemaError(
            f"{name}: {bad[0][0]} cites {bad[0][1]}, which is not in the catalogue"
            + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""),
            [
                FieldProblem(("file", name, "line", 0, owner), f"cites unknown {pid}")
                for owner, pid in bad
            ],
        )


def load_rules(catalogue: Catalogue, path: Path | None = None) -> tuple[ApplicabilityRule, ...]:
    path = path or rules_dir() / "applicability.yaml"
    data = validate(RulesFile, path)
    instruments = {i.id for i in catalogue.instruments}
    bad = [r.id for r in data.rules if r.instrument not in instruments]
    if bad:
        raise SchemaError(f"{path.name}: rule {bad[0]} names an unknown instrument")
    _unknown_provisions(path.name, catalogue, [(r.id, r.provision) for r in data.rules])
    return tuple(
        ApplicabilityRule(
            id=r.id,
            instrument=r.instrument,
            when=r.when.to_domain() if r.when else Always(),
            outcome=r.outcome,
            provision=r.provision,
            explanation=r.explanation,
        )
        for r in data.rules
    )


def load_requirements(catalogue: Catalogue, path: Path | None = None) -> tuple[Requirement, ...]:
    path = path or rules_dir() / "requirements.yaml"
    data = validate(RequirementsFile, path)
    _unknown_provisions(
        path.name, catalogue, [(r.id, p) for r in data.requirements for p in r.provisions]
    )
    return tuple(
        Requirement(
            id=r.id,
            title=r.title,
            statement=r.statement,
            provisions=tuple(r.provisions),
            evidence=tuple(
                Evidence(e.kind, tuple(e.fields), e.template, e.note) for e in r.evidence
            ),
            topics=tuple(r.topics),
            applies_when=r.applies_when.to_domain() if r.applies_when else Always(),
            applies_when_text=r.applies_when_text,
        )
        for r in data.requirements
    )

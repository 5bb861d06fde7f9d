"""The AI-system record: what an organisation registers about one AI system.

coe-fc:2 defines the object of the register: "a machine-based system that for
explicit or implicit objectives, infers, from the input it receives, how to
generate outputs such as predictions, content, recommendations, or decisions
that may influence physical or virtual environments".

The fields follow what the instruments ask to be known and told:
coe-fc:3 (scope and exemptions), coe-fc:8 (transparency and oversight),
coe-fc:14.2.a/b (documentation, information to contest), coe-fc:15.2 (notice
of interaction), coe-fc:18 (children, persons with disabilities),
ipu-149:op22 (disclosure of data usage and decision-making processes),
ipu-148 (autonomy in critical functions of weapons).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from ombud.register.domain.lifecycle import LifecycleStage

NAME_MAX = 200
SHORT_TEXT_MAX = 500
LONG_TEXT_MAX = 10_000
LIST_MAX = 50


class Sector(enum.StrEnum):
    PUBLIC_ADMINISTRATION = "public_administration"
    SOCIAL_SECURITY = "social_security"
    LAW_ENFORCEMENT = "law_enforcement"
    JUSTICE = "justice"
    MIGRATION = "migration"
    EMPLOYMENT = "employment"
    EDUCATION = "education"
    HEALTH = "health"
    FINANCE = "finance"
    TAXATION = "taxation"
    TRANSPORT = "transport"
    ENERGY = "energy"
    MEDIA_INFORMATION = "media_information"
    ELECTIONS_DEMOCRACY = "elections_democracy"
    DEFENCE = "defence"
    OTHER = "other"


class DecisionRole(enum.StrEnum):
    """The system's part in decisions about people (coe-fc:14.2.b, unga-78-265:op6.k)."""

    FULLY_AUTOMATED = "fully_automated"
    HUMAN_DECIDES_WITH_AI_SUPPORT = "human_decides_with_ai_support"
    INFORMATIONAL = "informational"


class Sourcing(enum.StrEnum):
    BUILT_IN_HOUSE = "built_in_house"
    PROCURED = "procured"
    CO_DEVELOPED = "co_developed"


class ScopeExemption(enum.StrEnum):
    """Exemption from coe-fc claimed for the system, if any (coe-fc:3.2, 3.3, 3.4)."""

    NONE = "none"
    NATIONAL_SECURITY = "national_security"  # coe-fc:3.2
    RESEARCH_AND_DEVELOPMENT = "research_and_development"  # coe-fc:3.3
    NATIONAL_DEFENCE = "national_defence"  # coe-fc:3.4


class RiskLevel(enum.StrEnum):
    """Risk level; set from signed assessments once they exist."""

    UNASSESSED = "unassessed"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNACCEPTABLE = "unacceptable"


class PublicationState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class DataRole(enum.StrEnum):
    TRAINING = "training"
    VALIDATION = "validation"
    INPUT = "input"
    REFERENCE = "reference"


@dataclass(frozen=True)
class DataSource:
    """One source of data the system is trained on or uses (ipu-149:op22)."""

    name: str
    role: DataRole
    provenance: str = ""
    personal_data: bool = False
    special_categories: bool = False
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role.value,
            "provenance": self.provenance,
            "personal_data": self.personal_data,
            "special_categories": self.special_categories,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DataSource:
        return cls(
            name=str(raw["name"]),
            role=DataRole(raw["role"]),
            provenance=str(raw.get("provenance", "")),
            personal_data=bool(raw.get("personal_data", False)),
            special_categories=bool(raw.get("special_categories", False)),
            description=str(raw.get("description", "")),
        )


@dataclass
class SystemDetails:
    """The editable part of an AI-system record; everything an editor fills in."""

    name: str
    purpose: str = ""
    intended_use: str = ""
    deployment_context: str = ""
    sector: Sector = Sector.OTHER
    legal_basis: str = ""
    decisions: str = ""
    decision_role: DecisionRole = DecisionRole.INFORMATIONAL
    effect_on_people: str = ""
    human_oversight: str = ""
    affected_groups: list[str] = field(default_factory=list)
    affects_children: bool = False  # coe-fc:18
    affects_persons_with_disabilities: bool = False  # coe-fc:18
    data_sources: list[DataSource] = field(default_factory=list)
    model_technique: str = ""
    provider: str = ""
    vendor: str = ""
    sourcing: Sourcing = Sourcing.BUILT_IN_HOUSE
    scope_exemption: ScopeExemption = ScopeExemption.NONE  # coe-fc:3.2-3.4
    scope_justification: str = ""
    military_use: bool = False
    autonomy_in_critical_functions: bool = False  # ipu-148: select/engage targets
    risks_and_safeguards: str = ""
    contact_point: str = ""
    contest_information: str = ""  # coe-fc:14.2.b
    interaction_notice: str = ""  # coe-fc:15.2

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready, order-stable picture of the details (for revisions and the ledger)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, enum.Enum):
                value = value.value
            elif f.name == "data_sources":
                value = [d.to_dict() for d in value]
            elif isinstance(value, list):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_snapshot(cls, raw: dict[str, Any]) -> SystemDetails:
        return cls(
            name=raw["name"],
            purpose=raw.get("purpose", ""),
            intended_use=raw.get("intended_use", ""),
            deployment_context=raw.get("deployment_context", ""),
            sector=Sector(raw.get("sector", Sector.OTHER.value)),
            legal_basis=raw.get("legal_basis", ""),
            decisions=raw.get("decisions", ""),
            decision_role=DecisionRole(raw.get("decision_role", DecisionRole.INFORMATIONAL)),
            effect_on_people=raw.get("effect_on_people", ""),
            human_oversight=raw.get("human_oversight", ""),
            affected_groups=list(raw.get("affected_groups", [])),
            affects_children=bool(raw.get("affects_children", False)),
            affects_persons_with_disabilities=bool(
                raw.get("affects_persons_with_disabilities", False)
            ),
            data_sources=[DataSource.from_dict(d) for d in raw.get("data_sources", [])],
            model_technique=raw.get("model_technique", ""),
            provider=raw.get("provider", ""),
            vendor=raw.get("vendor", ""),
            sourcing=Sourcing(raw.get("sourcing", Sourcing.BUILT_IN_HOUSE)),
            scope_exemption=ScopeExemption(raw.get("scope_exemption", ScopeExemption.NONE)),
            scope_justification=raw.get("scope_justification", ""),
            military_use=bool(raw.get("military_use", False)),
            autonomy_in_critical_functions=bool(raw.get("autonomy_in_critical_functions", False)),
            risks_and_safeguards=raw.get("risks_and_safeguards", ""),
            contact_point=raw.get("contact_point", ""),
            contest_information=raw.get("contest_information", ""),
            interaction_notice=raw.get("interaction_notice", ""),
        )

    @property
    def weapons_review_required(self) -> bool:
        """ipu-148: military systems with autonomy in critical functions get their own review."""
        return self.military_use and self.autonomy_in_critical_functions


DETAIL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(SystemDetails))

# Short texts (one line) and long texts (paragraphs), for validation limits.
SHORT_TEXT_FIELDS = frozenset({"provider", "vendor", "contact_point", "model_technique"})
LONG_TEXT_FIELDS = frozenset(
    {
        "purpose",
        "intended_use",
        "deployment_context",
        "legal_basis",
        "decisions",
        "effect_on_people",
        "human_oversight",
        "scope_justification",
        "risks_and_safeguards",
        "contest_information",
        "interaction_notice",
    }
)

# coe-fc:16.2.g: a change to these is a "significant modification" that calls for
# testing (and, in later issues, reassessment) again.
SIGNIFICANT_FIELDS: frozenset[str] = frozenset(
    {
        "purpose",
        "intended_use",
        "model_technique",
        "data_sources",
        "decision_role",
        "decisions",
        "affected_groups",
        "affects_children",
        "affects_persons_with_disabilities",
        "deployment_context",
    }
)

FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "purpose": "Purpose",
    "intended_use": "Intended use",
    "deployment_context": "Deployment context",
    "sector": "Sector",
    "legal_basis": "Legal basis",
    "decisions": "Decisions taken or supported",
    "decision_role": "Role in decisions",
    "effect_on_people": "Effect on people",
    "human_oversight": "Human oversight",
    "affected_groups": "Affected groups",
    "affects_children": "Affects children",
    "affects_persons_with_disabilities": "Affects persons with disabilities",
    "data_sources": "Data sources and training data",
    "model_technique": "Model or technique",
    "provider": "Provider",
    "vendor": "Vendor",
    "sourcing": "Built or procured",
    "scope_exemption": "Scope exemption claimed (coe-fc:3)",
    "scope_justification": "Justification of the exemption",
    "military_use": "Military use",
    "autonomy_in_critical_functions": "Autonomy in critical functions (select/engage targets)",
    "risks_and_safeguards": "Risks and safeguards",
    "contact_point": "Contact point",
    "contest_information": "How to contest a decision",
    "interaction_notice": "Notice to people interacting with the system",
}


@dataclass
class AISystem:
    """A registered AI system with its lifecycle and publication state."""

    id: int
    organisation_id: int
    details: SystemDetails
    lifecycle_stage: LifecycleStage
    publication_state: PublicationState
    risk_level: RiskLevel
    revision: int
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None
    significant_modification_at: datetime | None = None


def validate_details(details: SystemDetails) -> dict[str, str]:
    """Field-level problems with a record, as {field: message}; empty when valid."""
    problems: dict[str, str] = {}
    name = details.name.strip()
    if not name:
        problems["name"] = "Name is required."
    elif len(name) > NAME_MAX:
        problems["name"] = f"Name is {len(name)} characters; at most {NAME_MAX} are allowed."
    for fname in SHORT_TEXT_FIELDS:
        value = getattr(details, fname)
        if len(value) > SHORT_TEXT_MAX:
            problems[fname] = (
                f"{FIELD_LABELS[fname]} is {len(value)} characters; "
                f"at most {SHORT_TEXT_MAX} are allowed."
            )
    for fname in LONG_TEXT_FIELDS:
        value = getattr(details, fname)
        if len(value) > LONG_TEXT_MAX:
            problems[fname] = (
                f"{FIELD_LABELS[fname]} is {len(value)} characters; "
                f"at most {LONG_TEXT_MAX} are allowed."
            )
    if len(details.affected_groups) > LIST_MAX:
        problems["affected_groups"] = f"At most {LIST_MAX} affected groups are allowed."
    elif any(not g.strip() or len(g) > SHORT_TEXT_MAX for g in details.affected_groups):
        problems["affected_groups"] = (
            f"Each affected group must be a non-empty text of at most {SHORT_TEXT_MAX} characters."
        )
    if len(details.data_sources) > LIST_MAX:
        problems["data_sources"] = f"At most {LIST_MAX} data sources are allowed."
    else:
        for i, src in enumerate(details.data_sources):
            if not src.name.strip() or len(src.name) > SHORT_TEXT_MAX:
                problems["data_sources"] = (
                    f"Data source {i + 1}: name is required (at most {SHORT_TEXT_MAX} characters)."
                )
                break
            if len(src.provenance) > SHORT_TEXT_MAX or len(src.description) > LONG_TEXT_MAX:
                problems["data_sources"] = (
                    f"Data source {i + 1}: provenance or description too long."
                )
                break
    # coe-fc:3.2-3.4: an exemption is a claim that has to be argued.
    if (
        details.scope_exemption is not ScopeExemption.NONE
        and not details.scope_justification.strip()
    ):
        problems["scope_justification"] = (
            "A justification is required when a coe-fc:3 scope exemption is claimed."
        )
    if details.autonomy_in_critical_functions and not details.military_use:
        problems["autonomy_in_critical_functions"] = (
            "Autonomy in critical functions (selecting and engaging targets) applies to "
            "military systems: tick 'Military use' as well."
        )
    return problems


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Names of detail fields whose value differs between two snapshots, in field order."""
    return [f for f in DETAIL_FIELDS if before.get(f) != after.get(f)]


def is_significant(changed: list[str]) -> bool:
    """coe-fc:16.2.g: does this set of changed fields make a significant modification?"""
    return any(f in SIGNIFICANT_FIELDS for f in changed)

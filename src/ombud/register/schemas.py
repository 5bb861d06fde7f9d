"""Request and response bodies of the JSON API v1.

Separate Create / Update / Patch / Out models: requests refuse unknown fields
(``extra="forbid"``) and carry the domain's length limits so a bad field is
named before any service runs; responses are built from the service results
with the ``from_*`` constructors and never validate input limits again.

Datetimes are stored as naive UTC; every response states them as ISO 8601 with "Z".
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from ombud.kernel.access import OrganisationKind
from ombud.kernel.paging import PageResult
from ombud.kernel.safe_load import ID_MAX
from ombud.kernel.web.schemas import DomainOut, PageOut, RecordId, RequestModel, UtcDateTime
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import (
    LIST_MAX,
    LONG_TEXT_MAX,
    NAME_MAX,
    SHORT_TEXT_MAX,
    DataRole,
    DecisionRole,
    PublicationState,
    RiskLevel,
    ScopeExemption,
    Sector,
    Sourcing,
)
from ombud.register.ports import SystemListing
from ombud.register.service import REASON_MAX, RevisionView, SystemView

Name = Annotated[str, Field(max_length=NAME_MAX)]
ShortText = Annotated[str, Field(max_length=SHORT_TEXT_MAX)]
LongText = Annotated[str, Field(max_length=LONG_TEXT_MAX)]
Reason = Annotated[str, Field(max_length=REASON_MAX)]


# -- shared envelopes ----------------------------------------------------------


# -- AI-system records ----------------------------------------------------------


class DataSourceIn(RequestModel):
    """One source of data the system is trained on or uses (ipu-149:op22)."""

    name: ShortText
    role: DataRole
    provenance: ShortText = ""
    personal_data: bool = False
    special_categories: bool = False
    description: LongText = ""


class DataSourceOut(BaseModel):
    name: str
    role: DataRole
    provenance: str
    personal_data: bool
    special_categories: bool
    description: str


class SystemDetailsIn(RequestModel):
    """Every field of an AI-system record, with the domain's limits."""

    name: Name = Field(description="Name of the system (required, at most 200 characters).")
    purpose: LongText = ""
    intended_use: LongText = ""
    deployment_context: LongText = ""
    sector: Sector = Sector.OTHER
    legal_basis: LongText = ""
    decisions: LongText = Field("", description="Decisions the system takes or supports.")
    decision_role: DecisionRole = Field(
        DecisionRole.INFORMATIONAL,
        description="The system's part in decisions about people (coe-fc:14.2.b).",
    )
    effect_on_people: LongText = ""
    human_oversight: LongText = ""
    affected_groups: list[ShortText] = Field(default_factory=list, max_length=LIST_MAX)
    affects_children: bool = Field(False, description="coe-fc:18")
    affects_persons_with_disabilities: bool = Field(False, description="coe-fc:18")
    data_sources: list[DataSourceIn] = Field(default_factory=list, max_length=LIST_MAX)
    model_technique: ShortText = ""
    provider: ShortText = ""
    vendor: ShortText = ""
    sourcing: Sourcing = Sourcing.BUILT_IN_HOUSE
    scope_exemption: ScopeExemption = Field(
        ScopeExemption.NONE, description="Exemption claimed from coe-fc:3.2, 3.3 or 3.4."
    )
    scope_justification: LongText = ""
    military_use: bool = False
    autonomy_in_critical_functions: bool = Field(
        False, description="Selects and engages targets without human intervention (ipu-148)."
    )
    risks_and_safeguards: LongText = ""
    contact_point: ShortText = ""
    contest_information: LongText = Field("", description="How to contest (coe-fc:14.2.b).")
    interaction_notice: LongText = Field(
        "", description="Notice to people interacting with the system (coe-fc:15.2)."
    )


class SystemCreate(SystemDetailsIn):
    """Register a system: the organisation, its starting stage and the record."""

    organisation_id: RecordId
    lifecycle_stage: LifecycleStage = LifecycleStage.PRE_DESIGN
    reason: Reason = Field("", description="Why the system is registered in this stage.")


class RevisionExtras(RequestModel):
    expected_revision: int | None = Field(
        None,
        ge=1,
        le=ID_MAX,
        description="The revision the edit was made on; a stale one is refused with 409.",
    )
    significant_reason: Reason = Field(
        "",
        description="Marks the edit as a significant modification (coe-fc:16.2.g) and says why.",
    )
    note: Reason = Field("", description="A note kept with the revision.")


class SystemUpdate(SystemDetailsIn, RevisionExtras):
    """The whole record: fields left out take their default (empty) value."""


class SystemPatch(RevisionExtras):
    """Only the fields given change; the others keep their current value."""

    name: Name | None = None
    purpose: LongText | None = None
    intended_use: LongText | None = None
    deployment_context: LongText | None = None
    sector: Sector | None = None
    legal_basis: LongText | None = None
    decisions: LongText | None = None
    decision_role: DecisionRole | None = None
    effect_on_people: LongText | None = None
    human_oversight: LongText | None = None
    affected_groups: list[ShortText] | None = Field(None, max_length=LIST_MAX)
    affects_children: bool | None = None
    affects_persons_with_disabilities: bool | None = None
    data_sources: list[DataSourceIn] | None = Field(None, max_length=LIST_MAX)
    model_technique: ShortText | None = None
    provider: ShortText | None = None
    vendor: ShortText | None = None
    sourcing: Sourcing | None = None
    scope_exemption: ScopeExemption | None = None
    scope_justification: LongText | None = None
    military_use: bool | None = None
    autonomy_in_critical_functions: bool | None = None
    risks_and_safeguards: LongText | None = None
    contact_point: ShortText | None = None
    contest_information: LongText | None = None
    interaction_notice: LongText | None = None


class GateFailureOut(DomainOut):
    gate: str
    message: str
    provision: str = Field(description="The provision that motivates the gate, e.g. coe-fc:14.2.b.")
    field: str | None


class SystemDetailsOut(BaseModel):
    name: str
    purpose: str
    intended_use: str
    deployment_context: str
    sector: Sector
    legal_basis: str
    decisions: str
    decision_role: DecisionRole
    effect_on_people: str
    human_oversight: str
    affected_groups: list[str]
    affects_children: bool
    affects_persons_with_disabilities: bool
    data_sources: list[DataSourceOut]
    model_technique: str
    provider: str
    vendor: str
    sourcing: Sourcing
    scope_exemption: ScopeExemption
    scope_justification: str
    military_use: bool
    autonomy_in_critical_functions: bool
    risks_and_safeguards: str
    contact_point: str
    contest_information: str
    interaction_notice: str


class SystemOut(SystemDetailsOut):
    """The full record as a member of its organisation (or its overseer) sees it."""

    id: int
    organisation_id: int
    organisation: str = Field(description="Name of the organisation that keeps the record.")
    lifecycle_stage: LifecycleStage
    publication_state: PublicationState
    risk_level: RiskLevel
    revision: int
    created_at: UtcDateTime
    updated_at: UtcDateTime
    published_at: UtcDateTime | None
    significant_modification_at: UtcDateTime | None = Field(
        description="Last significant modification (coe-fc:16.2.g): test again after it."
    )
    weapons_review_required: bool = Field(
        description="Military use with autonomy in critical functions (ipu-148)."
    )
    next_stages: list[LifecycleStage]
    gate_failures: dict[str, list[GateFailureOut]] = Field(
        description="For each next stage that is blocked, what has to be done first."
    )
    permissions: dict[str, bool] = Field(
        description="What the caller may do with this record, by action (e.g. system.update)."
    )

    @classmethod
    def from_view(cls, view: SystemView) -> SystemOut:
        s = view.system
        return cls.model_validate(
            {
                **s.details.snapshot(),
                "id": s.id,
                "organisation_id": s.organisation_id,
                "organisation": view.organisation.name,
                "lifecycle_stage": s.lifecycle_stage,
                "publication_state": s.publication_state,
                "risk_level": s.risk_level,
                "revision": s.revision,
                "created_at": s.created_at,
                "updated_at": s.updated_at,
                "published_at": s.published_at,
                "significant_modification_at": s.significant_modification_at,
                "weapons_review_required": s.details.weapons_review_required,
                "next_stages": view.next_stages,
                "gate_failures": {
                    stage.value: [GateFailureOut.from_domain(f) for f in failures]
                    for stage, failures in view.gate_failures.items()
                },
                "permissions": dict(view.can),
            }
        )


class SystemSummaryOut(BaseModel):
    """A line of the list of systems."""

    id: int
    name: str
    organisation_id: int
    organisation: str
    sector: Sector
    lifecycle_stage: LifecycleStage
    publication_state: PublicationState
    risk_level: RiskLevel
    revision: int
    updated_at: UtcDateTime
    significant_modification_at: UtcDateTime | None

    @classmethod
    def from_listing(cls, listing: SystemListing) -> SystemSummaryOut:
        s = listing.system
        return cls(
            id=s.id,
            name=s.details.name,
            organisation_id=s.organisation_id,
            organisation=listing.organisation.name,
            sector=s.details.sector,
            lifecycle_stage=s.lifecycle_stage,
            publication_state=s.publication_state,
            risk_level=s.risk_level,
            revision=s.revision,
            updated_at=s.updated_at,
            significant_modification_at=s.significant_modification_at,
        )


class SystemPage(PageOut[SystemSummaryOut]):
    @classmethod
    def from_result(cls, result: PageResult[SystemListing]) -> SystemPage:
        return cls.of(
            [SystemSummaryOut.from_listing(x) for x in result.items],
            result.total,
            result.offset,
            result.limit,
        )


class TransitionIn(RequestModel):
    to_stage: LifecycleStage
    reason: Reason = Field(description="Why the system moves (required; kept on the record).")


class TransitionOut(DomainOut):
    at: UtcDateTime
    actor: str
    from_stage: LifecycleStage | None = Field(description="Null for the registration.")
    to_stage: LifecycleStage
    reason: str


class TransitionPage(PageOut[TransitionOut]):
    pass


class PublicationIn(RequestModel):
    state: PublicationState


class SignificantModificationIn(RequestModel):
    reason: Reason = Field(description="What changed, e.g. retrained on new data (required).")


class RiskLevelIn(RequestModel):
    risk_level: RiskLevel
    reason: Reason = Field(description="Why this level (required; kept in the ledger).")


class FieldChangeOut(BaseModel):
    field: str
    label: str
    before: Any
    after: Any


class RevisionOut(BaseModel):
    number: int
    at: UtcDateTime
    actor: str
    significant: bool = Field(description="A significant modification (coe-fc:16.2.g).")
    significant_reason: str
    note: str
    changes: list[FieldChangeOut]

    @classmethod
    def from_view(cls, view: RevisionView) -> RevisionOut:
        r = view.revision
        return cls(
            number=r.number,
            at=r.at,
            actor=r.actor,
            significant=r.significant,
            significant_reason=r.significant_reason,
            note=r.note,
            changes=[
                FieldChangeOut(field=c.field, label=c.label, before=c.before, after=c.after)
                for c in view.changes
            ],
        )


class RevisionPage(PageOut[RevisionOut]):
    pass


# -- the public register -------------------------------------------------------


class PublicSystemOut(BaseModel):
    """A published system with the stable field names of the register export."""

    id: int
    name: str
    organisation: str
    organisation_kind: OrganisationKind
    sector: Sector
    purpose: str
    intended_use: str
    deployment_context: str
    legal_basis: str
    decisions: str
    decision_role: DecisionRole
    effect_on_people: str
    human_oversight: str
    affected_groups: list[str]
    affects_children: bool
    affects_persons_with_disabilities: bool
    data_sources: list[DataSourceOut]
    model_technique: str
    provider: str
    vendor: str
    sourcing: Sourcing
    scope_exemption: ScopeExemption
    scope_justification: str
    weapons_review: bool
    risk_level: RiskLevel
    risks_and_safeguards: str
    contact_point: str
    contest_information: str
    interaction_notice: str
    lifecycle_stage: LifecycleStage
    published_at: str | None = Field(description="ISO 8601, UTC (ends in Z).")
    last_changed_at: str = Field(description="ISO 8601, UTC (ends in Z).")
    significant_modification_at: str | None = Field(description="ISO 8601, UTC (ends in Z).")


class PublicSystemPage(PageOut[PublicSystemOut]):
    pass


# -- lifecycle -----------------------------------------------------------------


class StageOut(BaseModel):
    value: LifecycleStage
    label: str
    initial: bool = Field(description="A system may be registered in this stage.")
    live: bool = Field(description="The system affects people in this stage.")


class GateOut(BaseModel):
    name: str
    provision: str
    guards: list[LifecycleStage] = Field(description="Stages this gate guards the way into.")


class LifecycleOut(BaseModel):
    stages: list[StageOut]
    transitions: dict[str, list[LifecycleStage]] = Field(
        description="For each stage, the stages a system may move to next."
    )
    gates: list[GateOut]


# -- accounts ------------------------------------------------------------------


# -- ledger --------------------------------------------------------------------

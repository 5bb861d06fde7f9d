"""What templates know of the register's vocabulary: its enums and how each value reads."""

from __future__ import annotations

from typing import Any

from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import (
    FIELD_LABELS,
    DataRole,
    DecisionRole,
    PublicationState,
    RiskLevel,
    ScopeExemption,
    Sector,
    Sourcing,
)

TEMPLATE_GLOBALS: dict[str, Any] = {
    "FIELD_LABELS": FIELD_LABELS,
    "Sector": Sector,
    "DecisionRole": DecisionRole,
    "Sourcing": Sourcing,
    "ScopeExemption": ScopeExemption,
    "LifecycleStage": LifecycleStage,
    "RiskLevel": RiskLevel,
    "PublicationState": PublicationState,
    "DataRole": DataRole,
}

LABELS: dict[str, dict[str, str]] = {
    "sector": {s.value: s.value.replace("_", " ").capitalize() for s in Sector},
    "decision_role": {
        DecisionRole.FULLY_AUTOMATED.value: "Fully automated decision",
        DecisionRole.HUMAN_DECIDES_WITH_AI_SUPPORT.value: "A person decides, supported by AI",
        DecisionRole.INFORMATIONAL.value: "Informational only",
    },
    "sourcing": {
        Sourcing.BUILT_IN_HOUSE.value: "Built in house",
        Sourcing.PROCURED.value: "Procured",
        Sourcing.CO_DEVELOPED.value: "Co-developed",
    },
    "scope_exemption": {
        ScopeExemption.NONE.value: "None claimed",
        ScopeExemption.NATIONAL_SECURITY.value: "National security (coe-fc:3.2)",
        ScopeExemption.RESEARCH_AND_DEVELOPMENT.value: "Research and development (coe-fc:3.3)",
        ScopeExemption.NATIONAL_DEFENCE.value: "National defence (coe-fc:3.4)",
    },
    "lifecycle_stage": {s.value: s.label for s in LifecycleStage},
    "risk_level": {r.value: r.value.capitalize() for r in RiskLevel},
    "publication_state": {p.value: p.value.capitalize() for p in PublicationState},
    "data_role": {d.value: d.value.capitalize() for d in DataRole},
}

"""Builders for test records."""

from __future__ import annotations

from typing import Any

from ombud.domain.systems import DataRole, DataSource, DecisionRole, Sector, SystemDetails


def complete_details(name: str = "Benefit fraud risk scoring", **changes: Any) -> SystemDetails:
    """A record that passes every gate: deployable and publishable."""
    values: dict[str, Any] = {
        "name": name,
        "purpose": "Rank benefit claims for manual review of possible fraud.",
        "intended_use": "Caseworkers see a ranked list; every decision stays with them.",
        "deployment_context": "National welfare agency, all regional offices.",
        "sector": Sector.SOCIAL_SECURITY,
        "legal_basis": "Social Security Act, section 12(3).",
        "decisions": "Selection of claims for a fraud investigation.",
        "decision_role": DecisionRole.HUMAN_DECIDES_WITH_AI_SUPPORT,
        "effect_on_people": "A selected claimant is asked for documents; payments continue.",
        "human_oversight": "A caseworker reviews every flag; a supervisor audits 5% monthly.",
        "affected_groups": ["benefit claimants"],
        "data_sources": [
            DataSource("Claims history 2015-2023", DataRole.TRAINING, "agency records", True)
        ],
        "model_technique": "Gradient-boosted trees",
        "provider": "In-house data team",
        "contact_point": "ai-register@welfare.example",
        "contest_information": "Write to the agency's objections desk within six weeks.",
        "interaction_notice": "Your claim may have been selected with the help of an AI system.",
    }
    values.update(changes)
    return SystemDetails(**values)


def minimal_details(name: str = "Draft idea", **changes: Any) -> SystemDetails:
    return SystemDetails(name=name, **changes)

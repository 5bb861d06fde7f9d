"""Builders for test records."""

from __future__ import annotations

from typing import Any

from ombud.register.domain.systems import DataRole, DataSource, DecisionRole, Sector, SystemDetails


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


SCREENING_URN = "urn:ombud:template:red-line-screening"
HUDERA_URN = "urn:ombud:template:hudera"
SCREENING_ANSWERS: dict[str, Any] = {
    "use_description": "Ranking benefit claims for review",
    "biometrics": "no",
    "practices": ["none"],
    "impossible_to_comply": "no",
    "undue_risk": "no",
    "state_measure": "none",
    "incompatible_use": "no",
    "reasoning": "A person reviews every flag.",
}


def hudera_answers(gravity: int = 2, probability: int = 2) -> dict[str, Any]:
    return {
        "occasion": "before_first_use",
        "purpose_and_use": "Rank claims for manual review.",
        "deployment_setting": "Regional offices.",
        "legal_framework": "Social Security Act, section 12(3).",
        "affected_people": "Benefit claimants.",
        "rights": [
            {
                "right": "equality_non_discrimination",
                "gravity": gravity,
                "scope": 2,
                "reversibility": 2,
                "probability": probability,
            },
        ],
        "affected_persons_heard": "yes",
        "mitigations": [
            {"measure": "Human review of every flag", "owner": "Control unit", "status": "done"}
        ],
        "monitoring": "Quarterly disparity report.",
        "residual_risk": "medium",
        "residual_risk_reasons": "Review and monitoring in place.",
        "conclusion": "May proceed.",
        "review_date": "2030-01-01",
    }


def sign_current_assessments(container: Any, author: Any, approver: Any, system_id: int) -> None:
    """What the assessments gate asks before deployment or use: a signed red-line
    screening and a signed impact assessment."""
    svc = container.assessments
    for urn, answers in ((SCREENING_URN, SCREENING_ANSWERS), (HUDERA_URN, hudera_answers())):
        a = svc.start(author, system_id, urn)
        svc.save_answers(author, a.id, answers)
        svc.submit(author, a.id)
        svc.sign(approver, a.id)

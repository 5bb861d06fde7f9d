"""What signing an assessment decides, as pure rules: the content hash on the ledger,
the next review date and the system's risk level (coe-fc:16)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from ombud.assessments.domain import (
    Assessment,
    RedLineDecision,
    RedLineDecisionKind,
    Score,
)
from ombud.register.domain.systems import RiskLevel

# A signed assessment's level sets the system's risk level (coe-fc:16.2.b).
LEVEL_TO_RISK = {
    "low": RiskLevel.LOW,
    "medium": RiskLevel.MEDIUM,
    "high": RiskLevel.HIGH,
    "very_high": RiskLevel.HIGH,
}


def content_hash(assessment: Assessment, result: Score) -> str:
    """sha256 over the canonical JSON of what was signed."""
    payload = {
        "assessment": assessment.id,
        "system": assessment.system_id,
        "system_revision": assessment.system_revision,
        "template": assessment.template_key,
        "answers": assessment.answers,
        "level": result.level,
        "score": result.final,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def answers_without_none(answers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answers.items() if v is not None}


def template_version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def review_date_of(answers: dict[str, Any]) -> datetime | None:
    raw = answers.get("review_date")
    try:
        return datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def risk_from(level: str | None, decisions: list[RedLineDecision]) -> RiskLevel | None:
    """A ban or moratorium makes the system unacceptable; otherwise the signed level."""
    if any(d.kind is not RedLineDecisionKind.JUSTIFIED_EXCEPTION for d in decisions):
        return RiskLevel.UNACCEPTABLE
    return LEVEL_TO_RISK.get(level or "")

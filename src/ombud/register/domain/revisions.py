"""Revisions of an AI-system record and lifecycle transitions, with field diffs.

coe-fc:16.2.g asks for testing "before making them available for first use and
when they are significantly modified": every revision says whether it is a
significant modification, found from the fields changed or flagged by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import DETAIL_FIELDS, FIELD_LABELS


@dataclass(frozen=True)
class Revision:
    system_id: int
    number: int
    at: datetime
    actor_id: int | None
    actor: str
    snapshot: dict[str, Any]
    changed: tuple[str, ...]
    significant: bool
    significant_reason: str
    note: str


@dataclass(frozen=True)
class Transition:
    system_id: int
    at: datetime
    actor_id: int | None
    actor: str
    from_stage: LifecycleStage | None
    to_stage: LifecycleStage
    reason: str


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: Any
    after: Any


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[FieldChange]:
    """Field-by-field changes from one snapshot to the next (all fields for the first)."""
    prior = before or {}
    out = []
    for name in DETAIL_FIELDS:
        if before is None or prior.get(name) != after.get(name):
            out.append(FieldChange(name, FIELD_LABELS[name], prior.get(name), after.get(name)))
    return out

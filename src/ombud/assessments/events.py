"""How assessments answer other areas' events."""

from __future__ import annotations

from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ports import UnitOfWork
from ombud.kernel.service import record
from ombud.register.domain.events import SystemChangedMaterially


def mark_stale(uow: UnitOfWork, event: SystemChangedMaterially) -> None:
    """coe-fc:16.2.g, coe-fc:16.2.d: the system's signed assessments no longer describe
    it; each is marked stale with a ledger entry, in the same transaction."""
    for assessment_id in uow.assessments.mark_stale(event.system_id, event.at, event.reason):
        record(
            uow,
            event.at,
            event.actor,
            LedgerAction.STALE,
            "assessment",
            assessment_id,
            event.organisation_id,
            after={"reason": event.reason},
        )


# The assessments area's subscriptions (kernel/module.py: Module.subscriptions).
SUBSCRIPTIONS = ((SystemChangedMaterially, mark_stale),)

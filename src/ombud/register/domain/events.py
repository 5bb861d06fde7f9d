"""What the register tells other areas about a system, as domain events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ombud.kernel.events import DomainEvent


@dataclass(frozen=True)
class SystemChangedMaterially(DomainEvent):
    """The system is no longer what its signed assessments describe: a significant
    modification (coe-fc:16.2.g) or a confirmed incident (coe-fc:16.2.d,
    unga-78-265:op6.c). ``reason`` says which, for the record."""

    system_id: int
    organisation_id: int
    reason: str
    at: datetime

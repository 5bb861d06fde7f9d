"""What the incident log tells the register: incidents keep a draft from being deleted."""

from __future__ import annotations

from ombud.kernel.ports import UnitOfWork


def kept_records(uow: UnitOfWork, system_id: int) -> list[tuple[int, str, str]]:
    """Incidents stay on record as evidence of what went wrong (unga-78-265:op6.c)."""
    return [(len(uow.incidents.for_system(system_id)), "incident", "incidents")]

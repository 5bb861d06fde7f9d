"""What assessments tell the register beyond the gate: assessments and red-line decisions
keep a draft from being deleted."""

from __future__ import annotations

from ombud.kernel.ports import UnitOfWork


def kept_records(uow: UnitOfWork, system_id: int) -> list[tuple[int, str, str]]:
    """Assessments and red-line decisions keep a draft from being deleted (evidence)."""
    return [
        (len(uow.assessments.for_system(system_id)), "assessment", "assessments"),
        (len(uow.assessments.decisions(system_id)), "red-line decision", "red-line decisions"),
    ]

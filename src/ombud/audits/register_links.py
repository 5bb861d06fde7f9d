"""What audits tell the register: audit runs and findings keep a draft from being deleted."""

from __future__ import annotations

from ombud.kernel.ports import UnitOfWork


def kept_records(uow: UnitOfWork, system_id: int) -> list[tuple[int, str, str]]:
    """Audit runs and findings stay on record as evidence of what was tested (coe-fc:10)."""
    return [
        (len(uow.audit_runs.for_system(system_id)), "audit run", "audit runs"),
        (len(uow.findings.for_system(system_id)), "finding", "findings"),
    ]

"""The AI system an actor may read (404 for a system of another organisation: ids do not
leak)."""

from __future__ import annotations

from ombud.accounts.access import org_ref
from ombud.accounts.domain import Organisation
from ombud.kernel.access import Action, Principal, is_allowed
from ombud.kernel.errors import NotFound
from ombud.kernel.ports import UnitOfWork
from ombud.register.domain.systems import AISystem


def readable_system(
    uow: UnitOfWork, actor: Principal, system_id: int, lock: bool = False
) -> tuple[AISystem, Organisation]:
    """A system the actor may read, with its organisation; NotFound (not Forbidden)
    otherwise, so that ids of other organisations' records do not leak."""
    system = uow.systems.get(system_id, for_update=lock)
    org = uow.organisations.get(system.organisation_id) if system else None
    if system is None or org is None or not is_allowed(actor, Action.SYSTEM_READ, org_ref(org)):
        raise NotFound(f"AI system {system_id} does not exist or is not visible to you.")
    return system, org

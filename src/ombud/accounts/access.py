"""An organisation's record as the access policy sees it: its reference, the check of an
action on it, and loading it inside a unit of work."""

from __future__ import annotations

from ombud.accounts.domain import Organisation
from ombud.kernel.access import Action, OrganisationRef, Principal, is_allowed
from ombud.kernel.errors import Forbidden, NotFound
from ombud.kernel.ports import UnitOfWork


def org_ref(org: Organisation) -> OrganisationRef:
    return OrganisationRef(id=org.id, kind=org.kind, name=org.name)


def authorize(principal: Principal, action: Action, org: Organisation) -> None:
    """Raise Forbidden unless the principal may do ``action`` on records of ``org``."""
    if not is_allowed(principal, action, org_ref(org)):
        raise Forbidden(
            f"You may not perform '{action.value}' for {org.name}: "
            "your role there does not allow it."
        )


def get_org(uow: UnitOfWork, org_id: int, lock: bool = False) -> Organisation:
    """The organisation, or NotFound; ``lock`` serialises membership changes (last admin)."""
    org = uow.organisations.get(org_id, for_update=lock)
    if org is None:
        raise NotFound(f"Organisation {org_id} does not exist.")
    return org

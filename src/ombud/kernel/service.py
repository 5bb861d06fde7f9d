"""What every service shares: the unit-of-work factory, the clock, authorization and the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ombud.accounts.domain import Organisation
from ombud.kernel.access import Action, OrganisationRef, Principal, is_allowed
from ombud.kernel.errors import Forbidden, Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction, LedgerDraft
from ombud.kernel.ports import Clock, Page, UnitOfWork, UnitOfWorkFactory
from ombud.register.domain.systems import AISystem

MAX_PAGE_SIZE = 100
MAX_OFFSET = 1_000_000


def utcnow() -> datetime:
    """Naive UTC, the form every timestamp is stored in."""
    return datetime.now(UTC).replace(tzinfo=None)


def page_of(offset: int, limit: int) -> Page:
    """A bounded page; refuses nonsense with the parameter named."""
    problems = {}
    if not 0 <= offset <= MAX_OFFSET:
        problems["offset"] = f"offset must be between 0 and {MAX_OFFSET}."
    if not 1 <= limit <= MAX_PAGE_SIZE:
        problems["limit"] = f"limit must be between 1 and {MAX_PAGE_SIZE}."
    if problems:
        raise Invalid.from_fields(problems, prefix="query")
    return Page(offset=offset, limit=limit)


def org_ref(org: Organisation) -> OrganisationRef:
    return OrganisationRef(id=org.id, kind=org.kind, name=org.name)


def authorize(principal: Principal, action: Action, org: Organisation) -> None:
    """Raise Forbidden unless the principal may do ``action`` on records of ``org``."""
    if not is_allowed(principal, action, org_ref(org)):
        raise Forbidden(
            f"You may not perform '{action.value}' for {org.name}: "
            "your role there does not allow it."
        )


def require_superuser(principal: Principal, what: str) -> None:
    if not principal.is_superuser:
        raise Forbidden(f"Only a platform administrator may {what}.")


def get_org(uow: UnitOfWork, org_id: int, lock: bool = False) -> Organisation:
    """The organisation, or NotFound; ``lock`` serialises membership changes (last admin)."""
    org = uow.organisations.get(org_id, for_update=lock)
    if org is None:
        raise NotFound(f"Organisation {org_id} does not exist.")
    return org


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


class Service:
    """Base of the services: holds the unit-of-work factory and the clock."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock = utcnow) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    def _make_stale(
        self,
        uow: UnitOfWork,
        actor: Principal | None,
        system_id: int,
        org_id: int,
        why: str,
        now: datetime,
    ) -> list[int]:
        """Mark the system's signed assessments stale (they no longer describe it), each
        with a ledger entry; the ids of those marked."""
        marked = list(uow.assessments.mark_stale(system_id, now, why))
        for assessment_id in marked:
            self._record(
                uow,
                actor,
                LedgerAction.STALE,
                "assessment",
                assessment_id,
                org_id,
                after={"reason": why},
            )
        return marked

    def _record(
        self,
        uow: UnitOfWork,
        actor: Principal | None,
        action: LedgerAction,
        entity_type: str,
        entity_id: object,
        organisation_id: int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        actor_label: str | None = None,
    ) -> None:
        """Append to the audit ledger inside the caller's transaction."""
        uow.ledger.append(
            LedgerDraft(
                actor_id=actor.user_id if actor and actor.user_id else None,
                actor=actor_label or (actor.label if actor else "anonymous"),
                action=action,
                entity_type=entity_type,
                entity_id=str(entity_id),
                organisation_id=organisation_id,
                before=before,
                after=after,
            ),
            self.clock(),
        )

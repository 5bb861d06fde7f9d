"""What every service shares: the unit-of-work factory, the clock, authorization and the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ombud.kernel.access import Principal
from ombud.kernel.errors import Forbidden, Invalid
from ombud.kernel.events import DomainEvent, EventBus
from ombud.kernel.ledger.domain import LedgerAction, LedgerDraft
from ombud.kernel.paging import Page
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory

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


def require_superuser(principal: Principal, what: str) -> None:
    if not principal.is_superuser:
        raise Forbidden(f"Only a platform administrator may {what}.")


class Service:
    """Base of the services: holds the unit-of-work factory and the clock."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock = utcnow) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        # The domain events' handlers; bootstrap shares one bus among the services.
        self.events = EventBus()

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
        record(
            uow,
            self.clock(),
            actor,
            action,
            entity_type,
            entity_id,
            organisation_id,
            before,
            after,
            actor_label,
        )

    def _publish(self, uow: UnitOfWork, event: DomainEvent) -> None:
        """Let the areas that subscribed act on ``event`` inside this unit of work."""
        self.events.publish(uow, event)


def record(
    uow: UnitOfWork,
    at: datetime,
    actor: Principal | None,
    action: LedgerAction,
    entity_type: str,
    entity_id: object,
    organisation_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> None:
    """Append one entry to the audit ledger inside ``uow``'s transaction."""
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
        at,
    )

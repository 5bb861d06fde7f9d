"""Domain events, handled inside the unit of work that raised them.

A service publishes an event ("this system changed materially"); the handlers other
areas registered run at once, in the same transaction, before the service commits:
the change, its consequences and every ledger entry land together or not at all
(cosmicpython's message bus, but before the commit). Handlers are registered by the
areas' modules (kernel/module.py: `Subscription`) and wired in bootstrap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ombud.kernel.access import Principal
from ombud.kernel.ports import UnitOfWork


@dataclass(frozen=True)
class DomainEvent:
    """Something that happened, in the words of the area where it happened."""

    actor: Principal | None


Handler = Callable[[UnitOfWork, Any], None]


class EventBus:
    """Which handlers hear which events; ``publish`` runs them in order, in the caller's
    unit of work. A handler that raises aborts the whole change (nothing is committed)."""

    def __init__(self) -> None:
        self._handlers: defaultdict[type[DomainEvent], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[DomainEvent], handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def publish(self, uow: UnitOfWork, event: DomainEvent) -> None:
        for kind in type(event).__mro__:
            for handler in self._handlers.get(kind, ()):
                handler(uow, event)

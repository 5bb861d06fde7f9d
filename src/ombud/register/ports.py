"""Ports: what services need from the outside world, as Protocols.

Adapters (adapters/db, adapters/passwords.py, ...) implement them; bootstrap.py
wires them in. Services and domain never import an adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ombud.accounts.domain import (
    Organisation,
)
from ombud.kernel.paging import Page, PageResult
from ombud.kernel.ports import UnitOfWork
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.revisions import Revision, Transition
from ombud.register.domain.systems import (
    AISystem,
    PublicationState,
    RiskLevel,
    Sector,
    SystemDetails,
)


@dataclass(frozen=True)
class SystemFilter:
    """Filters for listing systems. ``organisation_ids`` bounds what may be seen."""

    organisation_ids: frozenset[int] | None = None  # None: no bound (public search bounds by state)
    organisation_id: int | None = None
    sector: Sector | None = None
    lifecycle_stage: LifecycleStage | None = None
    risk_level: RiskLevel | None = None
    publication_state: PublicationState | None = None
    text: str = ""


@dataclass(frozen=True)
class SystemListing:
    system: AISystem
    organisation: Organisation


@dataclass(frozen=True)
class NewSystem:
    organisation_id: int
    details: SystemDetails
    lifecycle_stage: LifecycleStage
    at: datetime
    publication_state: PublicationState = PublicationState.DRAFT
    risk_level: RiskLevel = RiskLevel.UNASSESSED
    extra: dict[str, object] = field(default_factory=dict)


class SystemRepository(Protocol):
    def add(self, new: NewSystem) -> AISystem: ...
    def get(self, system_id: int, for_update: bool = False) -> AISystem | None: ...
    def save(self, system: AISystem) -> None: ...
    def delete(self, system_id: int) -> None: ...
    def search(self, flt: SystemFilter, page: Page) -> PageResult[SystemListing]: ...
    def iter_listings(self, flt: SystemFilter, batch: int = 1000) -> Iterator[SystemListing]: ...
    def organisations_with(self, state: PublicationState) -> list[Organisation]: ...
    def add_revision(self, revision: Revision) -> None: ...
    def revisions(self, system_id: int) -> list[Revision]: ...
    def add_transition(self, transition: Transition) -> None: ...
    def transitions(self, system_id: int) -> list[Transition]: ...


# What other areas give the register (their modules' gate_facts and kept_records):
# the facts their gates read about a system, and the records that keep a draft.
GateFacts = Callable[[UnitOfWork, AISystem, datetime], Mapping[str, Any]]
KeptRecords = Callable[[UnitOfWork, int], Sequence[tuple[int, str, str]]]

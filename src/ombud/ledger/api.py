"""The audit ledger: every change, who made it, before and after, hash-chained.

coe-fc:9 (accountability) and coe-fc:26 (oversight bodies must be able to rely on
the record): an organisation's admins read its entries, an oversight body's admins
those of the organisations in its jurisdiction, anyone signed in can verify the chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.kernel.web.api import PagingDep
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.ledger.schemas import ChainReportOut, LedgerEntryOut, LedgerPage

router = APIRouter(prefix="/ledger", tags=["ledger"])

ShortQuery = Annotated[str | None, Query(max_length=200)]


def _naive_utc(at: datetime | None) -> datetime | None:
    """The ledger stores naive UTC; a time with an offset is converted first."""
    if at is None or at.tzinfo is None:
        return at
    return at.astimezone(UTC).replace(tzinfo=None)


@router.get(
    "",
    summary="Read the audit ledger",
    description="Entries you may read, newest first: a platform administrator reads all, an "
    "organisation's admins read its own, an oversight body's admins those of the "
    "organisations in its jurisdiction (coe-fc:26). Others get 403.",
)
def list_ledger(
    c: ContainerDep,
    principal: ApiPrincipal,
    paging: PagingDep,
    action: LedgerAction | None = None,
    entity_type: ShortQuery = None,
    entity_id: ShortQuery = None,
    actor: Annotated[
        str | None, Query(max_length=200, description="Who acted (e-mail address or part).")
    ] = None,
    since: Annotated[datetime | None, Query(description="Entries at or after (UTC).")] = None,
    until: Annotated[datetime | None, Query(description="Entries before (UTC).")] = None,
) -> LedgerPage:
    flt = LedgerFilter(
        action=action.value if action else None,
        entity_type=entity_type or None,
        entity_id=entity_id or None,
        actor=actor or None,
        since=_naive_utc(since),
        until=_naive_utc(until),
    )
    result = c.ledger.list(principal, flt, paging.offset, paging.limit)
    return LedgerPage.of(
        [LedgerEntryOut.from_domain(e) for e in result.items],
        result.total,
        result.offset,
        result.limit,
    )


@router.get(
    "/verify",
    summary="Verify the hash chain",
    description="Walks the whole ledger and reports OK or the first entry that was edited, "
    "removed or reordered (coe-fc:9). Shows no entry's content.",
)
def verify_ledger(c: ContainerDep, _principal: ApiPrincipal) -> ChainReportOut:
    return ChainReportOut.from_domain(c.ledger.verify())

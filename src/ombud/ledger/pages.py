"""The ledger page: entries an actor may read, filtered, and the chain check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ombud.kernel.errors import Invalid
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.templating import render

router = APIRouter(prefix="/admin")

LEDGER_PAGE = 50


@router.get("/ledger", response_class=HTMLResponse)
def ledger(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    action: Annotated[str, Query(max_length=40)] = "",
    entity_type: Annotated[str, Query(max_length=40)] = "",
    entity_id: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=320)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    verify: bool = False,
) -> Response:
    def day(raw: str, name: str) -> datetime | None:
        if not raw:
            return None
        try:
            return datetime.strptime(raw, "%Y-%m-%d")
        except ValueError:
            raise Invalid.from_fields({name: "Use a date such as 2026-01-31."}, "query") from None

    until_day = day(until, "until")
    flt = LedgerFilter(
        action=action or None,
        entity_type=entity_type or None,
        entity_id=entity_id or None,
        actor=actor or None,
        since=day(since, "since"),
        until=until_day + timedelta(days=1) if until_day else None,
    )
    result = c.ledger.list(principal, flt, (page - 1) * LEDGER_PAGE, LEDGER_PAGE)
    return render(
        request,
        "ledger.html",
        {
            "result": result,
            "page": page,
            "pages": max(1, -(-result.total // LEDGER_PAGE)),
            "filters": {
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "actor": actor,
                "since": since,
                "until": until,
            },
            "verify": c.ledger.verify() if verify else None,
        },
    )

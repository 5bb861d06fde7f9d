"""Compliance matrices: per system and per organisation (HTML and CSV).

An oversight body sees the matrix of every organisation in its jurisdiction.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ombud.accounts.domain import Organisation
from ombud.compliance.service import ComplianceFilter, SystemCompliance
from ombud.instruments.domain import Topic
from ombud.kernel.access import Principal
from ombud.kernel.documents.csv import SafeWriter
from ombud.kernel.errors import Forbidden
from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.forms import QueryChoice, query_enum, query_int
from ombud.kernel.web.templating import render

router = APIRouter()

CSV_FIELDS = (
    "system_id",
    "system",
    "organisation",
    "requirement",
    "title",
    "provisions",
    "status",
    "reason",
)


def _filter(instrument: str, topic: str) -> ComplianceFilter:
    return ComplianceFilter(instrument or None, query_enum(topic, Topic, "topic"))


def _csv(rows: Iterable[SystemCompliance]) -> Response:
    buf = io.StringIO()
    writer = SafeWriter(buf)  # no cell a spreadsheet would run as a formula
    writer.writerow(CSV_FIELDS)
    for sc in rows:
        for r in sc.results:
            writer.writerow(
                [
                    sc.system.id,
                    sc.system.details.name,
                    sc.organisation.name,
                    r.requirement.id,
                    r.requirement.title,
                    " ".join(r.requirement.provisions),
                    r.status.value,
                    r.reason,
                ]
            )
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="compliance.csv"'},
    )


@router.get("/systems/{system_id}/compliance", response_class=HTMLResponse)
def system_matrix(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    instrument: QueryChoice = "",
    topic: QueryChoice = "",
) -> Response:
    flt = _filter(instrument, topic)
    result = c.compliance.for_system(principal, system_id, flt)
    return render(
        request,
        "compliance/system.html",
        {
            "r": result,
            "flt": flt,
            "instruments": c.instruments.instruments(),
        },
    )


@router.get("/systems/{system_id}/compliance.csv")
def system_matrix_csv(
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    instrument: QueryChoice = "",
    topic: QueryChoice = "",
) -> Response:
    return _csv([c.compliance.for_system(principal, system_id, _filter(instrument, topic))])


def _readable_operators(c: ContainerDep, principal: Principal) -> list[Organisation]:
    readable = principal.readable_org_ids()
    return [
        o for o in c.accounts.list_organisations() if o.id in readable and o.kind.operates_systems
    ]


@router.get("/compliance", response_class=HTMLResponse)
def organisation_matrix(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    org: QueryChoice = "",
    instrument: QueryChoice = "",
    topic: QueryChoice = "",
) -> Response:
    orgs = _readable_operators(c, principal)
    if not orgs:
        raise Forbidden("You are not a member of, nor overseer of, an organisation with systems.")
    wanted = query_int(org, "org")
    current = next((o for o in orgs if o.id == wanted), orgs[0])
    flt = _filter(instrument, topic)
    result = c.compliance.for_organisation(principal, current.id, flt)
    return render(
        request,
        "compliance/organisation.html",
        {
            "r": result,
            "orgs": orgs,
            "flt": flt,
            "instruments": c.instruments.instruments(),
        },
    )


@router.get("/compliance.csv")
def organisation_matrix_csv(
    c: ContainerDep,
    principal: PagePrincipal,
    org: QueryChoice = "",
    instrument: QueryChoice = "",
    topic: QueryChoice = "",
) -> Response:
    org_id = query_int(org, "org")
    if org_id is None:
        raise Forbidden("Name the organisation: /compliance.csv?org=ID.")
    result = c.compliance.for_organisation(principal, org_id, _filter(instrument, topic))
    return _csv(result.systems)

"""The public transparency register (no sign-in): search, one page per system, exports.

Fixed interface: /register, /register.json, /register.csv, /register/{id},
/register/{id}.json. Field names of the exports: docs/register-export.md.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from ombud.kernel.documents.csv import SafeWriter
from ombud.kernel.errors import NotFound
from ombud.kernel.web.deps import ContainerDep
from ombud.kernel.web.errors import error_body
from ombud.kernel.web.templating import is_htmx, render
from ombud.register.forms import RegisterFilter, filter_values
from ombud.register.public_service import EXPORT_SCHEMA_VERSION, PUBLIC_FIELDS, public_record

router = APIRouter()

PAGE_SIZE = 20
CHUNK = 500


@router.get("/register", response_class=HTMLResponse)
def register(
    request: Request,
    c: ContainerDep,
    flt: RegisterFilter,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    result = c.public_register.search(flt, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    ctx = {
        "result": result,
        "page": page,
        "pages": max(1, -(-result.total // PAGE_SIZE)),
        "filters": filter_values(flt),
        "organisations": c.public_register.publishing_organisations(),
    }
    template = (
        "register/_public_results.html" if is_htmx(request) else "register/public_search.html"
    )
    return render(request, template, ctx)


def _json_stream(records: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    generated = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    yield (
        f'{{"schema_version":"{EXPORT_SCHEMA_VERSION}","generated_at":"{generated}","systems":['
    ).encode()
    first = True
    buf: list[str] = []
    for record in records:
        buf.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        if len(buf) >= CHUNK:
            yield (("" if first else ",") + ",".join(buf)).encode()
            first, buf = False, []
    if buf:
        yield (("" if first else ",") + ",".join(buf)).encode()
    yield b"]}\n"


def csv_row(record: dict[str, Any]) -> list[str]:
    """One CSV row: lists joined with '; ', data sources as 'name (role)'."""
    row = []
    for name in PUBLIC_FIELDS:
        value = record[name]
        if name == "data_sources":
            value = "; ".join(f"{d['name']} ({d['role']})" for d in value)
        elif isinstance(value, list):
            value = "; ".join(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif value is None:
            value = ""
        row.append(str(value))
    return row


def _csv_stream(records: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    out = io.StringIO()
    writer = SafeWriter(out)  # no cell a spreadsheet would run as a formula
    writer.writerow(PUBLIC_FIELDS)
    for i, record in enumerate(records, 1):
        writer.writerow(csv_row(record))
        if i % CHUNK == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


@router.get("/register.json")
def export_json(c: ContainerDep, flt: RegisterFilter) -> Response:
    """All published systems (optionally filtered), streamed."""
    records = c.public_register.iter_published(flt)
    return StreamingResponse(_json_stream(records), media_type="application/json")


@router.get("/register.csv")
def export_csv(c: ContainerDep, flt: RegisterFilter) -> Response:
    records = c.public_register.iter_published(flt)
    return StreamingResponse(
        _csv_stream(records),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="ombud-register.csv"'},
    )


@router.get("/register/{system_id:int}.json")
def system_json(system_id: int, c: ContainerDep) -> Response:
    try:
        record = public_record(c.public_register.get(system_id))
    except NotFound as exc:
        return JSONResponse(error_body(exc.code, exc.message), exc.http_status)
    return JSONResponse({"schema_version": EXPORT_SCHEMA_VERSION, **record})


@router.get("/register/{system_id:int}", response_class=HTMLResponse)
def system_page(request: Request, system_id: int, c: ContainerDep) -> Response:
    listing = c.public_register.get(system_id)
    return render(
        request,
        "register/public_system.html",
        {
            "s": listing.system,
            "d": listing.system.details,
            "org": listing.organisation,
            "decisions": c.assessments.published_red_line_decisions(system_id),
            "incidents": c.incidents.public_for_system(system_id),
            "audit": c.audit_runs.public_summary(system_id),
        },
    )

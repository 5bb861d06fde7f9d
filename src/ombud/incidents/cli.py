"""`ombud incidents ...`: the incident log, recording, resolving, AIID / AVID exchange."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ombud.incidents.domain import Incident, IncidentDraft, Severity
from ombud.incidents.service import IMPORT_MAX_BYTES, ExchangeFormat
from ombud.kernel.cli import AsOption, as_user, container, handles_errors, out
from ombud.kernel.errors import Invalid
from ombud.remedies.domain import Category

incidents_app = typer.Typer(no_args_is_help=True, help="Confirmed incidents (unga-78-265:op6.c).")

FormatOption = Annotated[str, typer.Option("--format", help="aiid (AI Incident Database) or avid.")]


def _actor(as_email: str | None) -> str:
    if not as_email:
        raise Invalid("Name the account to act as with --as (its roles apply).")
    return as_email


def _format(raw: str) -> ExchangeFormat:
    if raw == "aiid":
        return "aiid"
    if raw == "avid":
        return "avid"
    raise Invalid(f"--format {raw!r}: use aiid or avid.")


def _doc(i: Incident) -> dict[str, object]:
    return {
        "id": i.id,
        "system_id": i.system_id,
        "case_id": i.case_id,
        "title": i.title,
        "category": i.category.value,
        "severity": i.severity.value,
        "status": i.status.value,
        "harm": i.harm,
        "people_affected": i.people_affected,
        "root_cause": i.root_cause,
        "corrective_action": i.corrective_action,
        "public_summary": i.public_summary,
        "occurred_at": i.occurred_at.isoformat() if i.occurred_at else None,
        "recorded_at": i.recorded_at.isoformat(),
        "recorded_by": i.recorded_by,
        "external": i.external,
    }


@incidents_app.command("list")
@handles_errors
def list_incidents(
    as_email: AsOption = None,
    system: Annotated[int | None, typer.Option(help="Only this system.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open incidents.")] = False,
) -> None:
    """The incident log of the organisations you may read."""
    c = container()
    actor = as_user(c, _actor(as_email))
    if system is not None:
        items = c.incidents.for_system(actor, system)
        items = [i for i in items if not open_only or i.status.value == "open"]
        total = len(items)
    else:
        page = c.incidents.incidents(actor, open_only, 0, 100)
        items, total = page.items, page.total
    table = Table("id", "system", "title", "category", "severity", "status", "recorded")
    for i in items:
        table.add_row(
            str(i.id),
            str(i.system_id),
            i.title,
            i.category.value,
            i.severity.value,
            i.status.value + (" (no corrective action)" if i.unaddressed else ""),
            f"{i.recorded_at:%Y-%m-%d}",
        )
    out.print(table)
    out.print(f"{total} incidents")


@incidents_app.command("show")
@handles_errors
def show(incident_id: int, as_email: AsOption = None) -> None:
    """One incident, as JSON."""
    c = container()
    incident, _ = c.incidents.get(as_user(c, _actor(as_email)), incident_id)
    sys.stdout.write(json.dumps(_doc(incident), indent=2, ensure_ascii=False) + "\n")


@incidents_app.command("record")
@handles_errors
def record(
    system: Annotated[int, typer.Option(help="The system's id.")],
    title: Annotated[str, typer.Option()],
    category: Annotated[Category, typer.Option()],
    severity: Annotated[Severity, typer.Option()],
    harm: Annotated[str, typer.Option(help="Harm done or nearly done, and to whom (no names).")],
    as_email: AsOption = None,
    people: Annotated[int | None, typer.Option(help="People affected, if known.")] = None,
    root_cause: Annotated[str, typer.Option()] = "",
    corrective_action: Annotated[str, typer.Option()] = "",
    public_summary: Annotated[
        str, typer.Option(help="Required for serious and critical incidents; no personal data.")
    ] = "",
    occurred: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    case: Annotated[int | None, typer.Option(help="The case this confirms.")] = None,
) -> None:
    """Record a confirmed incident; the system's signed assessments become stale."""
    when: datetime | None = None
    if occurred:
        try:
            day = date.fromisoformat(occurred)
        except ValueError:
            raise Invalid(f"--occurred {occurred!r}: give a date as YYYY-MM-DD.") from None
        when = datetime(day.year, day.month, day.day)
    c = container()
    incident = c.incidents.record(
        as_user(c, _actor(as_email)),
        system,
        IncidentDraft(
            title=title,
            category=category,
            harm=harm,
            severity=severity,
            people_affected=people,
            root_cause=root_cause,
            corrective_action=corrective_action,
            public_summary=public_summary,
            occurred_at=when,
        ),
        case,
    )
    out.print(f"recorded incident {incident.id}; signed assessments of system {system} are stale")


@incidents_app.command("resolve")
@handles_errors
def resolve(incident_id: int, as_email: AsOption = None) -> None:
    """Resolve an incident whose root cause and corrective action are recorded."""
    c = container()
    incident = c.incidents.resolve(as_user(c, _actor(as_email)), incident_id)
    out.print(f"incident {incident.id} is {incident.status.value}")


@incidents_app.command("export")
@handles_errors
def export(system: int, fmt: FormatOption = "aiid", as_email: AsOption = None) -> None:
    """A system's incidents as AIID incident records or AVID reports (JSON on stdout)."""
    c = container()
    records = c.incidents.export(as_user(c, _actor(as_email)), system, _format(fmt))
    sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")


@incidents_app.command("import")
@handles_errors
def import_file(
    system: int,
    file: Annotated[Path, typer.Argument(help="JSON: one record or a list.")],
    severity: Annotated[Severity, typer.Option(help="The formats carry no severity of ours.")],
    fmt: FormatOption = "aiid",
    category: Annotated[Category, typer.Option(help="For AIID records.")] = Category.OTHER,
    as_email: AsOption = None,
) -> None:
    """Import AIID incidents or AVID reports as incidents of a system."""
    try:
        if file.stat().st_size > IMPORT_MAX_BYTES:  # not read into memory at all
            raise Invalid(f"{file}: larger than {IMPORT_MAX_BYTES:,} bytes.")
        data = file.read_bytes()
    except OSError as exc:
        raise Invalid(f"{file}: cannot read it ({exc.strerror}).") from None
    c = container()
    result = c.incidents.import_file(
        as_user(c, _actor(as_email)), system, _format(fmt), file.name, data, severity, category
    )
    out.print(f"imported {len(result.created)}; skipped {len(result.skipped)} already on record")

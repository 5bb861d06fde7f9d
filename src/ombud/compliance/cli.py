"""`ombud compliance`: the compliance matrix of an organisation in the terminal or as CSV/JSON."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ombud.compliance.domain import Status
from ombud.compliance.service import ComplianceFilter
from ombud.instruments.domain import Topic
from ombud.kernel.cli import AsOption, as_user, container, handles_errors, out
from ombud.kernel.errors import Invalid

STATUS_STYLE = {
    Status.MET: "green",
    Status.PARTLY: "yellow",
    Status.NOT_MET: "red",
    Status.NOT_APPLICABLE: "dim",
}


@handles_errors
def compliance(
    system_id: int,
    as_email: AsOption = None,
    instrument: Annotated[str | None, typer.Option(help="Only this instrument.")] = None,
    topic: Annotated[Topic | None, typer.Option(help="Only this topic.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """The compliance matrix of one AI system: which requirements apply, and their status."""
    c = container()
    if not as_email:
        raise Invalid("Name the account to act as with --as (its roles apply).")
    result = c.compliance.for_system(
        as_user(c, as_email), system_id, ComplianceFilter(instrument, topic)
    )
    if as_json:
        rows = [
            {
                "requirement": r.requirement.id,
                "provisions": list(r.requirement.provisions),
                "status": r.status.value,
                "reason": r.reason,
            }
            for r in result.results
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    out.print(f"[bold]{result.system.details.name}[/bold] — {result.organisation.name}")
    for iid, a in result.applicability.items():
        label = a.outcome.label if a.outcome else "Does not apply"
        out.print(f"  {iid}: [bold]{label}[/bold] — {a.explanation}", highlight=False)
    table = Table("requirement", "provisions", "status", "evidence or reason")
    for r in result.results:
        style = STATUS_STYLE[r.status]
        table.add_row(
            r.requirement.title,
            ", ".join(r.requirement.provisions),
            f"[{style}]{r.status.label}[/{style}]",
            r.reason,
        )
    out.print(table)
    counts = result.counts
    out.print(", ".join(f"{s.label}: {counts[s]}" for s in Status))

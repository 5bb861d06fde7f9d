"""`ombud cases ...`: the triage queue and case handling from the command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ombud.kernel.cli import AsOption, as_user, container, handles_errors, out
from ombud.kernel.errors import Invalid
from ombud.remedies.domain import CaseState

cases_app = typer.Typer(no_args_is_help=True, help="Reports, complaints, human reviews.")


def _actor_email(as_email: str | None) -> str:
    if not as_email:
        raise Invalid("Name the account to act as with --as (its roles apply).")
    return as_email


@cases_app.command("list")
@handles_errors
def list_cases(
    as_email: AsOption = None,
    state: Annotated[CaseState | None, typer.Option()] = None,
    escalated: Annotated[bool, typer.Option(help="The oversight queue.")] = False,
) -> None:
    """The triage queue (or, with --escalated, an oversight body's queue)."""
    c = container()
    actor = as_user(c, _actor_email(as_email))
    page = (
        c.remedies.oversight_queue(actor, 0, 100)
        if escalated
        else c.remedies.cases(actor, state, 0, 100)
    )
    table = Table("id", "code", "kind", "category", "state", "received", "due")
    for x in page.items:
        table.add_row(
            str(x.id),
            x.tracking_code,
            x.kind.value,
            x.category.value,
            x.state.value,
            f"{x.created_at:%Y-%m-%d}",
            f"{x.deadline:%Y-%m-%d}" if x.deadline else "—",
        )
    out.print(table)
    out.print(f"{page.total} cases")


@cases_app.command("show")
@handles_errors
def show(case_id: int, as_email: AsOption = None) -> None:
    """One case with its messages and notes, as JSON."""
    c = container()
    v = c.remedies.get(as_user(c, _actor_email(as_email)), case_id)
    x = v.case
    doc = {
        "id": x.id,
        "tracking_code": x.tracking_code,
        "system": v.system_name,
        "kind": x.kind.value,
        "category": x.category.value,
        "state": x.state.value,
        "description": x.description,
        "decision_reference": x.decision_reference,
        "outcome": x.outcome,
        "overdue": v.overdue,
        "messages": [
            {"at": m.at.isoformat(), "author": m.author, "internal": m.internal, "text": m.text}
            for m in v.messages
        ],
    }
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


@cases_app.command("assign")
@handles_errors
def assign(
    case_id: int,
    reviewer: Annotated[str, typer.Option(help="E-mail of the handler.")],
    original_decider: Annotated[
        str, typer.Option(help="Who took the decision under review (human review).")
    ] = "",
    as_email: AsOption = None,
) -> None:
    """Assign a case; a human review goes to someone who had no part in the decision."""
    c = container()
    c.remedies.assign(as_user(c, _actor_email(as_email)), case_id, reviewer, original_decider)
    out.print(f"case {case_id} assigned to {reviewer}")


@cases_app.command("decide")
@handles_errors
def decide(
    case_id: int,
    outcome: Annotated[str, typer.Option(help="The reasoned outcome, sent to the person.")],
    as_email: AsOption = None,
) -> None:
    """Decide a case under review, with reasons."""
    c = container()
    case = c.remedies.move(
        as_user(c, _actor_email(as_email)), case_id, CaseState.DECIDED, outcome=outcome
    )
    out.print(f"case {case.id} decided")


@cases_app.command("move")
@handles_errors
def move(
    case_id: int,
    state: CaseState,
    message: Annotated[str, typer.Option(help="A message to the person.")] = "",
    as_email: AsOption = None,
) -> None:
    """Acknowledge, review, ask for information, close or escalate a case."""
    c = container()
    case = c.remedies.move(as_user(c, _actor_email(as_email)), case_id, state, message)
    out.print(f"case {case.id} is now {case.state.value}")

"""`ombud systems`: list, show, move and publish AI systems in the register."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from ombud.kernel.cli import AsOption, as_user, container, handles_errors, out
from ombud.kernel.errors import Invalid
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState
from ombud.register.ports import SystemFilter

systems_app = typer.Typer(no_args_is_help=True, help="AI systems in the register.")


@systems_app.command("list")
@handles_errors
def systems_list(
    as_email: AsOption = None,
    org: Annotated[str | None, typer.Option(help="Organisation slug or id.")] = None,
    stage: Annotated[LifecycleStage | None, typer.Option()] = None,
    text: Annotated[str, typer.Option(help="Text search.")] = "",
    public: Annotated[bool, typer.Option(help="Search the public register instead.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines output.")] = False,
) -> None:
    """List AI systems: the public register, or those an account may see."""
    c = container()
    org_id = c.accounts.get_organisation(org).id if org else None
    flt = SystemFilter(organisation_id=org_id, lifecycle_stage=stage, text=text)
    if public:
        page = c.public_register.search(flt, 0, limit)
    else:
        if not as_email:
            raise Invalid("Name the account to act as with --as, or use --public.")
        page = c.register.list(as_user(c, as_email), flt, 0, limit)
    if as_json:
        for item in page.items:
            s = item.system
            sys.stdout.write(
                json.dumps(
                    {
                        "id": s.id,
                        "name": s.details.name,
                        "organisation": item.organisation.name,
                        "lifecycle_stage": s.lifecycle_stage.value,
                        "publication_state": s.publication_state.value,
                        "risk_level": s.risk_level.value,
                    }
                )
                + "\n"
            )
        return
    table = Table("id", "name", "organisation", "stage", "publication", "risk")
    for item in page.items:
        s = item.system
        table.add_row(
            str(s.id),
            s.details.name,
            item.organisation.name,
            s.lifecycle_stage.label,
            s.publication_state.value,
            s.risk_level.value,
        )
    out.print(table)
    out.print(f"{page.total} systems match")


@systems_app.command("show")
@handles_errors
def systems_show(system_id: int, as_email: AsOption = None) -> None:
    """Show one AI system's record as JSON."""
    c = container()
    view = c.register.get(as_user(c, as_email), system_id)
    record: dict[str, Any] = {
        "id": view.system.id,
        "organisation": view.organisation.name,
        "lifecycle_stage": view.system.lifecycle_stage.value,
        "publication_state": view.system.publication_state.value,
        "risk_level": view.system.risk_level.value,
        "revision": view.system.revision,
        "next_stages": [s.value for s in view.next_stages],
        **view.system.details.snapshot(),
    }
    sys.stdout.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


@systems_app.command("transition")
@handles_errors
def systems_transition(
    system_id: int,
    stage: LifecycleStage,
    reason: Annotated[str, typer.Option(help="Why (kept on the record).")],
    as_email: AsOption = None,
) -> None:
    """Move a system to another lifecycle stage."""
    c = container()
    system = c.register.transition(as_user(c, as_email), system_id, stage, reason)
    out.print(f"system {system.id} is now in {system.lifecycle_stage.label}")


@systems_app.command("publish")
@handles_errors
def systems_publish(
    system_id: int,
    state: Annotated[PublicationState, typer.Option()] = PublicationState.PUBLISHED,
    as_email: AsOption = None,
) -> None:
    """Publish (or archive, or withdraw) a system on the public register."""
    c = container()
    system = c.register.set_publication(as_user(c, as_email), system_id, state)
    out.print(f"system {system.id} is now {system.publication_state.value}")

"""`ombud ledger`: verify the chain (with a checkpoint), write checkpoints, list entries."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ombud.kernel.access import SYSTEM_PRINCIPAL, Principal
from ombud.kernel.cli import AsOption, as_user, container, err, handles_errors, out
from ombud.kernel.errors import Invalid
from ombud.kernel.ledger.ports import LedgerFilter

ledger_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit ledger.")


@ledger_app.command("verify")
@handles_errors
def ledger_verify(
    checkpoint: Annotated[
        list[str] | None,
        typer.Option(
            "--checkpoint",
            "-c",
            help="A checkpoint file (repeatable): the ledger must still hold the entry it "
            "records, with the chain intact after it.",
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            help="Check checkpoint signatures with this public key file (PEM, from `ombud "
            "ledger public-key`) instead of the installation key."
        ),
    ] = None,
    records: Annotated[
        bool, typer.Option(help="Also compare each current record with its ledger entries.")
    ] = True,
) -> None:
    """Check the chain, its MACs, checkpoints and records: exit 0 when all hold, 1 naming
    the first bad entry or record."""
    key_text = None
    if public_key is not None:
        try:
            key_text = Path(public_key).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise Invalid(f"Public key file {public_key} cannot be read: {why}.") from None
    c = container()
    report = c.ledger.check(checkpoint or (), key_text, records)
    chain = report.chain
    if chain.ok:
        out.print(f"OK: {chain.checked} entries, chain intact, every MAC holds")
    else:
        err.print(f"BROKEN at entry #{chain.first_bad_seq}: {chain.reason}", highlight=False)
        err.print(f"({chain.checked} entries before it verified)")
    for cp in report.checkpoints:
        line = f"checkpoint {cp.source} (entry #{cp.seq}): "
        if cp.ok:
            out.print(line + f"OK, {cp.reason}", highlight=False, soft_wrap=True)
        else:
            err.print(line + f"FAILED: {cp.reason}", highlight=False, soft_wrap=True)
    if report.records is not None:
        rec = report.records
        if rec.ok:
            out.print(f"records: {rec.checked} checked, each as its ledger entries say")
        for m in rec.mismatches:
            err.print(f"RECORD MISMATCH {m.describe()}", highlight=False, soft_wrap=True)
        if rec.total_mismatches > len(rec.mismatches):
            err.print(f"... and {rec.total_mismatches - len(rec.mismatches)} more mismatches")
        for note in rec.unchecked:
            out.print(f"  not checked, {note}", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command("checkpoint")
@handles_errors
def ledger_checkpoint(
    output: Annotated[
        str, typer.Option("--output", "-o", help="File to write (replaced whole); - for stdout.")
    ],
) -> None:
    """Sign the ledger's head now and write the checkpoint: keep it outside the database
    (give it to the oversight body); `ombud ledger verify --checkpoint FILE` checks it."""
    c = container()
    if output == "-":
        sys.stdout.write(c.ledger.checkpoint().to_json())
        return
    cp = c.ledger.write_checkpoint(output)
    out.print(f"checkpoint of entry #{cp.seq} written to {output} (key {cp.key_id})")


@ledger_app.command("public-key")
@handles_errors
def ledger_public_key() -> None:
    """Print the installation's public key (PEM), to check checkpoints with elsewhere."""
    sys.stdout.write(container().ledger.public_key_pem())


@ledger_app.command("list")
@handles_errors
def ledger_list(
    action: Annotated[str | None, typer.Option()] = None,
    entity: Annotated[str | None, typer.Option(help="Entity type, e.g. ai_system.")] = None,
    entity_id: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    as_email: AsOption = None,
) -> None:
    """List ledger entries, newest first."""
    c = container()
    actor = as_user(c, as_email)
    if actor is SYSTEM_PRINCIPAL:
        actor = Principal(user_id=0, email="ombud (cli)", is_superuser=True)
    page = c.ledger.list(
        actor, LedgerFilter(action=action, entity_type=entity, entity_id=entity_id), 0, limit
    )
    table = Table("#", "time (UTC)", "actor", "action", "entity", "hash")
    for e in page.items:
        table.add_row(
            str(e.seq),
            e.at.isoformat(timespec="seconds"),
            e.actor,
            e.action,
            f"{e.entity_type} {e.entity_id}",
            e.hash[:12],
        )
    out.print(table)
    out.print(f"{page.total} entries match")

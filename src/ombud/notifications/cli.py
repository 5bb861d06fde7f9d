"""`ombud mail ...`: send the e-mail outbox, look at what is queued."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ombud.kernel.cli import AsOption, as_user, container, handles_errors, out
from ombud.kernel.errors import Invalid

mail_app = typer.Typer(no_args_is_help=True, help="E-mail notifications (the outbox).")


@mail_app.command("send")
@handles_errors
def send(limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100) -> None:
    """Send the messages that are due through OMBUD_SMTP_HOST."""
    result = container().notifications.send_pending(limit)
    if result.disabled:
        raise Invalid("No SMTP server set (OMBUD_SMTP_HOST): messages stay queued.")
    out.print(f"sent {result.sent}, failed {result.failed}")


@mail_app.command("list")
@handles_errors
def list_mail(
    as_email: AsOption = None,
    pending: Annotated[bool, typer.Option(help="Only messages not yet sent.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """The outbox, newest first (platform administrators)."""
    if not as_email:
        raise Invalid("Name the account to act as with --as (a platform administrator).")
    c = container()
    table = Table("id", "to", "subject", "queued", "attempts", "state")
    for item in c.notifications.recent(as_user(c, as_email), pending, limit):
        state = (
            "sent"
            if item.sent_at
            else "given up: " + item.last_error
            if item.given_up
            else ("retrying: " + item.last_error if item.last_error else "queued")
        )
        table.add_row(
            str(item.id),
            item.recipient,
            item.subject,
            f"{item.created_at:%Y-%m-%d %H:%M}",
            str(item.attempts),
            state,
        )
    out.print(table)

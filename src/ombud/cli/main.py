"""The `ombud` command line (Typer + Rich). Reads the same OMBUD_* settings as the server."""

from __future__ import annotations

from typing import Annotated

import typer

from ombud.kernel.cli import container, err, handles_errors, lazy_root, out
from ombud.kernel.errors import Invalid
from ombud.modules import MODULES

app = typer.Typer(
    cls=lazy_root(entry for m in MODULES for entry in m.cli),
    no_args_is_help=True,
    help="ombud: AI systems register, oversight and remedies.",
)
db_app = typer.Typer(no_args_is_help=True, help="Database schema migrations.")
demo_app = typer.Typer(no_args_is_help=True, help="Demo data.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")

# -- server -------------------------------------------------------------------


@app.command()
@handles_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (OMBUD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (OMBUD_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, max=16)] = 1,
) -> None:
    """Serve the web app and the JSON API."""
    import uvicorn

    c = container()
    c.settings.check_safe()
    if c.migrations.current() != c.migrations.head():
        raise Invalid("The database schema is not up to date: run `ombud db upgrade` first.")
    c.close()
    uvicorn.run(
        "ombud.app:create_app",
        factory=True,
        host=host or c.settings.host,
        port=port or c.settings.port,
        workers=workers,
        proxy_headers=False,
        log_level="info",
    )


# -- db -----------------------------------------------------------------------


@db_app.command("upgrade")
@handles_errors
def db_upgrade(target: str = "head") -> None:
    """Apply migrations up to TARGET (default: the newest)."""
    c = container()
    setup = c.migrations.upgrade(target, create_key=True)
    out.print(f"database at revision {c.migrations.current()} ({c.migrations.dialect})")
    if setup and setup.key_created:
        out.print(
            f"ledger installation key created: {setup.key_location} (mode 0600; back it up "
            "apart from the database: without it the ledger cannot be verified)",
            highlight=False,
            soft_wrap=True,
        )
    if setup and setup.sealed:
        out.print(f"sealed {setup.sealed} ledger entries written before the key existed")
    if setup and setup.warning:
        err.print(f"[yellow]warning:[/yellow] {setup.warning}", highlight=False)


@db_app.command("downgrade")
@handles_errors
def db_downgrade(target: Annotated[str, typer.Argument(help="Revision, or 'base'.")]) -> None:
    """Revert migrations down to TARGET."""
    c = container()
    c.migrations.downgrade(target)
    out.print(f"database at revision {c.migrations.current() or 'base'}")


@db_app.command("current")
@handles_errors
def db_current() -> None:
    """Show the schema revision of the database and the newest available."""
    c = container()
    out.print(f"current: {c.migrations.current() or 'base'}  head: {c.migrations.head()}")


# -- users and organisations ----------------------------------------------------


@app.command("worker")
@handles_errors
def worker(
    once: Annotated[bool, typer.Option(help="Run what is queued, then stop.")] = False,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between looks.")] = 1.0,
) -> None:
    """Run queued bias audits (and send e-mail) outside the server."""
    import time

    c = container()
    while True:
        ran = c.audit_runs.run_pending(100 if once else 1)
        sent = c.notifications.send_pending()
        if ran or sent.sent:
            out.print(f"audits run: {ran}; e-mails sent: {sent.sent}")
        if once:
            return
        if not ran:
            time.sleep(interval)


# -- demo -----------------------------------------------------------------------


@demo_app.command("load")
@handles_errors
def demo_load(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing (and succeed) if data exists.")
    ] = False,
) -> None:
    """Load the demo organisations, people and AI systems into an empty database."""
    c = container()
    if not c.demo.is_empty():
        if if_empty:
            out.print("database already holds data; demo not loaded")
            return
        raise Invalid("The database already holds organisations; demo data needs an empty one.")
    with out.status("loading demo data (every record goes through the services)..."):
        report = c.demo.load()
    out.print(f"demo loaded: {report.organisations} organisations, {report.systems} AI systems")
    # Plain lines, never cut to the terminal's width: people copy these.
    out.print("Demo accounts (for trying ombud only):", highlight=False)
    for u in report.users:
        line = f"  {u.email:<44} {u.password:<28} {', '.join(u.roles)}"
        out.print(line, highlight=False, soft_wrap=True)


# -- ledger ---------------------------------------------------------------------


# -- systems ----------------------------------------------------------------------


if __name__ == "__main__":  # pragma: no cover
    app()

"""The `ombud` command line (Typer + Rich). Reads the same OMBUD_* settings as the server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ombud.assessments.cli import assess_app
from ombud.audits.cli import audit_app
from ombud.compliance.cli import compliance
from ombud.domain.lifecycle import LifecycleStage
from ombud.domain.ports import SystemFilter
from ombud.domain.systems import PublicationState
from ombud.incidents.cli import incidents_app
from ombud.instruments.cli import instruments_app
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Principal, Role
from ombud.kernel.cli import AsOption, as_user, container, err, handles_errors, out
from ombud.kernel.errors import Invalid
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.notifications.cli import mail_app
from ombud.remedies.cli import cases_app

app = typer.Typer(no_args_is_help=True, help="ombud: AI systems register, oversight and remedies.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema migrations.")
user_app = typer.Typer(no_args_is_help=True, help="Accounts.")
org_app = typer.Typer(no_args_is_help=True, help="Organisations, members and jurisdiction.")
demo_app = typer.Typer(no_args_is_help=True, help="Demo data.")
ledger_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit ledger.")
systems_app = typer.Typer(no_args_is_help=True, help="AI systems in the register.")
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(org_app, name="org")
app.add_typer(demo_app, name="demo")
app.add_typer(ledger_app, name="ledger")
app.add_typer(systems_app, name="systems")
app.add_typer(instruments_app, name="instruments")
app.add_typer(assess_app, name="assess")
app.add_typer(audit_app, name="audit")
app.add_typer(cases_app, name="cases")
app.add_typer(incidents_app, name="incidents")
app.add_typer(mail_app, name="mail")
app.command("compliance")(compliance)

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


@user_app.command("create")
@handles_errors
def user_create(
    email: str,
    password: Annotated[
        str | None,
        typer.Option(help="Initial password; prompted for when omitted (never echoed)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    org: Annotated[str | None, typer.Option(help="Organisation (slug or id) to join.")] = None,
    role: Annotated[Role, typer.Option(help="Role in --org.")] = Role.VIEWER,
    superuser: Annotated[bool, typer.Option(help="Platform administrator.")] = False,
) -> None:
    """Create an account, optionally with a role in an organisation."""
    if password is None:
        if not sys.stdin.isatty():
            raise Invalid("--password is required when there is no terminal to prompt on.")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    c = container()
    target = c.accounts.get_organisation(org) if org else None  # before creating anything
    user = c.accounts.create_user(SYSTEM_PRINCIPAL, email, password, name, superuser)
    if target:
        c.accounts.set_role(SYSTEM_PRINCIPAL, target.id, user.email, role)
        out.print(f"created {user.email} (id {user.id}), {role.value} in {target.name}")
    else:
        out.print(f"created {user.email} (id {user.id})")


@user_app.command("link")
@handles_errors
def user_link(email: str) -> None:
    """Print a single-use link (72 hours) for EMAIL to set its password: for an invited
    person who got no mail, or one who forgot their password. Using it signs the account
    out everywhere and revokes its API tokens; no one else's password is ever shown."""
    c = container()
    issued = c.accounts.issue_password_link(SYSTEM_PRINCIPAL, email)
    out.print(
        f"Link for {issued.email} (until {issued.expires_at:%Y-%m-%d %H:%M} UTC; give it to "
        "them, it works once):",
        highlight=False,
    )
    out.print(issued.url, highlight=False, soft_wrap=True)


@org_app.command("create")
@handles_errors
def org_create(
    name: str,
    kind: Annotated[OrganisationKind, typer.Option(help="coe-fc:3 kind of organisation.")],
    slug: Annotated[str | None, typer.Option(help="Short name used in URLs.")] = None,
    country: Annotated[str, typer.Option(help="ISO 3166 two-letter code.")] = "",
) -> None:
    """Create an organisation."""
    c = container()
    org = c.accounts.create_organisation(SYSTEM_PRINCIPAL, name, kind, slug, country)
    out.print(f"created {org.name} ({org.kind.label}), slug {org.slug}, id {org.id}")


@org_app.command("list")
@handles_errors
def org_list() -> None:
    """List organisations."""
    c = container()
    table = Table("id", "slug", "name", "kind", "country")
    for o in c.accounts.list_organisations():
        table.add_row(str(o.id), o.slug, o.name, o.kind.label, o.country)
    out.print(table)


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


@org_app.command("languages")
@handles_errors
def org_languages(
    org: str,
    languages: Annotated[str, typer.Argument(help="Codes, the default first: en,fr")],
) -> None:
    """Set the languages of ORG's public AI notices (coe-fc:15.2)."""
    c = container()
    target = c.accounts.get_organisation(org)
    done = c.accounts.set_notice_languages(SYSTEM_PRINCIPAL, target.id, languages)
    out.print(f"AI notices of {done.name}: {', '.join(done.notice_languages)}")


@org_app.command("member")
@handles_errors
def org_member(
    org: str,
    email: str,
    role: Role,
    name: Annotated[str, typer.Option(help="Display name, if the account is new.")] = "",
) -> None:
    """Give EMAIL the ROLE in ORG; an address without an account gets one, with a
    single-use link to set its password (mailed, or printed here when e-mail is off)."""
    c = container()
    target = c.accounts.get_organisation(org)
    invitation = c.accounts.invite_member(SYSTEM_PRINCIPAL, target.id, email, role, name)
    out.print(invitation.message, highlight=False, soft_wrap=True)
    if invitation.set_password_link:
        out.print("Link to set the password (works once, for 72 hours; give it to them):")
        out.print(invitation.set_password_link, highlight=False, soft_wrap=True)


@org_app.command("oversee")
@handles_errors
def org_oversee(
    oversight: Annotated[str, typer.Argument(help="Oversight body or parliament (slug).")],
    org: Annotated[str, typer.Argument(help="Organisation placed under its jurisdiction.")],
    revoke: Annotated[bool, typer.Option(help="Remove the jurisdiction instead.")] = False,
) -> None:
    """Give (or take away) an oversight body's read-only jurisdiction over ORG."""
    c = container()
    if revoke:
        c.accounts.revoke_jurisdiction(SYSTEM_PRINCIPAL, oversight, org)
        out.print(f"{oversight} no longer oversees {org}")
    else:
        c.accounts.grant_jurisdiction(SYSTEM_PRINCIPAL, oversight, org)
        out.print(f"{oversight} now oversees {org}")


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


# -- systems ----------------------------------------------------------------------


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


if __name__ == "__main__":  # pragma: no cover
    app()

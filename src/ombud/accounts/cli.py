"""`ombud user` and `ombud org`: accounts, organisations, members and jurisdiction."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.kernel.cli import container, handles_errors, out
from ombud.kernel.errors import Invalid

user_app = typer.Typer(no_args_is_help=True, help="Accounts.")


org_app = typer.Typer(no_args_is_help=True, help="Organisations, members and jurisdiction.")


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

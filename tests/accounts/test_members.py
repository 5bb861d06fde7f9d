"""Organisations, accounts and members: who creates them, invitations (nobody but the
invitee gets a credential), and who may manage members."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from ombud.accounts.domain import PASSWORD_LINK_LIFETIME
from ombud.accounts.tables import memberships, organisations, password_links, users
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from tests.accounts.support import (
    BASE,
    EMAIL,
    NEW,
    NEW_PASSWORD,
    link_token,
    mails_to,
    new_superuser,
    refused_sign_in,
    role_of,
    table_rows,
)
from tests.conftest import PASSWORD

# -- organisations and accounts ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["city-admin", "oversight-admin", "agency-admin"])
def test_only_a_platform_administrator_creates_organisations_and_accounts(container, world, who):
    actor = world[f"{who}@example.org"]
    orgs_before = len(table_rows(container, organisations))
    users_before = len(table_rows(container, users))
    with pytest.raises(Forbidden):
        container.accounts.create_organisation(
            actor, "Shadow Agency", OrganisationKind.PRIVATE_ACTOR
        )
    with pytest.raises(Forbidden):
        container.accounts.create_user(actor, "sneaky@example.org", "long enough password")
    with pytest.raises(Forbidden):
        container.accounts.grant_jurisdiction(actor, world.oversight.slug, world.agency.slug)
    assert len(table_rows(container, organisations)) == orgs_before
    assert len(table_rows(container, users)) == users_before


def test_duplicate_email_is_a_conflict_whatever_its_case(container, world):
    with pytest.raises(Conflict):
        container.accounts.create_user(SYSTEM_PRINCIPAL, "City-Editor@Example.org", PASSWORD)


def test_duplicate_slug_is_a_conflict(container, world):
    with pytest.raises(Conflict) as exc:
        container.accounts.create_organisation(
            SYSTEM_PRINCIPAL, "Another City", OrganisationKind.PUBLIC_AUTHORITY, world.city.slug
        )
    assert world.city.slug in exc.value.message
    with pytest.raises(Conflict):  # the same name slugifies to the same short name
        container.accounts.create_organisation(
            SYSTEM_PRINCIPAL, world.city.name, OrganisationKind.PUBLIC_AUTHORITY
        )


def test_bad_organisation_and_account_input_names_the_fields(container):
    acc = container.accounts
    with pytest.raises(Invalid) as exc:
        acc.create_organisation(
            SYSTEM_PRINCIPAL, " ", OrganisationKind.PARLIAMENT, "Not A Slug", "Sweden"
        )
    assert set(exc.value.field_messages()) == {"name", "slug", "country"}
    with pytest.raises(Invalid) as exc:
        acc.create_user(SYSTEM_PRINCIPAL, "not-an-email", "short")
    assert set(exc.value.field_messages()) == {"email", "password"}


def test_the_last_admin_can_be_neither_demoted_nor_removed(container, world):
    acc = container.accounts
    admin = world["city-admin@example.org"]
    with pytest.raises(Conflict) as exc:
        acc.remove_member(admin, world.city.id, admin.user_id)
    assert "at least one admin" in exc.value.message
    assert role_of(container, world.city.id, admin.email) is Role.ADMIN
    with pytest.raises(Conflict):
        acc.set_role(SYSTEM_PRINCIPAL, world.city.id, admin.email, Role.VIEWER)
    assert role_of(container, world.city.id, admin.email) is Role.ADMIN

    # With a second admin, the first may step out.
    acc.set_role(admin, world.city.id, "city-approver@example.org", Role.ADMIN)
    acc.remove_member(admin, world.city.id, admin.user_id)
    assert role_of(container, world.city.id, admin.email) is None
    with container.engines.write.connect() as conn:
        admins = conn.execute(
            select(memberships.c.user_id).where(
                memberships.c.organisation_id == world.city.id, memberships.c.role == "admin"
            )
        ).all()
    assert len(admins) == 1


# -- invitations: nobody but the invitee gets a credential ------------------------------


def test_an_invitation_gives_the_inviter_no_credential_and_mails_a_link(
    container, accounts, clock, world
):
    admin = world["city-admin@example.org"]
    invitation = accounts.invite_member(
        admin, world.city.id, " New.Person@Example.org ", Role.ASSESSOR, "New Person"
    )
    assert invitation.email == NEW
    assert invitation.set_password_link is None
    assert not hasattr(invitation, "initial_password")
    # The account exists, is a member, and cannot sign in with anything.
    stored = next(r for r in table_rows(container, users) if r["email"] == NEW)
    assert stored["claimed"] is False or stored["claimed"] == 0
    assert role_of(container, world.city.id, NEW) is Role.ASSESSOR
    assert refused_sign_in(accounts, NEW, "") == refused_sign_in(accounts, "nobody@example.org", "")

    # The link went to the invitee's address only; only its hash is stored.
    [mail] = mails_to(container, NEW)
    assert mail["subject"] == "You were invited to City of Lindholm on ombud"
    assert "as assessor" in mail["body"]
    token = link_token(container, NEW)
    [row] = table_rows(container, password_links)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)
    assert row["expires_at"] == clock.now + PASSWORD_LINK_LIFETIME
    assert row["organisation_id"] == world.city.id

    view = accounts.password_link(token)
    assert view.email == NEW
    assert accounts.set_password_with_link(token, NEW_PASSWORD) == NEW
    stored = next(r for r in table_rows(container, users) if r["email"] == NEW)
    assert stored["claimed"]
    signed = accounts.login(NEW, NEW_PASSWORD)
    assert signed.principal.role_in(world.city.id) is Role.ASSESSOR
    # Single use.
    with pytest.raises(NotFound):
        accounts.set_password_with_link(token, "another passphrase here")
    with pytest.raises(NotFound):
        accounts.password_link(token)
    assert container.ledger.verify().ok


def test_inviting_an_existing_account_gives_the_same_answer_and_only_news(
    container, accounts, world
):
    admin = world["agency-admin@example.org"]
    existing = accounts.invite_member(admin, world.agency.id, EMAIL, Role.VIEWER)
    new = accounts.invite_member(admin, world.agency.id, NEW, Role.VIEWER)
    # Same shape, same words: the answer does not tell which address had an account.
    assert existing.message.replace(EMAIL, "X") == new.message.replace(NEW, "X")
    assert (existing.set_password_link, new.set_password_link) == (None, None)
    assert [f for f in vars(existing)] == [f for f in vars(new)]
    [news] = mails_to(container, EMAIL)
    assert "set-password" not in news["body"]
    assert news["subject"] == "You were added to National Welfare Agency on ombud"
    principal = accounts.login(EMAIL, PASSWORD).principal
    assert principal.role_in(world.agency.id) is Role.VIEWER
    assert principal.role_in(world.city.id) is Role.EDITOR
    assert not [
        r for r in table_rows(container, password_links) if r["user_id"] == principal.user_id
    ]


def test_an_unclaimed_account_cannot_join_another_organisation(container, accounts, world):
    """The takeover: organisation A invites an address and removes it; organisation B
    adds the same address. The account has no password yet, so whoever might hold A's
    link must not gain B: B is refused, in words that do not say why."""
    city_admin, agency_admin = world["city-admin@example.org"], world["agency-admin@example.org"]
    accounts.invite_member(city_admin, world.city.id, NEW, Role.VIEWER)
    user_id = next(u.id for u, _ in accounts.members(city_admin, world.city.id) if u.email == NEW)
    accounts.remove_member(city_admin, world.city.id, user_id)
    before = container.ledger.verify().checked
    with pytest.raises(Conflict) as exc:
        accounts.invite_member(agency_admin, world.agency.id, NEW, Role.EDITOR)
    assert "cannot be added at the moment" in exc.value.message
    assert "password" not in exc.value.message
    assert "account" not in exc.value.message
    assert role_of(container, world.agency.id, NEW) is None
    assert container.ledger.verify().checked == before
    with pytest.raises(Conflict):  # nor through the operator's command
        accounts.set_role(SYSTEM_PRINCIPAL, world.agency.id, NEW, Role.EDITOR)
    # Its own organisation may invite it again.
    accounts.invite_member(city_admin, world.city.id, NEW, Role.VIEWER)
    accounts.set_password_with_link(link_token(container, NEW), NEW_PASSWORD)
    # Once claimed, B may add it like any account.
    accounts.invite_member(agency_admin, world.agency.id, NEW, Role.EDITOR)
    assert accounts.login(NEW, NEW_PASSWORD).principal.role_in(world.agency.id) is Role.EDITOR


def test_without_mail_only_a_platform_administrator_sees_the_link_once(container, no_mail, world):
    root = new_superuser(container)
    org = container.accounts.create_organisation(
        root, "Port Authority", OrganisationKind.PUBLIC_AUTHORITY
    )
    first = no_mail.invite_member(root, org.id, NEW, Role.ADMIN)
    assert first.set_password_link
    assert first.set_password_link.startswith(BASE)
    assert "E-mail is off" in first.message
    assert not mails_to(container, NEW)  # not left waiting in the outbox either
    # An organisation's admin never sees one, for a new address or not; nor does a
    # platform administrator who is also an admin there, adding as an admin does.
    container.accounts.set_role(SYSTEM_PRINCIPAL, world.city.id, root.email, Role.ADMIN)
    root_admin = container.accounts.principal_for_user(root.user_id)
    for admin in (world["city-admin@example.org"], root_admin):
        for email in (f"new-{admin.user_id}@example.org", "agency-viewer@example.org"):
            answer = no_mail.invite_member(admin, world.city.id, email, Role.VIEWER)
            assert answer.set_password_link is None
    no_mail.set_password_with_link(first.set_password_link.rsplit("/", 1)[1], NEW_PASSWORD)
    assert no_mail.login(NEW, NEW_PASSWORD).principal.role_in(org.id) is Role.ADMIN


# -- who manages members: no one grants themselves anything -----------------------------


@pytest.mark.parametrize("who", ["city-admin", "root"])
def test_nobody_gives_themselves_a_role(container, world, who):
    acc = container.accounts
    actor = world["city-admin@example.org"] if who == "city-admin" else new_superuser(container)
    empty = acc.create_organisation(SYSTEM_PRINCIPAL, "Empty Org", OrganisationKind.PRIVATE_ACTOR)
    for org_id in (world.city.id, world.agency.id, empty.id):
        for attempt in (
            lambda o=org_id: acc.invite_member(actor, o, actor.email, Role.ADMIN),
            lambda o=org_id: acc.set_role(actor, o, actor.email, Role.ADMIN),
        ):
            with pytest.raises(Forbidden):
                attempt()
    assert actor.email not in {u.email for u, _ in acc.members(SYSTEM_PRINCIPAL, empty.id)}
    assert acc.principal_for_user(actor.user_id).memberships == actor.memberships


def test_a_platform_administrator_adds_the_first_admin_and_then_steps_out(container, world):
    acc = container.accounts
    root = new_superuser(container)
    org = acc.create_organisation(root, "Port Authority", OrganisationKind.PUBLIC_AUTHORITY)
    assert acc.member_rights(root, org.id).roles == (Role.ADMIN,)
    with pytest.raises(Forbidden, match="first admin"):
        acc.invite_member(root, org.id, "viewer@port.example", Role.VIEWER)
    acc.invite_member(root, org.id, "admin@port.example", Role.ADMIN)
    # Now the organisation has an admin: only its admins manage its members.
    assert not acc.member_rights(root, org.id).manage
    for attempt in (
        lambda: acc.invite_member(root, org.id, "second@port.example", Role.ADMIN),
        lambda: acc.set_role(root, org.id, "admin@port.example", Role.VIEWER),
        lambda: acc.set_role(root, world.city.id, "city-viewer@example.org", Role.ADMIN),
        lambda: acc.invite_member(root, world.city.id, "accomplice@example.org", Role.ADMIN),
        lambda: acc.remove_member(root, world.city.id, world["city-viewer@example.org"].user_id),
    ):
        with pytest.raises(Forbidden, match="own admins"):
            attempt()
    # They may still see who the members are (not their records).
    assert {u.email for u, _ in acc.members(root, world.city.id)} >= {"city-admin@example.org"}
    # The operator (command line, demo, tests) still may.
    acc.set_role(SYSTEM_PRINCIPAL, world.city.id, "city-viewer@example.org", Role.EDITOR)
    assert role_of(container, world.city.id, "city-viewer@example.org") is Role.EDITOR


def test_a_platform_administrator_cannot_widen_the_jurisdiction_of_a_body_they_belong_to(
    container, world
):
    acc = container.accounts
    root = new_superuser(container)
    acc.set_role(SYSTEM_PRINCIPAL, world.parliament.id, root.email, Role.VIEWER)
    root = acc.principal_for_user(root.user_id)
    for attempt in (
        lambda: acc.grant_jurisdiction(root, world.parliament.slug, world.agency.slug),
        lambda: acc.revoke_jurisdiction(root, world.parliament.slug, world.agency.slug),
    ):
        with pytest.raises(Forbidden, match="member of"):
            attempt()
    assert world.parliament.id not in {o.id for o in acc.grantable_overseers(root)}
    assert acc.jurisdiction(world.parliament.slug)[0] == []
    # Another platform administrator may; so may the operator.
    other = new_superuser(container, "root2@example.org")
    acc.grant_jurisdiction(other, world.parliament.slug, world.agency.slug)
    acc.revoke_jurisdiction(SYSTEM_PRINCIPAL, world.parliament.slug, world.agency.slug)
    # And a body they do not belong to is theirs to change.
    acc.grant_jurisdiction(root, world.oversight.slug, world.agency.slug)
    assert world.agency.id in {o.id for o in acc.jurisdiction(world.oversight.slug)[0]}

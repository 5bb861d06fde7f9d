"""Sign-in, lockout, sessions, API tokens, organisations and members."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from ombud.adapters.db.tables import api_tokens, memberships, organisations, users
from ombud.adapters.passwords import Argon2PasswordHasher
from ombud.domain.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.domain.accounts import LOCKOUT, MAX_FAILED_LOGINS
from ombud.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from ombud.services.accounts import AccountsService
from tests.conftest import PASSWORD

EMAIL = "city-editor@example.org"


class FakeClock:
    """A clock the test moves by hand: no sleeping for lockouts and expiries."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts(container, clock) -> AccountsService:
    """The accounts service on the test database, with a clock the test controls."""
    return AccountsService(
        container.accounts.uow_factory, Argon2PasswordHasher(fast=True), clock=clock
    )


def _rows(container, table) -> list[dict]:
    with container.engines.write.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table))]


# -- sign-in ----------------------------------------------------------------------------


def test_login_with_the_right_password_gives_a_session(container, world):
    signed = container.accounts.login(EMAIL, PASSWORD)
    assert signed.principal.email == EMAIL
    assert signed.principal.role_in(world.city.id) is Role.EDITOR
    info = container.accounts.session(signed.session_token)
    assert info.principal.user_id == signed.principal.user_id
    assert info.csrf_token == signed.csrf_token


def test_login_ignores_case_and_surrounding_spaces_in_the_email(container, world):
    assert container.accounts.login("  City-Editor@Example.ORG ", PASSWORD).principal.email == (
        EMAIL
    )


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(container, world):
    with pytest.raises(Unauthenticated) as wrong:
        container.accounts.login(EMAIL, "not the password at all")
    with pytest.raises(Unauthenticated) as unknown:
        container.accounts.login("nobody@example.org", PASSWORD)
    assert wrong.value.message == unknown.value.message


def test_the_account_locks_after_five_failures_and_unlocks_after_the_lockout(
    accounts, clock, world
):
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(Unauthenticated):
            accounts.login(EMAIL, "wrong password guess")
    # Even the right password is refused while the lock lasts.
    with pytest.raises(Forbidden) as exc:
        accounts.login(EMAIL, PASSWORD)
    assert "locked" in exc.value.message
    clock.advance(LOCKOUT - timedelta(seconds=1))
    with pytest.raises(Forbidden, match="locked"):
        accounts.login(EMAIL, PASSWORD)

    clock.advance(timedelta(seconds=2))
    assert accounts.login(EMAIL, PASSWORD).principal.email == EMAIL
    # After the lockout the count starts again: one slip does not lock the account.
    with pytest.raises(Unauthenticated):
        accounts.login(EMAIL, "wrong password guess")
    assert accounts.login(EMAIL, PASSWORD).principal.email == EMAIL


def test_the_lockout_message_tells_the_true_wait(accounts, clock, world):
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(Unauthenticated):
            accounts.login(EMAIL, "wrong password guess")
    minutes = int(LOCKOUT.total_seconds() // 60)
    with pytest.raises(Forbidden) as exc:
        accounts.login(EMAIL, PASSWORD)
    assert f"try again in {minutes} minutes" in exc.value.message
    clock.advance(timedelta(minutes=minutes - 1))
    with pytest.raises(Forbidden) as exc:
        accounts.login(EMAIL, PASSWORD)
    assert "try again in 1 minute" in exc.value.message


def test_a_successful_login_resets_the_failure_count(accounts, world):
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(Unauthenticated):
            accounts.login(EMAIL, "wrong password guess")
    accounts.login(EMAIL, PASSWORD)
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(Unauthenticated):
            accounts.login(EMAIL, "wrong password guess")
    assert accounts.login(EMAIL, PASSWORD).principal.email == EMAIL


def test_failed_logins_are_in_the_ledger(container, accounts, world):
    with pytest.raises(Unauthenticated):
        accounts.login(EMAIL, "wrong password guess")
    superuser = SYSTEM_PRINCIPAL
    entries = container.ledger.list(superuser, limit=5).items
    assert entries[0].action == "login_failed"
    assert entries[0].actor == EMAIL
    assert container.ledger.verify().ok


# -- sessions -----------------------------------------------------------------------------


def test_a_session_expires_after_its_lifetime(accounts, clock, world):
    signed = accounts.login(EMAIL, PASSWORD)
    clock.advance(accounts.session_lifetime - timedelta(seconds=1))
    assert accounts.session(signed.session_token).principal.email == EMAIL
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated) as exc:
        accounts.session(signed.session_token)
    assert "expired" in exc.value.message


def test_logout_ends_that_session_only(container, world):
    acc = container.accounts
    first = acc.login(EMAIL, PASSWORD)
    second = acc.login(EMAIL, PASSWORD)
    acc.logout(first.session_token)
    with pytest.raises(Unauthenticated):
        acc.session(first.session_token)
    assert acc.session(second.session_token).principal.email == EMAIL
    acc.logout(first.session_token)  # a second logout is harmless


def test_session_tokens_are_not_stored_in_clear(container, world):
    signed = container.accounts.login(EMAIL, PASSWORD)
    with container.engines.write.connect() as conn:
        stored = [dict(r._mapping) for r in conn.exec_driver_sql("SELECT * FROM web_sessions")]
    assert stored
    assert all(signed.session_token not in str(row) for row in stored)


def test_an_unknown_session_token_is_refused(container, world):
    with pytest.raises(Unauthenticated):
        container.accounts.session("made-up-token")


# -- API tokens ---------------------------------------------------------------------------


def test_api_token_is_hashed_at_rest_and_identifies_its_owner(container, world):
    me = world[EMAIL]
    issued = container.accounts.create_token(me, "CI export")
    assert issued.token.startswith("ombud_")

    rows = _rows(container, api_tokens)
    assert len(rows) == 1
    row = rows[0]
    assert row["token_hash"] != issued.token
    assert len(row["token_hash"]) == 64
    for value in row.values():
        assert issued.token not in str(value)
    assert issued.token.startswith(row["prefix"])
    assert len(row["prefix"]) < len(issued.token) // 2

    principal = container.accounts.principal_for_token(issued.token)
    assert principal.user_id == me.user_id
    assert principal.role_in(world.city.id) is Role.EDITOR


def test_a_revoked_token_is_refused(container, world):
    me = world[EMAIL]
    issued = container.accounts.create_token(me, "laptop")
    container.accounts.revoke_token(me, issued.record.id)
    with pytest.raises(Unauthenticated) as exc:
        container.accounts.principal_for_token(issued.token)
    assert "revoked" in exc.value.message


def test_only_the_owner_can_revoke_a_token(container, world):
    issued = container.accounts.create_token(world[EMAIL], "laptop")
    with pytest.raises(NotFound):
        container.accounts.revoke_token(world["city-admin@example.org"], issued.record.id)
    assert container.accounts.principal_for_token(issued.token).email == EMAIL


def test_an_expired_token_is_refused(accounts, clock, world):
    issued = accounts.create_token(world[EMAIL], "one-day job", expires_days=1)
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert accounts.principal_for_token(issued.token).email == EMAIL
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthenticated) as exc:
        accounts.principal_for_token(issued.token)
    assert "expired" in exc.value.message


@pytest.mark.parametrize("token", ["ombud_not-a-real-token", "not-even-the-prefix", ""])
def test_unknown_or_malformed_tokens_are_refused(container, world, token):
    with pytest.raises(Unauthenticated):
        container.accounts.principal_for_token(token)


# -- passwords ------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_never_in_clear(container, world):
    rows = _rows(container, users)
    assert len(rows) == len(world.users)
    for row in rows:
        assert row["password_hash"].startswith("$argon2id$")
        assert PASSWORD not in row["password_hash"]
    with container.engines.write.connect() as conn:
        dump = [str(tuple(r)) for r in conn.execute(select(users))]
    assert not any(PASSWORD in line for line in dump)


def test_change_password_signs_out_everywhere(container, world):
    acc = container.accounts
    signed = acc.login(EMAIL, PASSWORD)
    with pytest.raises(Invalid) as exc:
        acc.change_password(signed.principal, "wrong current password", "a brand new passphrase")
    assert set(exc.value.field_messages()) == {"current_password"}
    acc.change_password(signed.principal, PASSWORD, "a brand new passphrase")
    with pytest.raises(Unauthenticated):
        acc.session(signed.session_token)
    with pytest.raises(Unauthenticated):
        acc.login(EMAIL, PASSWORD)
    assert acc.login(EMAIL, "a brand new passphrase").principal.email == EMAIL


# -- organisations and accounts ---------------------------------------------------------------


@pytest.mark.parametrize("who", ["city-admin", "oversight-admin", "agency-admin"])
def test_only_a_platform_administrator_creates_organisations_and_accounts(container, world, who):
    actor = world[f"{who}@example.org"]
    orgs_before = len(_rows(container, organisations))
    users_before = len(_rows(container, users))
    with pytest.raises(Forbidden):
        container.accounts.create_organisation(
            actor, "Shadow Agency", OrganisationKind.PRIVATE_ACTOR
        )
    with pytest.raises(Forbidden):
        container.accounts.create_user(actor, "sneaky@example.org", "long enough password")
    with pytest.raises(Forbidden):
        container.accounts.grant_jurisdiction(actor, world.oversight.slug, world.agency.slug)
    assert len(_rows(container, organisations)) == orgs_before
    assert len(_rows(container, users)) == users_before


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


def _role_of(container, org_id: int, email: str) -> Role | None:
    members = container.accounts.members(SYSTEM_PRINCIPAL, org_id)
    return {u.email: r for u, r in members}.get(email)


def test_the_last_admin_can_be_neither_demoted_nor_removed(container, world):
    acc = container.accounts
    admin = world["city-admin@example.org"]
    with pytest.raises(Conflict) as exc:
        acc.set_role(admin, world.city.id, admin.email, Role.EDITOR)
    assert "at least one admin" in exc.value.message
    assert _role_of(container, world.city.id, admin.email) is Role.ADMIN
    with pytest.raises(Conflict):
        acc.remove_member(admin, world.city.id, admin.user_id)
    assert _role_of(container, world.city.id, admin.email) is Role.ADMIN
    with pytest.raises(Conflict):
        acc.set_role(SYSTEM_PRINCIPAL, world.city.id, admin.email, Role.VIEWER)
    assert _role_of(container, world.city.id, admin.email) is Role.ADMIN

    # With a second admin, the first may step down.
    acc.set_role(admin, world.city.id, "city-approver@example.org", Role.ADMIN)
    acc.set_role(admin, world.city.id, admin.email, Role.EDITOR)
    assert _role_of(container, world.city.id, admin.email) is Role.EDITOR
    with container.engines.write.connect() as conn:
        admins = conn.execute(
            select(memberships.c.user_id).where(
                memberships.c.organisation_id == world.city.id, memberships.c.role == "admin"
            )
        ).all()
    assert len(admins) == 1


def test_an_invitation_creates_an_account_whose_initial_password_works(container, world):
    acc = container.accounts
    admin = world["city-admin@example.org"]
    invitation = acc.invite_member(
        admin, world.city.id, " New.Person@Example.org ", Role.ASSESSOR, "New Person"
    )
    assert invitation.user.email == "new.person@example.org"
    assert invitation.initial_password
    stored = next(r for r in _rows(container, users) if r["email"] == "new.person@example.org")
    assert invitation.initial_password not in stored["password_hash"]

    signed = acc.login("new.person@example.org", invitation.initial_password)
    assert signed.principal.role_in(world.city.id) is Role.ASSESSOR


def test_inviting_an_existing_account_gives_it_the_role_without_a_new_password(container, world):
    acc = container.accounts
    invitation = acc.invite_member(
        world["agency-admin@example.org"], world.agency.id, EMAIL, Role.VIEWER
    )
    assert invitation.initial_password is None
    principal = acc.login(EMAIL, PASSWORD).principal
    assert principal.role_in(world.agency.id) is Role.VIEWER
    assert principal.role_in(world.city.id) is Role.EDITOR

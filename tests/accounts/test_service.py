"""Sign-in and its throttle, sessions, API tokens, passwords and set-password links,
organisations, members and who may manage them."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from ombud.accounts.domain import (
    FREE_SIGN_IN_FAILURES,
    PASSWORD_LINK_LIFETIME,
    SIGN_IN_MAX_WAIT,
    SIGN_IN_MEMORY,
    sign_in_wait,
)
from ombud.accounts.passwords import Argon2PasswordHasher
from ombud.accounts.service import SIGN_IN_REFUSED, AccountsService
from ombud.accounts.tables import (
    api_tokens,
    memberships,
    organisations,
    password_links,
    sign_in_throttle,
    users,
)
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.kernel.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from ombud.notifications.tables import outbox
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


BASE = "https://ombud.example.org"
LINK_RE = re.compile(re.escape(BASE) + r"/set-password/([A-Za-z0-9_-]+)")
NEW = "new.person@example.org"
NEW_PASSWORD = "a passphrase of my own"


def _service(container, clock, mail: bool) -> AccountsService:
    return AccountsService(
        container.accounts.uow_factory,
        Argon2PasswordHasher(fast=True),
        clock=clock,
        base_url=BASE,
        mail_enabled=mail,
    )


@pytest.fixture
def accounts(container, clock) -> AccountsService:
    """The accounts service on the test database, with a clock the test controls and
    e-mail on (links are mailed through the outbox)."""
    return _service(container, clock, mail=True)


@pytest.fixture
def no_mail(container, clock) -> AccountsService:
    """The same service on an installation without e-mail."""
    return _service(container, clock, mail=False)


def _mails_to(container, address: str) -> list[dict]:
    return [r for r in _rows(container, outbox) if r["recipient"] == address]


def _link_token(container, address: str) -> str:
    """The token of the newest set-password link mailed to the address."""
    found = [m for r in _mails_to(container, address) for m in LINK_RE.findall(r["body"])]
    assert found, f"no set-password link was mailed to {address}"
    return found[-1]


def _email_hash(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


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


def _fail(accounts, email: str = EMAIL, password: str = "wrong password guess") -> str:
    with pytest.raises(Unauthenticated) as exc:
        accounts.login(email, password)
    assert exc.value.http_status == 401
    return exc.value.message


def test_failures_slow_sign_in_down_instead_of_locking_the_account(accounts, clock, world):
    """A stranger's wrong guesses never lock the owner out: once the wait since the last
    failure has passed, the right password works and the count starts again."""
    for _ in range(FREE_SIGN_IN_FAILURES):
        assert _fail(accounts) == SIGN_IN_REFUSED  # a few slips cost nothing
    assert "try again in 1 second." in _fail(accounts)  # then the waits begin
    # During the wait even the right password is not heard.
    assert "try again in 1 second." in _fail(accounts, password=PASSWORD)
    clock.advance(timedelta(seconds=1))
    assert accounts.login(EMAIL, PASSWORD).principal.email == EMAIL
    # The count starts again: the next slip is free.
    assert _fail(accounts) == SIGN_IN_REFUSED
    assert accounts.login(EMAIL, PASSWORD).principal.email == EMAIL


def test_each_further_failure_doubles_the_wait_up_to_a_cap(accounts, clock, world):
    waits = []
    for _ in range(FREE_SIGN_IN_FAILURES + 12):
        _fail(accounts)
        with accounts.uow_factory(readonly=True) as uow:
            throttle = uow.sign_in_throttle.get(_email_hash(EMAIL))
        assert throttle is not None
        waits.append(throttle.wait(clock.now))
        clock.advance(throttle.wait(clock.now))  # each attempt as soon as it is heard
    assert waits[:FREE_SIGN_IN_FAILURES] == [timedelta(0)] * FREE_SIGN_IN_FAILURES
    assert [w.total_seconds() for w in waits[FREE_SIGN_IN_FAILURES:][:5]] == [1, 2, 4, 8, 16]
    assert max(waits) == SIGN_IN_MAX_WAIT == waits[-1]
    assert accounts.login(EMAIL, PASSWORD).principal.email == EMAIL


def test_an_attempt_during_the_wait_is_refused_without_checking_the_password(
    container, world, clock
):
    class CountingHasher(Argon2PasswordHasher):
        checks = 0

        def verify(self, password_hash: str, password: str) -> bool:
            CountingHasher.checks += 1
            return super().verify(password_hash, password)

    accounts = AccountsService(
        container.accounts.uow_factory, CountingHasher(fast=True), clock=clock
    )
    for _ in range(FREE_SIGN_IN_FAILURES + 1):
        _fail(accounts)
    checked = CountingHasher.checks
    before = container.ledger.verify().checked
    assert "try again in 1 second." in _fail(accounts, password=PASSWORD)
    assert CountingHasher.checks == checked
    assert container.ledger.verify().checked == before  # and nothing is written for it


def test_known_and_unknown_addresses_get_the_same_answers(container, accounts, world):
    """Unknown addresses are counted and slowed down exactly like known ones: no answer,
    no wait and no status tells whether an account exists."""
    nobody = "nobody@example.org"
    for _ in range(FREE_SIGN_IN_FAILURES + 3):
        assert _fail(accounts, EMAIL) == _fail(accounts, nobody)
    assert _fail(accounts, EMAIL, PASSWORD) == _fail(accounts, nobody, PASSWORD)
    rows = {r["email_hash"]: r for r in _rows(container, sign_in_throttle)}
    known, unknown = rows[_email_hash(EMAIL)], rows[_email_hash(nobody)]
    assert (known["failures"], known["not_before"]) == (unknown["failures"], unknown["not_before"])
    assert EMAIL not in str(rows)
    assert nobody not in str(rows)  # addresses are kept only as hashes


def test_the_throttle_is_per_address_whatever_its_case(accounts, world):
    for _ in range(FREE_SIGN_IN_FAILURES + 1):
        _fail(accounts, " City-Editor@Example.ORG ")
    assert "try again" in _fail(accounts, EMAIL, PASSWORD)
    # Someone else is not slowed down by it.
    assert accounts.login("city-viewer@example.org", PASSWORD).principal


def test_failures_are_forgotten_a_day_after_the_last(accounts, clock, world):
    for _ in range(FREE_SIGN_IN_FAILURES):
        _fail(accounts)
    clock.advance(SIGN_IN_MEMORY + timedelta(seconds=1))
    for _ in range(FREE_SIGN_IN_FAILURES):
        assert _fail(accounts) == SIGN_IN_REFUSED  # free again: the count started over
    assert "try again in 1 second." in _fail(accounts)


def test_the_wait_schedule():
    free = [0.0] * (FREE_SIGN_IN_FAILURES + 1)
    waits = [sign_in_wait(n).total_seconds() for n in range(FREE_SIGN_IN_FAILURES + 4)]
    assert waits == [*free, 1.0, 2.0, 4.0]
    assert sign_in_wait(10_000) == SIGN_IN_MAX_WAIT
    assert timedelta(minutes=10) >= SIGN_IN_MAX_WAIT  # a few minutes at most


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


def test_change_password_signs_out_everywhere_and_revokes_every_api_token(container, world):
    acc = container.accounts
    signed = acc.login(EMAIL, PASSWORD)
    laptop = acc.create_token(signed.principal, "laptop")
    ci = acc.create_token(signed.principal, "ci")
    other = acc.create_token(world["city-viewer@example.org"], "someone else's")
    with pytest.raises(Invalid) as exc:
        acc.change_password(signed.principal, "wrong current password", "a brand new passphrase")
    assert set(exc.value.field_messages()) == {"current_password"}
    assert acc.principal_for_token(laptop.token).email == EMAIL  # a refusal changes nothing

    acc.change_password(signed.principal, PASSWORD, "a brand new passphrase")
    with pytest.raises(Unauthenticated):
        acc.session(signed.session_token)
    for issued in (laptop, ci):
        with pytest.raises(Unauthenticated, match="revoked"):
            acc.principal_for_token(issued.token)
    assert acc.principal_for_token(other.token).email == "city-viewer@example.org"
    assert all(t.revoked_at is not None for t in acc.tokens(signed.principal))
    with pytest.raises(Unauthenticated):
        acc.login(EMAIL, PASSWORD)
    assert acc.login(EMAIL, "a brand new passphrase").principal.email == EMAIL
    # Each revocation is in the ledger, in the same transaction as the change.
    entries = container.ledger.list(SYSTEM_PRINCIPAL, limit=10).items
    revoked = {e.entity_id for e in entries if e.action == "token_revoke"}
    assert revoked == {str(laptop.record.id), str(ci.record.id)}
    assert all(e.actor == EMAIL for e in entries if e.action == "token_revoke")
    assert container.ledger.verify().ok


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
        acc.remove_member(admin, world.city.id, admin.user_id)
    assert "at least one admin" in exc.value.message
    assert _role_of(container, world.city.id, admin.email) is Role.ADMIN
    with pytest.raises(Conflict):
        acc.set_role(SYSTEM_PRINCIPAL, world.city.id, admin.email, Role.VIEWER)
    assert _role_of(container, world.city.id, admin.email) is Role.ADMIN

    # With a second admin, the first may step out.
    acc.set_role(admin, world.city.id, "city-approver@example.org", Role.ADMIN)
    acc.remove_member(admin, world.city.id, admin.user_id)
    assert _role_of(container, world.city.id, admin.email) is None
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
    stored = next(r for r in _rows(container, users) if r["email"] == NEW)
    assert stored["claimed"] is False or stored["claimed"] == 0
    assert _role_of(container, world.city.id, NEW) is Role.ASSESSOR
    assert _fail(accounts, NEW, "") == _fail(accounts, "nobody@example.org", "")

    # The link went to the invitee's address only; only its hash is stored.
    [mail] = _mails_to(container, NEW)
    assert mail["subject"] == "You were invited to City of Lindholm on ombud"
    assert "as assessor" in mail["body"]
    token = _link_token(container, NEW)
    [row] = _rows(container, password_links)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)
    assert row["expires_at"] == clock.now + PASSWORD_LINK_LIFETIME
    assert row["organisation_id"] == world.city.id

    view = accounts.password_link(token)
    assert view.email == NEW
    assert accounts.set_password_with_link(token, NEW_PASSWORD) == NEW
    stored = next(r for r in _rows(container, users) if r["email"] == NEW)
    assert stored["claimed"]
    signed = accounts.login(NEW, NEW_PASSWORD)
    assert signed.principal.role_in(world.city.id) is Role.ASSESSOR
    # Single use.
    with pytest.raises(NotFound):
        accounts.set_password_with_link(token, "another passphrase here")
    with pytest.raises(NotFound):
        accounts.password_link(token)
    assert container.ledger.verify().ok


def test_a_link_expires(container, accounts, clock, world):
    accounts.invite_member(world["city-admin@example.org"], world.city.id, NEW, Role.VIEWER)
    token = _link_token(container, NEW)
    clock.advance(PASSWORD_LINK_LIFETIME)
    with pytest.raises(NotFound) as exc:
        accounts.set_password_with_link(token, NEW_PASSWORD)
    assert "expired" in exc.value.message
    _fail(accounts, NEW, NEW_PASSWORD)


def test_inviting_again_sends_a_new_link_and_ends_the_old_one(container, accounts, world):
    admin = world["city-admin@example.org"]
    accounts.invite_member(admin, world.city.id, NEW, Role.VIEWER)
    first = _link_token(container, NEW)
    accounts.invite_member(admin, world.city.id, NEW, Role.EDITOR)
    second = _link_token(container, NEW)
    assert first != second
    with pytest.raises(NotFound):
        accounts.password_link(first)
    accounts.set_password_with_link(second, NEW_PASSWORD)
    assert accounts.login(NEW, NEW_PASSWORD).principal.role_in(world.city.id) is Role.EDITOR


def test_a_link_needs_a_good_password_and_stays_usable_until_it_gets_one(
    container, accounts, world
):
    accounts.invite_member(world["city-admin@example.org"], world.city.id, NEW, Role.VIEWER)
    token = _link_token(container, NEW)
    with pytest.raises(Invalid) as exc:
        accounts.set_password_with_link(token, "short")
    assert set(exc.value.field_messages()) == {"password"}
    accounts.set_password_with_link(token, NEW_PASSWORD)
    assert accounts.login(NEW, NEW_PASSWORD)


@pytest.mark.parametrize("token", ["", "x" * 43, "not-a-token"])
def test_unknown_links_are_refused(accounts, world, token):
    with pytest.raises(NotFound):
        accounts.password_link(token)
    with pytest.raises(NotFound):
        accounts.set_password_with_link(token, NEW_PASSWORD)


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
    [news] = _mails_to(container, EMAIL)
    assert "set-password" not in news["body"]
    assert news["subject"] == "You were added to National Welfare Agency on ombud"
    principal = accounts.login(EMAIL, PASSWORD).principal
    assert principal.role_in(world.agency.id) is Role.VIEWER
    assert principal.role_in(world.city.id) is Role.EDITOR
    assert not [r for r in _rows(container, password_links) if r["user_id"] == principal.user_id]


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
    assert _role_of(container, world.agency.id, NEW) is None
    assert container.ledger.verify().checked == before
    with pytest.raises(Conflict):  # nor through the operator's command
        accounts.set_role(SYSTEM_PRINCIPAL, world.agency.id, NEW, Role.EDITOR)
    # Its own organisation may invite it again.
    accounts.invite_member(city_admin, world.city.id, NEW, Role.VIEWER)
    accounts.set_password_with_link(_link_token(container, NEW), NEW_PASSWORD)
    # Once claimed, B may add it like any account.
    accounts.invite_member(agency_admin, world.agency.id, NEW, Role.EDITOR)
    assert accounts.login(NEW, NEW_PASSWORD).principal.role_in(world.agency.id) is Role.EDITOR


def test_setting_a_password_through_a_link_ends_sessions_and_tokens(container, accounts, world):
    """A reset link from the operator (`ombud user link`) for an account in use."""
    acc = container.accounts
    signed = acc.login(EMAIL, PASSWORD)
    token = acc.create_token(signed.principal, "laptop")
    issued = accounts.issue_password_link(SYSTEM_PRINCIPAL, EMAIL)
    assert issued.url.startswith(BASE + "/set-password/")
    accounts.set_password_with_link(issued.url.rsplit("/", 1)[1], NEW_PASSWORD)
    with pytest.raises(Unauthenticated):
        acc.session(signed.session_token)
    with pytest.raises(Unauthenticated, match="revoked"):
        acc.principal_for_token(token.token)
    assert acc.login(EMAIL, NEW_PASSWORD)
    with pytest.raises(Forbidden):  # a signed-in platform administrator may not
        accounts.issue_password_link(_superuser(container), EMAIL)


def test_without_mail_only_a_platform_administrator_sees_the_link_once(container, no_mail, world):
    root = _superuser(container)
    org = container.accounts.create_organisation(
        root, "Port Authority", OrganisationKind.PUBLIC_AUTHORITY
    )
    first = no_mail.invite_member(root, org.id, NEW, Role.ADMIN)
    assert first.set_password_link
    assert first.set_password_link.startswith(BASE)
    assert "E-mail is off" in first.message
    assert not _mails_to(container, NEW)  # not left waiting in the outbox either
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


def _superuser(container, email: str = "root@example.org"):
    user = container.accounts.create_user(SYSTEM_PRINCIPAL, email, PASSWORD, "Root", superuser=True)
    return container.accounts.principal_for_user(user.id)


@pytest.mark.parametrize("who", ["city-admin", "root"])
def test_nobody_gives_themselves_a_role(container, world, who):
    acc = container.accounts
    actor = world["city-admin@example.org"] if who == "city-admin" else _superuser(container)
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
    root = _superuser(container)
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
    assert _role_of(container, world.city.id, "city-viewer@example.org") is Role.EDITOR


def test_a_platform_administrator_cannot_widen_the_jurisdiction_of_a_body_they_belong_to(
    container, world
):
    acc = container.accounts
    root = _superuser(container)
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
    other = _superuser(container, "root2@example.org")
    acc.grant_jurisdiction(other, world.parliament.slug, world.agency.slug)
    acc.revoke_jurisdiction(SYSTEM_PRINCIPAL, world.parliament.slug, world.agency.slug)
    # And a body they do not belong to is theirs to change.
    acc.grant_jurisdiction(root, world.oversight.slug, world.agency.slug)
    assert world.agency.id in {o.id for o in acc.jurisdiction(world.oversight.slug)[0]}

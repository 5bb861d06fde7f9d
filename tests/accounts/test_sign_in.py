"""Sign-in and its throttle, sessions and API tokens: how a person or a script proves
who it is, and what is kept of it (only hashes)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ombud.accounts.domain import (
    FREE_SIGN_IN_FAILURES,
    SIGN_IN_MAX_WAIT,
    SIGN_IN_MEMORY,
    sign_in_wait,
)
from ombud.accounts.passwords import Argon2PasswordHasher
from ombud.accounts.service import SIGN_IN_REFUSED, AccountsService
from ombud.accounts.tables import api_tokens, sign_in_throttle
from ombud.kernel.access import SYSTEM_PRINCIPAL, Role
from ombud.kernel.errors import NotFound, Unauthenticated
from tests.accounts.support import EMAIL, email_hash, refused_sign_in, table_rows
from tests.conftest import PASSWORD

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


def test_failures_slow_sign_in_down_instead_of_locking_the_account(accounts, clock, world):
    """A stranger's wrong guesses never lock the owner out: once the wait since the last
    failure has passed, the right password works and the count starts again."""
    for _ in range(FREE_SIGN_IN_FAILURES):
        assert refused_sign_in(accounts) == SIGN_IN_REFUSED  # a few slips cost nothing
    assert "try again in 1 second." in refused_sign_in(accounts)  # then the waits begin
    # During the wait even the right password is not heard.
    assert "try again in 1 second." in refused_sign_in(accounts, password=PASSWORD)
    clock.advance(timedelta(seconds=1))
    assert accounts.login(EMAIL, PASSWORD).principal.email == EMAIL
    # The count starts again: the next slip is free.
    assert refused_sign_in(accounts) == SIGN_IN_REFUSED
    assert accounts.login(EMAIL, PASSWORD).principal.email == EMAIL


def test_each_further_failure_doubles_the_wait_up_to_a_cap(accounts, clock, world):
    waits = []
    for _ in range(FREE_SIGN_IN_FAILURES + 12):
        refused_sign_in(accounts)
        with accounts.uow_factory(readonly=True) as uow:
            throttle = uow.sign_in_throttle.get(email_hash(EMAIL))
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
        refused_sign_in(accounts)
    checked = CountingHasher.checks
    before = container.ledger.verify().checked
    assert "try again in 1 second." in refused_sign_in(accounts, password=PASSWORD)
    assert CountingHasher.checks == checked
    assert container.ledger.verify().checked == before  # and nothing is written for it


def test_known_and_unknown_addresses_get_the_same_answers(container, accounts, world):
    """Unknown addresses are counted and slowed down exactly like known ones: no answer,
    no wait and no status tells whether an account exists."""
    nobody = "nobody@example.org"
    for _ in range(FREE_SIGN_IN_FAILURES + 3):
        assert refused_sign_in(accounts, EMAIL) == refused_sign_in(accounts, nobody)
    assert refused_sign_in(accounts, EMAIL, PASSWORD) == refused_sign_in(accounts, nobody, PASSWORD)
    rows = {r["email_hash"]: r for r in table_rows(container, sign_in_throttle)}
    known, unknown = rows[email_hash(EMAIL)], rows[email_hash(nobody)]
    assert (known["failures"], known["not_before"]) == (unknown["failures"], unknown["not_before"])
    assert EMAIL not in str(rows)
    assert nobody not in str(rows)  # addresses are kept only as hashes


def test_the_throttle_is_per_address_whatever_its_case(accounts, world):
    for _ in range(FREE_SIGN_IN_FAILURES + 1):
        refused_sign_in(accounts, " City-Editor@Example.ORG ")
    assert "try again" in refused_sign_in(accounts, EMAIL, PASSWORD)
    # Someone else is not slowed down by it.
    assert accounts.login("city-viewer@example.org", PASSWORD).principal


def test_failures_are_forgotten_a_day_after_the_last(accounts, clock, world):
    for _ in range(FREE_SIGN_IN_FAILURES):
        refused_sign_in(accounts)
    clock.advance(SIGN_IN_MEMORY + timedelta(seconds=1))
    for _ in range(FREE_SIGN_IN_FAILURES):
        assert refused_sign_in(accounts) == SIGN_IN_REFUSED  # free again: the count started over
    assert "try again in 1 second." in refused_sign_in(accounts)


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

    rows = table_rows(container, api_tokens)
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

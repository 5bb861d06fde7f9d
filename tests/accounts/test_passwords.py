"""Passwords and set-password links: how passwords are kept, changing one, and the
single-use links that set one (they expire, are replaced, work once)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ombud.accounts.domain import PASSWORD_LINK_LIFETIME
from ombud.accounts.tables import users
from ombud.kernel.access import SYSTEM_PRINCIPAL, Role
from ombud.kernel.errors import Forbidden, Invalid, NotFound, Unauthenticated
from tests.accounts.support import (
    BASE,
    EMAIL,
    NEW,
    NEW_PASSWORD,
    link_token,
    new_superuser,
    refused_sign_in,
    table_rows,
)
from tests.conftest import PASSWORD

# -- passwords ------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_never_in_clear(container, world):
    rows = table_rows(container, users)
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


# -- set-password links ------------------------------------------------------------


def test_a_link_expires(container, accounts, clock, world):
    accounts.invite_member(world["city-admin@example.org"], world.city.id, NEW, Role.VIEWER)
    token = link_token(container, NEW)
    clock.advance(PASSWORD_LINK_LIFETIME)
    with pytest.raises(NotFound) as exc:
        accounts.set_password_with_link(token, NEW_PASSWORD)
    assert "expired" in exc.value.message
    refused_sign_in(accounts, NEW, NEW_PASSWORD)


def test_inviting_again_sends_a_new_link_and_ends_the_old_one(container, accounts, world):
    admin = world["city-admin@example.org"]
    accounts.invite_member(admin, world.city.id, NEW, Role.VIEWER)
    first = link_token(container, NEW)
    accounts.invite_member(admin, world.city.id, NEW, Role.EDITOR)
    second = link_token(container, NEW)
    assert first != second
    with pytest.raises(NotFound):
        accounts.password_link(first)
    accounts.set_password_with_link(second, NEW_PASSWORD)
    assert accounts.login(NEW, NEW_PASSWORD).principal.role_in(world.city.id) is Role.EDITOR


def test_a_link_needs_a_good_password_and_stays_usable_until_it_gets_one(
    container, accounts, world
):
    accounts.invite_member(world["city-admin@example.org"], world.city.id, NEW, Role.VIEWER)
    token = link_token(container, NEW)
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
        accounts.issue_password_link(new_superuser(container), EMAIL)

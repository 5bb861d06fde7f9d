"""`ombud org member` and `ombud user link`: the operator adds people and hands out
set-password links; no command prints anyone's password."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from ombud.cli.main import app
from ombud.kernel.access import Role
from ombud.kernel.errors import Unauthenticated
from tests.conftest import PASSWORD

LINK_RE = re.compile(r"http://\S+/set-password/([A-Za-z0-9_-]+)")


@pytest.fixture
def ombud(container, database_url: str):
    """Run `ombud ARGS...` on the test database (e-mail off); line wraps undone."""
    env = {
        "OMBUD_DATABASE_URL": database_url,
        "OMBUD_ENV": "test",
        # the container's data directory: the same installation (and ledger key)
        "OMBUD_DATA_DIR": str(container.settings.data_dir),
        "OMBUD_SMTP_HOST": "",
    }
    runner = CliRunner(env=env)

    def run(*args: str):
        result = runner.invoke(app, list(args))
        result.flat = " ".join(result.output.split())
        return result

    return run


def test_org_member_adds_a_new_address_with_a_link_to_set_its_password(ombud, container, world):
    result = ombud("org", "member", world.city.slug, "New.Admin@Example.org", "admin")
    assert result.exit_code == 0, result.output
    assert "new.admin@example.org is now admin in City of Lindholm" in result.flat
    token = LINK_RE.search(result.flat)
    assert token, result.output
    with pytest.raises(Unauthenticated):  # no password until the person sets one
        container.accounts.login("new.admin@example.org", "")
    container.accounts.set_password_with_link(token.group(1), "my own passphrase")
    principal = container.accounts.login("new.admin@example.org", "my own passphrase").principal
    assert principal.role_in(world.city.id) is Role.ADMIN


def test_org_member_gives_an_existing_account_a_role_and_prints_no_link(ombud, container, world):
    result = ombud("org", "member", world.agency.slug, "city-editor@example.org", "viewer")
    assert result.exit_code == 0, result.output
    assert "set-password" not in result.output
    principal = container.accounts.login("city-editor@example.org", PASSWORD).principal
    assert principal.role_in(world.agency.id) is Role.VIEWER


def test_org_member_will_not_hand_an_unclaimed_account_to_another_organisation(
    ombud, container, world
):
    ombud("org", "member", world.city.slug, "pending@example.org", "viewer")
    result = ombud("org", "member", world.agency.slug, "pending@example.org", "viewer")
    assert result.exit_code == 5
    assert "has not set a password yet" in result.flat


def test_user_link_prints_a_single_use_link(ombud, container, world):
    result = ombud("user", "link", "city-editor@example.org")
    assert result.exit_code == 0, result.output
    token = LINK_RE.search(result.flat)
    assert token, result.output
    assert PASSWORD not in result.output
    container.accounts.set_password_with_link(token.group(1), "a fresh passphrase")
    assert container.accounts.login("city-editor@example.org", "a fresh passphrase")
    unknown = ombud("user", "link", "nobody@example.org")
    assert unknown.exit_code == 4

"""The demo data: a register someone can explore, loaded through the ordinary services."""

from __future__ import annotations

import pytest

from ombud.domain.access import OPERATOR_KINDS, SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.domain.lifecycle import LifecycleStage
from ombud.domain.ports import SystemFilter
from ombud.domain.systems import PublicationState, RiskLevel, ScopeExemption
from ombud.errors import Invalid

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(container):
    assert container.demo.is_empty()
    report = container.demo.load()
    with container.register.uow_factory(readonly=True) as uow:
        listings = list(uow.systems.iter_listings(SystemFilter()))
        organisations = uow.organisations.all()
    return report, listings, organisations


# Loading the demo takes about a second, so each test checks several things.


def test_demo_covers_every_kind_of_organisation_stage_and_role(container, demo):
    report, listings, organisations = demo

    assert report.organisations == len(organisations) >= 7
    assert {o.kind for o in organisations} == set(OrganisationKind)
    assert report.systems == len(listings) >= 30
    assert {item.system.lifecycle_stage for item in listings} == set(LifecycleStage)
    assert {item.system.publication_state for item in listings} == set(PublicationState)
    assert {item.system.risk_level for item in listings} == set(RiskLevel)

    published_kinds = {
        item.organisation.kind
        for item in listings
        if item.system.publication_state is PublicationState.PUBLISHED
    }
    assert published_kinds >= OPERATOR_KINDS

    roles_in_demo = {
        Role(entry.split(" @ ")[0])
        for user in report.users
        for entry in user.roles
        if " @ " in entry
    }
    assert roles_in_demo == set(Role)
    assert any("platform administrator" in user.roles for user in report.users)
    # The printed accounts work.
    someone = report.users[1]
    assert container.accounts.login(someone.email, someone.password).principal.email == (
        someone.email
    )

    _check_loitering_munition(listings)
    _check_public_register(container, listings)


def _check_loitering_munition(listings):
    munitions = [i for i in listings if "loitering munition" in i.system.details.name.lower()]
    assert munitions, "the demo should show a weapon system (ipu-148)"
    details = munitions[0].system.details
    assert details.weapons_review_required
    assert details.military_use
    assert details.autonomy_in_critical_functions
    assert details.scope_exemption is ScopeExemption.NATIONAL_DEFENCE
    assert details.scope_justification.strip()


def _check_public_register(container, listings):
    published = {
        i.system.id for i in listings if i.system.publication_state is PublicationState.PUBLISHED
    }
    assert {r["id"] for r in container.public_register.iter_published()} == published


def test_demo_ledger_verifies_and_loading_twice_is_refused(container, demo):
    report = container.ledger.verify()
    assert report.ok
    assert report.checked > len(demo[1])
    before = report.checked
    with pytest.raises(Invalid, match="empty"):
        container.demo.load()
    assert len(container.accounts.list_organisations()) == len(demo[2])
    assert container.ledger.verify().checked == before


def test_demo_is_refused_on_a_database_that_holds_any_organisation(container):
    container.accounts.create_organisation(
        SYSTEM_PRINCIPAL, "Existing Org", OrganisationKind.PRIVATE_ACTOR
    )
    with pytest.raises(Invalid):
        container.demo.load()
    assert len(container.accounts.list_organisations()) == 1

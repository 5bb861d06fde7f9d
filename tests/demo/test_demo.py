"""The demo data: a register someone can explore, loaded through the ordinary services."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ombud.accounts.tables import organisations
from ombud.kernel.access import OPERATOR_KINDS, SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.kernel.errors import Invalid
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState, RiskLevel, ScopeExemption
from ombud.register.tables import ai_systems

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(container):
    assert container.demo.is_empty()
    report = container.demo.load()
    with container.engines.write.connect() as conn:
        rows = conn.execute(
            select(ai_systems, organisations.c.kind.label("org_kind")).join(
                organisations, organisations.c.id == ai_systems.c.organisation_id
            )
        )
        systems = [dict(r._mapping) for r in rows]
    return report, systems, container.accounts.list_organisations()


# Loading the demo takes about a second, so each test checks several things.


def test_demo_covers_every_kind_of_organisation_stage_and_role(container, demo):
    report, systems, organisations = demo

    assert report.organisations == len(organisations) >= 7
    assert {o.kind for o in organisations} == set(OrganisationKind)
    assert report.systems == len(systems) >= 30
    assert {LifecycleStage(s["lifecycle_stage"]) for s in systems} == set(LifecycleStage)
    assert {PublicationState(s["publication_state"]) for s in systems} == set(PublicationState)
    assert {RiskLevel(s["risk_level"]) for s in systems} == set(RiskLevel)

    published_kinds = {
        OrganisationKind(s["org_kind"]) for s in systems if s["publication_state"] == "published"
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

    _check_loitering_munition(container, report, systems)
    _check_public_register(container, systems)


def _check_loitering_munition(container, report, systems):
    munitions = [s for s in systems if "loitering munition" in s["name"].lower()]
    assert munitions, "the demo should show a weapon system (ipu-148)"
    # Read it as its organisation's members see it.
    org_id = munitions[0]["organisation_id"]
    principals = [container.accounts.principal_for_email(u.email) for u in report.users]
    principal = next(p for p in principals if p.role_in(org_id) is not None)
    details = container.register.get(principal, munitions[0]["id"]).system.details
    assert details.weapons_review_required
    assert details.military_use
    assert details.autonomy_in_critical_functions
    assert details.scope_exemption is ScopeExemption.NATIONAL_DEFENCE
    assert details.scope_justification.strip()


def _check_public_register(container, systems):
    published = {s["id"] for s in systems if s["publication_state"] == "published"}
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


def test_demo_has_cases_in_every_state_and_an_escalation(container):
    from ombud.remedies.domain import CaseState

    container.demo.load()
    overseer = container.accounts.principal_for_email("daniel.okafor@aidpa.example")
    states = set()
    everything = []
    for org in container.accounts.list_organisations():
        if not org.kind.operates_systems:
            continue
        members = container.accounts.members(SYSTEM_PRINCIPAL, org.id)
        admin = next((u for u, r in members if r.value == "admin"), None)
        if admin is None:
            continue
        actor = container.accounts.principal_for_user(admin.id)
        states |= {c.state for c in container.remedies.cases(actor, None, 0, 100).items}
        everything += container.incidents.incidents(actor).items
    assert states == set(CaseState)
    assert container.remedies.oversight_queue(overseer).total >= 1
    # and incidents: a resolved one, and a serious open one shown anonymised in public
    found = container.incidents.incidents(overseer)
    assert found.total >= 1
    assert {i.status.value for i in everything} == {"open", "resolved"}
    serious = next(i for i in everything if i.severity.serious)
    shown = container.incidents.public_for_system(serious.system_id)
    assert shown
    assert shown[0]["summary"] == serious.public_summary
    assert serious.case_id is not None

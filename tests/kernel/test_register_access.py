"""What lists and the public register show (never another organisation's records, never
a draft in public), and who registers and publishes, by organisation kind and role."""

from __future__ import annotations

import pytest

from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.kernel.errors import Forbidden, NotFound
from ombud.register.domain.systems import PublicationState
from ombud.register.ports import SystemFilter
from tests.factories import complete_details

# -- what lists and the public register show ----------------------------------------------


@pytest.fixture
def mixed_register(container, world) -> dict[str, dict[str, int]]:
    """Drafts, published, withdrawn and archived systems in the city and the agency."""
    out: dict[str, dict[str, int]] = {}
    for prefix, org in (("city", world.city), ("agency", world.agency)):
        admin = world[f"{prefix}-admin@example.org"]
        reg = container.register
        ids = {}
        for state in ("draft", "published", "withdrawn", "archived"):
            details = complete_details(f"Zebracorn {prefix} {state} register entry")
            ids[state] = reg.create(admin, org.id, details).id
        reg.set_publication(admin, ids["published"], PublicationState.PUBLISHED)
        for state in ("withdrawn", "archived"):
            reg.set_publication(admin, ids[state], PublicationState.PUBLISHED)
        reg.set_publication(admin, ids["withdrawn"], PublicationState.DRAFT)
        reg.set_publication(admin, ids["archived"], PublicationState.ARCHIVED)
        out[prefix] = ids
    return out


@pytest.mark.parametrize("role", list(Role))
def test_an_agency_member_never_sees_city_records_in_register_list(
    container, world, mixed_register, role
):
    actor = world[f"agency-{role.value}@example.org"]
    city_ids = set(mixed_register["city"].values())
    filters = [
        None,
        SystemFilter(organisation_id=world.city.id),
        SystemFilter(organisation_ids=frozenset({world.city.id})),
        SystemFilter(text="Zebracorn city"),
        SystemFilter(publication_state=PublicationState.DRAFT),
    ]
    for flt in filters:
        page = container.register.list(actor, flt, limit=100)
        seen = {i.system.id for i in page.items}
        assert not seen & city_ids, flt
        assert all(i.system.organisation_id == world.agency.id for i in page.items)
        assert page.total == len(page.items)
    own = {i.system.id for i in container.register.list(actor, limit=100).items}
    assert set(mixed_register["agency"].values()) <= own


def test_public_register_shows_only_published_systems(container, mixed_register):
    published = {ids["published"] for ids in mixed_register.values()}
    hidden = {i for ids in mixed_register.values() for i in ids.values()} - published
    pub = container.public_register

    for flt in (
        None,
        SystemFilter(text="Zebracorn"),
        SystemFilter(publication_state=PublicationState.DRAFT),
        SystemFilter(publication_state=PublicationState.ARCHIVED),
    ):
        page = pub.search(flt, limit=100)
        assert {i.system.id for i in page.items} == published, flt
        assert page.total == len(published)
    assert pub.search(SystemFilter(text="Zebracorn city draft"), limit=100).items == []
    assert {r["id"] for r in pub.iter_published()} == published
    assert {r["id"] for r in pub.iter_published(SystemFilter(text="archived"))} == set()
    for system_id in published:
        assert pub.get(system_id).system.publication_state is PublicationState.PUBLISHED
    for system_id in hidden:
        with pytest.raises(NotFound):
            pub.get(system_id)


# Registering by organisation kind and role: every kind of coe-fc:3.1 actor
# keeps a register; oversight bodies and parliaments never do.
KIND_MAY_REGISTER = {
    OrganisationKind.PUBLIC_AUTHORITY: True,
    OrganisationKind.PRIVATE_ON_BEHALF_OF_PUBLIC: True,
    OrganisationKind.PRIVATE_ACTOR: True,
    OrganisationKind.OVERSIGHT_BODY: False,
    OrganisationKind.PARLIAMENT: False,
}
ROLE_MAY_WRITE = {
    Role.VIEWER: False,
    Role.EDITOR: True,
    Role.ASSESSOR: False,
    Role.APPROVER: True,
    Role.ADMIN: True,
}
ROLE_MAY_PUBLISH = {
    Role.VIEWER: False,
    Role.EDITOR: False,
    Role.ASSESSOR: False,
    Role.APPROVER: True,
    Role.ADMIN: True,
}


@pytest.mark.parametrize("kind", list(OrganisationKind))
def test_every_kind_and_role_registers_and_publishes_as_designed(container, kind):
    org = container.accounts.create_organisation(SYSTEM_PRINCIPAL, f"Org {kind.value}", kind)
    people = {}
    for role in Role:
        email = f"{role.value}@{kind.value.replace('_', '-')}.example"
        container.accounts.create_user(SYSTEM_PRINCIPAL, email, "correct horse battery")
        container.accounts.set_role(SYSTEM_PRINCIPAL, org.id, email, role)
        people[role] = container.accounts.principal_for_email(email)
    for role, principal in people.items():
        expected = KIND_MAY_REGISTER[kind] and ROLE_MAY_WRITE[role]
        if expected:
            system = container.register.create(
                principal, org.id, complete_details(f"{kind.value} {role.value}")
            )
            publisher_may = ROLE_MAY_PUBLISH[role]
            if publisher_may:
                container.register.set_publication(principal, system.id, PublicationState.PUBLISHED)
            else:
                with pytest.raises(Forbidden):
                    container.register.set_publication(
                        principal, system.id, PublicationState.PUBLISHED
                    )
        else:
            with pytest.raises(Forbidden):
                container.register.create(principal, org.id, complete_details("refused"))

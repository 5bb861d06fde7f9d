"""JSON API v1: who you are, tokens, organisations, jurisdiction and members."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ombud.bootstrap import Container
from ombud.kernel.access import SYSTEM_PRINCIPAL
from tests.conftest import PASSWORD, World
from tests.factories import complete_details

Headers = dict[str, str]


@pytest.fixture
def root(container: Container, world: World) -> Headers:
    """A platform administrator's token."""
    user = container.accounts.create_user(
        SYSTEM_PRINCIPAL, "root@example.org", PASSWORD, "Root", superuser=True
    )
    principal = container.accounts.principal_for_user(user.id)
    return {"Authorization": f"Bearer {container.accounts.create_token(principal, 't').token}"}


def ledger_size(container: Container) -> int:
    report = container.ledger.verify()
    assert report.ok
    return report.checked


def test_me_shows_memberships_and_jurisdiction(
    api: TestClient, world: World, as_user: Callable[[str], Headers]
) -> None:
    response = api.get("/me", headers=as_user("oversight-viewer@example.org"))
    assert response.status_code == 200
    me = response.json()
    assert me["id"] == world["oversight-viewer@example.org"].user_id
    assert me["email"] == "oversight-viewer@example.org"
    assert me["is_superuser"] is False
    assert me["memberships"] == [
        {
            "organisation_id": world.oversight.id,
            "organisation": "AI Supervisory Authority",
            "kind": "oversight_body",
            "role": "viewer",
        }
    ]
    assert me["jurisdiction"] == [world.city.id]
    assert api.get("/me", headers=as_user("city-editor@example.org")).json()["jurisdiction"] == []


def test_tokens_are_shown_once_and_only_their_owner_revokes_them(
    api: TestClient, container: Container, as_user: Callable[[str], Headers]
) -> None:
    editor = as_user("city-editor@example.org")
    made = api.post("/tokens", json={"name": "ci", "expires_days": 30}, headers=editor)
    assert made.status_code == 201
    token = made.json()
    assert token["token"].startswith("ombud_")
    assert api.get("/me", headers={"Authorization": f"Bearer {token['token']}"}).status_code == 200

    listed = api.get("/tokens", headers=editor).json()
    assert listed["total"] == 2  # the fixture's and this one
    assert {t["name"] for t in listed["items"]} == {"tests", "ci"}
    assert all("token" not in t for t in listed["items"])
    ci = next(t for t in listed["items"] if t["name"] == "ci")
    assert ci["prefix"] == token["prefix"]
    assert ci["revoked_at"] is None

    before = ledger_size(container)
    other = api.delete(f"/tokens/{token['id']}", headers=as_user("city-admin@example.org"))
    assert other.status_code == 404
    assert ledger_size(container) == before + 1  # only the other user's own new token
    assert api.get("/me", headers={"Authorization": f"Bearer {token['token']}"}).status_code == 200

    bad = api.post("/tokens", json={"name": "x", "expires_days": 400}, headers=editor)
    assert bad.status_code == 422
    assert [f["loc"] for f in bad.json()["error"]["fields"]] == [["body", "expires_days"]]
    blank = api.post("/tokens", json={"name": "  "}, headers=editor)
    assert blank.status_code == 422
    assert [f["loc"] for f in blank.json()["error"]["fields"]] == [["body", "name"]]
    assert api.get("/tokens", headers=editor).json()["total"] == 2


def test_organisations_are_listed_and_found_by_id_or_slug(
    api: TestClient, world: World, as_user: Callable[[str], Headers]
) -> None:
    headers = as_user("city-viewer@example.org")
    listed = api.get("/organisations", headers=headers).json()
    assert listed["total"] == 4
    assert {o["slug"] for o in listed["items"]} == {
        world.city.slug,
        world.agency.slug,
        world.oversight.slug,
        world.parliament.slug,
    }
    page = api.get("/organisations", params={"limit": 3}, headers=headers).json()
    assert (len(page["items"]), page["next_offset"]) == (3, 3)
    overseers = api.get("/organisations", params={"kind": "oversight_body"}, headers=headers)
    assert [o["id"] for o in overseers.json()["items"]] == [world.oversight.id]

    by_slug = api.get(f"/organisations/{world.city.slug}", headers=headers).json()
    by_id = api.get(f"/organisations/{world.city.id}", headers=headers).json()
    assert by_slug == by_id
    assert by_id["name"] == "City of Lindholm"
    assert by_id["kind"] == "public_authority"
    assert api.get("/organisations/no-such-org", headers=headers).status_code == 404
    assert api.get("/organisations").status_code == 401

    jurisdiction = api.get(f"/organisations/{world.city.slug}/jurisdiction", headers=headers)
    assert jurisdiction.json()["oversees"] == []
    assert [o["id"] for o in jurisdiction.json()["overseen_by"]] == [world.oversight.id]


def test_only_a_platform_administrator_creates_organisations(
    api: TestClient, container: Container, root: Headers, as_user: Callable[[str], Headers]
) -> None:
    body = {"name": "Port Authority", "kind": "public_authority", "country": "se"}
    admin = as_user("city-admin@example.org")
    before = ledger_size(container)
    refused = api.post("/organisations", json=body, headers=admin)
    assert refused.status_code == 403
    assert "platform administrator" in refused.json()["error"]["message"]
    assert ledger_size(container) == before

    created = api.post("/organisations", json=body, headers=root)
    assert created.status_code == 201
    assert created.json() == {
        **created.json(),
        "name": "Port Authority",
        "slug": "port-authority",
        "country": "SE",
    }
    duplicate = api.post("/organisations", json=body, headers=root)
    assert duplicate.status_code == 409
    bad = api.post(
        "/organisations", json={**body, "slug": "Bad Slug!", "kind": "club"}, headers=root
    )
    assert bad.status_code == 422
    assert ["body", "kind"] in [f["loc"] for f in bad.json()["error"]["fields"]]
    bad_country = api.post(
        "/organisations", json={"name": "X", "kind": "private_actor", "country": "1"}, headers=root
    )
    assert bad_country.status_code == 422
    assert [f["loc"] for f in bad_country.json()["error"]["fields"]] == [["body", "country"]]
    assert api.get("/organisations", headers=admin).json()["total"] == 5


def test_jurisdiction_grants_and_withdraws_read_access(
    api: TestClient,
    container: Container,
    world: World,
    root: Headers,
    as_user: Callable[[str], Headers],
) -> None:
    sid = container.register.create(
        world["agency-editor@example.org"], world.agency.id, complete_details()
    ).id
    mp = as_user("parliament-viewer@example.org")
    assert api.get(f"/systems/{sid}", headers=mp).status_code == 404

    path = f"/organisations/{world.parliament.slug}/jurisdiction"
    refused = api.post(path, json={"organisation": world.agency.id}, headers=mp)
    assert refused.status_code == 403
    granted = api.post(path, json={"organisation": world.agency.id}, headers=root)
    assert granted.status_code == 201
    assert [o["id"] for o in granted.json()["oversees"]] == [world.agency.id]
    assert api.get(f"/systems/{sid}", headers=mp).status_code == 200
    assert api.get("/me", headers=mp).json()["jurisdiction"] == [world.agency.id]

    not_overseer = api.post(
        f"/organisations/{world.city.id}/jurisdiction",
        json={"organisation": world.agency.slug},
        headers=root,
    )
    assert not_overseer.status_code == 422

    withdrawn = api.delete(f"{path}/{world.agency.slug}", headers=root)
    assert withdrawn.status_code == 204
    assert api.get(f"/systems/{sid}", headers=mp).status_code == 404


def test_admins_manage_members(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    admin = as_user("city-admin@example.org")
    members_path = f"/organisations/{world.city.id}/members"
    listed = api.get(members_path, headers=admin).json()
    assert listed["total"] == 5
    assert {m["email"]: m["role"] for m in listed["items"]}["city-editor@example.org"] == "editor"
    assert api.get(members_path, headers=as_user("city-editor@example.org")).status_code == 403
    assert api.get(f"/organisations/{world.city.slug}/members", headers=admin).json()["total"] == 5

    invited = api.post(
        members_path,
        json={"email": "New.Person@example.org", "role": "viewer", "display_name": "New"},
        headers=admin,
    )
    assert invited.status_code == 201
    answer = invited.json()
    assert answer["email"] == "new.person@example.org"
    assert answer["role"] == "viewer"
    assert answer["set_password_link"] is None  # an organisation's admin never gets one
    assert "initial_password" not in answer
    # The account cannot sign in until its owner sets a password through the link.
    refused = api.post("/auth/token", json={"email": answer["email"], "password": "", "name": "x"})
    assert refused.status_code in (401, 422)

    existing = api.post(
        members_path, json={"email": "agency-viewer@example.org", "role": "editor"}, headers=admin
    )
    assert existing.status_code == 201
    # The same shape and words whether or not the address had an account.
    assert set(existing.json()) == set(answer)
    assert existing.json()["message"].replace("agency-viewer@example.org", "X").replace(
        "editor", "R"
    ) == answer["message"].replace("new.person@example.org", "X").replace("viewer", "R")

    items = api.get(members_path, headers=admin).json()["items"]
    person = next(m for m in items if m["email"] == "new.person@example.org")
    changed = api.put(f"{members_path}/{person['user_id']}", json={"role": "editor"}, headers=admin)
    assert changed.status_code == 200
    assert changed.json()["role"] == "editor"
    roles = {m["user_id"]: m["role"] for m in api.get(members_path, headers=admin).json()["items"]}
    assert roles[person["user_id"]] == "editor"
    stranger = world["parliament-viewer@example.org"].user_id
    assert (
        api.put(f"{members_path}/{stranger}", json={"role": "admin"}, headers=admin).status_code
        == 404
    )

    removed = api.delete(f"{members_path}/{person['user_id']}", headers=admin)
    assert removed.status_code == 204
    assert person["user_id"] not in {
        m["user_id"] for m in api.get(members_path, headers=admin).json()["items"]
    }

    # An organisation keeps at least one admin; nobody changes their own role.
    me = world["city-admin@example.org"].user_id
    before = ledger_size(container)
    last_admin = api.delete(f"{members_path}/{me}", headers=admin)
    assert last_admin.status_code == 409
    demoted = api.put(f"{members_path}/{me}", json={"role": "viewer"}, headers=admin)
    assert demoted.status_code == 403
    assert ledger_size(container) == before
    assert api.get("/me", headers=admin).json()["memberships"][0]["role"] == "admin"


def test_a_platform_administrator_adds_only_the_first_admin(
    api: TestClient, container: Container, world: World, root: Headers
) -> None:
    made = api.post(
        "/organisations", json={"name": "Port Authority", "kind": "public_authority"}, headers=root
    )
    path = f"/organisations/{made.json()['id']}/members"
    viewer = api.post(path, json={"email": "v@port.example", "role": "viewer"}, headers=root)
    assert viewer.status_code == 403
    first = api.post(path, json={"email": "a@port.example", "role": "admin"}, headers=root)
    assert first.status_code == 201
    # E-mail is off in the tests: the platform administrator gets the link, once.
    assert first.json()["set_password_link"].startswith(container.settings.base_url)
    second = api.post(path, json={"email": "b@port.example", "role": "admin"}, headers=root)
    assert second.status_code == 403
    assert "own admins" in second.json()["error"]["message"]
    city = f"/organisations/{world.city.id}/members"
    assert api.get(city, headers=root).status_code == 200  # who the members are, no more
    for attempt in (
        api.post(city, json={"email": "root@example.org", "role": "admin"}, headers=root),
        api.put(
            f"{city}/{world['city-viewer@example.org'].user_id}",
            json={"role": "admin"},
            headers=root,
        ),
        api.delete(f"{city}/{world['city-viewer@example.org'].user_id}", headers=root),
    ):
        assert attempt.status_code == 403, attempt.text
    me = api.get("/me", headers=root).json()
    assert me["is_superuser"]
    assert me["memberships"] == []


def test_setting_a_password_through_the_api(
    api: TestClient, container: Container, world: World, root: Headers
) -> None:
    made = api.post(
        "/organisations", json={"name": "Port Authority", "kind": "public_authority"}, headers=root
    )
    path = f"/organisations/{made.json()['id']}/members"
    link = api.post(path, json={"email": "a@port.example", "role": "admin"}, headers=root).json()[
        "set_password_link"
    ]
    token = link.rsplit("/", 1)[1]
    short = api.post("/auth/set-password", json={"token": token, "password": "short"})
    assert short.status_code == 422
    done = api.post("/auth/set-password", json={"token": token, "password": PASSWORD})
    assert done.status_code == 204
    again = api.post("/auth/set-password", json={"token": token, "password": PASSWORD})
    assert again.status_code == 404
    signed = api.post(
        "/auth/token", json={"email": "a@port.example", "password": PASSWORD, "name": "x"}
    )
    assert signed.status_code == 201


def test_changing_the_password_revokes_api_tokens(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    headers = as_user("city-editor@example.org")
    assert api.get("/me", headers=headers).status_code == 200
    container.accounts.change_password(
        world["city-editor@example.org"], PASSWORD, "a brand new passphrase"
    )
    refused = api.get("/me", headers=headers)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]

"""JSON API v1: authentication and who may read or change which record.

Every refused write is checked to leave the record and the ledger as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ombud.api import create_api
from ombud.bootstrap import Container
from ombud.kernel.access import SYSTEM_PRINCIPAL
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.kernel.web.deps import RateLimits
from tests.conftest import PASSWORD, World
from tests.factories import complete_details

Headers = dict[str, str]


def ledger_size(container: Container) -> int:
    report = container.ledger.verify()
    assert report.ok
    return report.checked


def assert_unauthenticated(response: Any, words: str) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["code"] == "unauthenticated"
    assert words in error["message"]


# -- tokens ----------------------------------------------------------------------


def test_missing_malformed_and_unknown_tokens_are_refused(api: TestClient, world: World) -> None:
    assert_unauthenticated(api.get("/systems"), "Authorization: Bearer")
    assert_unauthenticated(
        api.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}), "Bearer"
    )
    assert_unauthenticated(
        api.get("/me", headers={"Authorization": "Bearer not-ours"}), "malformed"
    )
    assert_unauthenticated(
        api.post("/systems", json={"name": "x"}, headers={"Authorization": "Bearer ombud_nope"}),
        "unknown",
    )


def test_password_for_token_then_revoke_it(
    api: TestClient, container: Container, world: World
) -> None:
    issued = api.post(
        "/auth/token",
        json={
            "email": "City-Editor@example.org",
            "password": PASSWORD,
            "name": "laptop",
            "expires_days": 7,
        },
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["token"].startswith("ombud_")
    assert body["prefix"] == body["token"][:12]
    assert body["name"] == "laptop"
    assert body["expires_at"].endswith("Z")
    headers = {"Authorization": f"Bearer {body['token']}"}

    me = api.get("/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == "city-editor@example.org"

    # The sign-in left no web session: it was signed out in the same request.
    user_entries = container.ledger.list(
        SYSTEM_PRINCIPAL, LedgerFilter(entity_type="user", entity_id=str(me.json()["id"]))
    ).items
    assert [e.action for e in user_entries[:2]] == ["logout", "login"]

    listed = api.get("/tokens", headers=headers).json()
    assert [t["name"] for t in listed["items"]] == ["laptop"]
    assert "token" not in listed["items"][0]

    revoked = api.delete(f"/tokens/{body['id']}", headers=headers)
    assert revoked.status_code == 204
    assert_unauthenticated(api.get("/me", headers=headers), "revoked")


def test_wrong_password_gives_401_and_no_token(
    api: TestClient, container: Container, world: World
) -> None:
    for email in ("city-editor@example.org", "nobody@example.org"):
        refused = api.post(
            "/auth/token", json={"email": email, "password": "wrong" * 4, "name": "x"}
        )
        assert_unauthenticated(refused, "Wrong e-mail address or password")
    assert container.accounts.tokens(world["city-editor@example.org"]) == []

    unknown_field = api.post(
        "/auth/token",
        json={"email": "city-editor@example.org", "password": PASSWORD, "name": "x", "admin": 1},
    )
    assert unknown_field.status_code == 422
    assert [f["loc"] for f in unknown_field.json()["error"]["fields"]] == [["body", "admin"]]
    assert container.accounts.tokens(world["city-editor@example.org"]) == []


def test_token_requests_are_rate_limited_per_address(container: Container, world: World) -> None:
    container.settings.login_rate_limit = "2/minute"
    with TestClient(create_api(container, RateLimits()), base_url="http://127.0.0.1") as client:
        body = {"email": "city-editor@example.org", "password": PASSWORD, "name": "ci"}
        assert client.post("/auth/token", json=body).status_code == 201
        assert client.post("/auth/token", json=body).status_code == 201
        limited = client.post("/auth/token", json=body)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert len(container.accounts.tokens(world["city-editor@example.org"])) == 2


# -- who sees what -----------------------------------------------------------------


@pytest.fixture
def agency_system(container: Container, world: World) -> int:
    editor = world["agency-editor@example.org"]
    return container.register.create(editor, world.agency.id, complete_details("Agency only")).id


@pytest.fixture
def city_system(container: Container, world: World) -> int:
    editor = world["city-editor@example.org"]
    return container.register.create(editor, world.city.id, complete_details("City scoring")).id


def test_another_organisation_cannot_see_an_unpublished_system(
    api: TestClient, agency_system: int, world: World, as_user: Callable[[str], Headers]
) -> None:
    for email in ("city-admin@example.org", "parliament-viewer@example.org"):
        headers = as_user(email)
        hidden = api.get(f"/systems/{agency_system}", headers=headers)
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "not_found"
        # Same answer as for an id that does not exist: ids do not leak.
        missing = api.get("/systems/999999", headers=headers).json()["error"]["message"]
        assert hidden.json()["error"]["message"] == missing.replace("999999", str(agency_system))
        listed = api.get("/systems", headers=headers).json()
        assert listed["total"] == 0
        assert listed["items"] == []
        filtered = api.get(
            "/systems", params={"organisation_id": world.agency.id}, headers=headers
        ).json()
        assert filtered["total"] == 0
        for path in ("revisions", "transitions"):
            assert api.get(f"/systems/{agency_system}/{path}", headers=headers).status_code == 404

    own = api.get("/systems", headers=as_user("agency-viewer@example.org")).json()
    assert [s["id"] for s in own["items"]] == [agency_system]


def test_other_organisation_writes_are_refused_and_change_nothing(
    api: TestClient,
    container: Container,
    agency_system: int,
    as_user: Callable[[str], Headers],
) -> None:
    outsider = as_user("city-admin@example.org")
    owner = as_user("agency-admin@example.org")
    record = api.get(f"/systems/{agency_system}", headers=owner)
    before = ledger_size(container)
    attempts = [
        api.put(f"/systems/{agency_system}", json={"name": "Taken over"}, headers=outsider),
        api.patch(f"/systems/{agency_system}", json={"name": "Taken over"}, headers=outsider),
        api.delete(f"/systems/{agency_system}", headers=outsider),
        api.post(
            f"/systems/{agency_system}/transitions",
            json={"to_stage": "design", "reason": "x"},
            headers=outsider,
        ),
        api.post(
            f"/systems/{agency_system}/publication", json={"state": "published"}, headers=outsider
        ),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    after = api.get(f"/systems/{agency_system}", headers=owner)
    assert after.json() == record.json()
    assert ledger_size(container) == before


def test_oversight_body_reads_its_jurisdiction_but_cannot_write(
    api: TestClient,
    container: Container,
    world: World,
    city_system: int,
    agency_system: int,
    as_user: Callable[[str], Headers],
) -> None:
    overseer = as_user("oversight-viewer@example.org")
    seen = api.get(f"/systems/{city_system}", headers=overseer)
    assert seen.status_code == 200
    assert seen.json()["name"] == "City scoring"
    assert seen.json()["permissions"]["system.read"] is True
    assert seen.json()["permissions"]["system.update"] is False
    assert [s["id"] for s in api.get("/systems", headers=overseer).json()["items"]] == [city_system]
    assert api.get(f"/systems/{city_system}/revisions", headers=overseer).status_code == 200
    # No jurisdiction over the agency.
    assert api.get(f"/systems/{agency_system}", headers=overseer).status_code == 404

    before = ledger_size(container)
    created = api.post(
        "/systems",
        json={"organisation_id": world.city.id, **complete_details("Oversight's own").snapshot()},
        headers=overseer,
    )
    assert created.status_code == 403
    assert created.json()["error"]["code"] == "forbidden"
    writes = [
        api.put(
            f"/systems/{city_system}", json=complete_details("Renamed").snapshot(), headers=overseer
        ),
        api.patch(f"/systems/{city_system}", json={"name": "Renamed"}, headers=overseer),
        api.post(
            f"/systems/{city_system}/transitions",
            json={"to_stage": "design", "reason": "x"},
            headers=overseer,
        ),
        api.post(
            f"/systems/{city_system}/risk-level",
            json={"risk_level": "low", "reason": "x"},
            headers=overseer,
        ),
        api.delete(f"/systems/{city_system}", headers=overseer),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert api.get(f"/systems/{city_system}", headers=overseer).json() == seen.json()
    assert api.get("/systems", headers=overseer).json()["total"] == 1
    assert ledger_size(container) == before


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("city-viewer@example.org", 403),
        ("city-assessor@example.org", 403),
        ("city-editor@example.org", 201),
        ("city-approver@example.org", 201),
        ("city-admin@example.org", 201),
        ("agency-admin@example.org", 403),
    ],
)
def test_who_may_register_a_system(
    api: TestClient,
    container: Container,
    world: World,
    as_user: Callable[[str], Headers],
    email: str,
    status: int,
) -> None:
    headers, admin = as_user(email), as_user("city-admin@example.org")
    before = ledger_size(container)
    response = api.post(
        "/systems",
        json={"organisation_id": world.city.id, "name": "Queue predictor"},
        headers=headers,
    )
    assert response.status_code == status, response.text
    total = api.get("/systems", headers=admin).json()["total"]
    if status == 201:
        assert response.json()["name"] == "Queue predictor"
        assert (total, ledger_size(container)) == (1, before + 1)
    else:
        assert response.json()["error"]["code"] == "forbidden"
        assert (total, ledger_size(container)) == (0, before)


def test_editor_cannot_publish_or_delete(
    api: TestClient, container: Container, city_system: int, as_user: Callable[[str], Headers]
) -> None:
    editor = as_user("city-editor@example.org")
    before = ledger_size(container)
    publish = api.post(
        f"/systems/{city_system}/publication", json={"state": "published"}, headers=editor
    )
    assert publish.status_code == 403
    assert "system.publish" in publish.json()["error"]["message"]
    assert api.delete(f"/systems/{city_system}", headers=editor).status_code == 403
    assert api.get(f"/systems/{city_system}", headers=editor).json()["publication_state"] == "draft"
    assert api.get("/public/systems").json()["total"] == 0
    assert ledger_size(container) == before

"""JSON API v1: the public register (published systems only) and the audit ledger."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ombud.api import create_api
from ombud.bootstrap import Container
from ombud.kernel.web.deps import RateLimits
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState, Sector
from ombud.register.public_service import PUBLIC_FIELDS
from tests.conftest import World
from tests.factories import complete_details

Headers = dict[str, str]


@pytest.fixture
def register(container: Container, world: World) -> dict[str, int]:
    """A draft, two published systems (one in the agency) and an archived one."""
    city_editor = world["city-editor@example.org"]
    approver = world["city-approver@example.org"]
    reg = container.register
    ids = {
        "draft": reg.create(city_editor, world.city.id, complete_details("Draft scoring")).id,
        "published": reg.create(
            city_editor, world.city.id, complete_details("Published scoring")
        ).id,
        "archived": reg.create(city_editor, world.city.id, complete_details("Old scoring")).id,
        "agency": reg.create(
            world["agency-editor@example.org"],
            world.agency.id,
            complete_details("Agency chatbot", sector=Sector.PUBLIC_ADMINISTRATION),
            LifecycleStage.DESIGN,
        ).id,
    }
    reg.set_publication(approver, ids["published"], PublicationState.PUBLISHED)
    reg.set_publication(approver, ids["archived"], PublicationState.PUBLISHED)
    reg.set_publication(approver, ids["archived"], PublicationState.ARCHIVED)
    reg.set_publication(
        world["agency-approver@example.org"], ids["agency"], PublicationState.PUBLISHED
    )
    return ids


def test_public_register_shows_only_published_systems_without_sign_in(
    api: TestClient, container: Container, world: World, register: dict[str, int]
) -> None:
    listed = api.get("/public/systems")
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == 2
    assert {s["id"] for s in page["items"]} == {register["published"], register["agency"]}
    record = next(s for s in page["items"] if s["id"] == register["published"])
    assert tuple(record) == PUBLIC_FIELDS
    assert record["organisation"] == "City of Lindholm"
    assert record["published_at"].endswith("Z")
    assert record["contest_information"] == complete_details().contest_information

    for hidden in ("draft", "archived"):
        missing = api.get(f"/public/systems/{register[hidden]}")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
    # Even a search for its exact name does not find a draft.
    assert api.get("/public/systems", params={"q": "Draft scoring"}).json()["total"] == 0

    one = api.get(f"/public/systems/{register['agency']}")
    assert one.status_code == 200
    assert one.json()["name"] == "Agency chatbot"
    assert one.json()["lifecycle_stage"] == "design"

    # Withdrawn to draft: gone from the public register at once.
    container.register.set_publication(
        world["agency-approver@example.org"], register["agency"], PublicationState.DRAFT
    )
    assert api.get(f"/public/systems/{register['agency']}").status_code == 404
    assert api.get("/public/systems").json()["total"] == 1


def test_public_filters_and_pagination(
    api: TestClient, world: World, register: dict[str, int]
) -> None:
    by_org = api.get("/public/systems", params={"organisation_id": world.agency.id}).json()
    assert [s["id"] for s in by_org["items"]] == [register["agency"]]
    by_sector = api.get("/public/systems", params={"sector": "social_security"}).json()
    assert [s["id"] for s in by_sector["items"]] == [register["published"]]
    by_stage = api.get("/public/systems", params={"lifecycle_stage": "design"}).json()
    assert [s["id"] for s in by_stage["items"]] == [register["agency"]]
    assert api.get("/public/systems", params={"q": "chatbot"}).json()["total"] == 1

    first = api.get("/public/systems", params={"limit": 1}).json()
    assert (first["total"], len(first["items"]), first["next_offset"]) == (2, 1, 1)
    second = api.get("/public/systems", params={"limit": 1, "offset": 1}).json()
    assert second["next_offset"] is None
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {
        register["published"],
        register["agency"],
    }
    bad = api.get("/public/systems", params={"sector": "astrology", "limit": 0})
    assert bad.status_code == 422
    assert {tuple(f["loc"]) for f in bad.json()["error"]["fields"]} == {
        ("query", "sector"),
        ("query", "limit"),
    }


def test_public_requests_are_rate_limited(container: Container, register: dict[str, int]) -> None:
    container.settings.public_rate_limit = "3/minute"
    with TestClient(create_api(container, RateLimits()), base_url="http://127.0.0.1") as client:
        answers = [client.get("/public/systems").status_code for _ in range(3)]
        limited = client.get(f"/public/systems/{register['published']}")
        lifecycle = client.get("/lifecycle")
    assert answers == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert lifecycle.status_code == 200


# -- the audit ledger ------------------------------------------------------------


def test_ledger_is_read_by_admins_and_filtered(
    api: TestClient,
    container: Container,
    world: World,
    register: dict[str, int],
    as_user: Callable[[str], Headers],
) -> None:
    admin = as_user("city-admin@example.org")
    entries = api.get("/ledger", params={"limit": 100}, headers=admin)
    assert entries.status_code == 200
    page = entries.json()
    assert page["total"] > 0
    # Only the city's entries, newest first.
    assert {e["organisation_id"] for e in page["items"]} == {world.city.id}
    seqs = [e["seq"] for e in page["items"]]
    assert seqs == sorted(seqs, reverse=True)
    newest = page["items"][0]
    assert newest["action"] == "publication"
    assert newest["before"]["publication_state"] == "published"
    assert newest["after"]["publication_state"] == "archived"
    assert newest["at"].endswith("Z")
    assert len(newest["hash"]) == len(newest["prev_hash"]) == 64

    created = api.get(
        "/ledger",
        params={"action": "create", "entity_type": "ai_system", "limit": 2},
        headers=admin,
    ).json()
    assert created["total"] == 3
    assert created["next_offset"] == 2
    assert {e["entity_id"] for e in created["items"]} <= {
        str(register[k]) for k in ("draft", "published", "archived")
    }
    draft_only = api.get(
        "/ledger",
        params={"entity_type": "ai_system", "entity_id": str(register["draft"])},
        headers=admin,
    ).json()
    assert [e["action"] for e in draft_only["items"]] == ["create"]
    assert draft_only["items"][0]["actor"] == "city-editor@example.org"
    by_actor = api.get("/ledger", params={"actor": "city-approver"}, headers=admin).json()
    assert {e["action"] for e in by_actor["items"]} == {"publication"}

    # The oversight body's admin reads its own and the city's entries, not the agency's.
    overseer = api.get(
        "/ledger", params={"limit": 100}, headers=as_user("oversight-admin@example.org")
    )
    assert {e["organisation_id"] for e in overseer.json()["items"]} == {
        world.city.id,
        world.oversight.id,
    }

    refused = api.get("/ledger", headers=as_user("city-editor@example.org"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    unknown = api.get("/ledger", params={"action": "teleport"}, headers=admin)
    assert unknown.status_code == 422
    assert [f["loc"] for f in unknown.json()["error"]["fields"]] == [["query", "action"]]


def test_ledger_verifies_after_api_operations(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    editor = as_user("city-editor@example.org")
    sid = api.post(
        "/systems",
        json={"organisation_id": world.city.id, **complete_details().snapshot()},
        headers=editor,
    ).json()["id"]
    api.patch(f"/systems/{sid}", json={"vendor": "Acme"}, headers=editor)
    api.post(
        f"/systems/{sid}/transitions", json={"to_stage": "design", "reason": "Go"}, headers=editor
    )
    api.post(
        f"/systems/{sid}/significant-modifications", json={"reason": "Retrained"}, headers=editor
    )

    report = api.get("/ledger/verify", headers=editor)
    assert report.status_code == 200
    body = report.json()
    assert body == {"ok": True, "checked": body["checked"], "first_bad_seq": None, "reason": ""}
    assert body["checked"] == container.ledger.verify().checked
    assert body["checked"] >= 5
    assert api.get("/ledger/verify").status_code == 401

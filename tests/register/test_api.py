"""JSON API v1: the schema, the lifecycle, and the life of one record through the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ombud.bootstrap import Container
from tests.conftest import World
from tests.factories import complete_details, sign_current_assessments

Headers = dict[str, str]


def complete_body(world: World, **changes: Any) -> dict[str, Any]:
    return {"organisation_id": world.city.id, **complete_details().snapshot(), **changes}


def field_locs(response: Any) -> list[list[Any]]:
    return [f["loc"] for f in response.json()["error"]["fields"]]


def ledger_size(container: Container) -> int:
    report = container.ledger.verify()
    assert report.ok
    return report.checked


# -- the OpenAPI document and the lifecycle ------------------------------------


def test_openapi_document_lists_every_path_and_is_complete(api: TestClient) -> None:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"] == {**doc["info"], "title": "ombud API", "version": "1"}
    assert {
        "/auth/token",
        "/me",
        "/tokens",
        "/tokens/{token_id}",
        "/organisations",
        "/organisations/{ref}",
        "/organisations/{ref}/jurisdiction",
        "/organisations/{ref}/jurisdiction/{organisation}",
        "/organisations/{ref}/members",
        "/organisations/{ref}/members/{user_id}",
        "/systems",
        "/systems/{system_id}",
        "/systems/{system_id}/transitions",
        "/systems/{system_id}/publication",
        "/systems/{system_id}/significant-modifications",
        "/systems/{system_id}/risk-level",
        "/systems/{system_id}/revisions",
        "/ledger",
        "/ledger/verify",
        "/lifecycle",
        "/public/systems",
        "/public/systems/{system_id}",
        "/instruments",
        "/provisions/{provision_id}",
        "/requirements",
        "/systems/{system_id}/compliance",
        "/organisations/{ref}/compliance",
    } <= set(doc["paths"])
    schemas = doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["PersonalToken"]["scheme"] == "bearer"
    public = {
        "/auth/token",
        "/auth/set-password",
        "/lifecycle",
        "/public/systems",
        "/public/systems/{system_id}",
        "/instruments",
        "/instruments/{instrument_id}",
        "/provisions",
        "/provisions/{provision_id}",
        "/requirements",
        "/public/reports",
    }
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary"), where
            assert op.get("description"), where
            assert ("security" in op) is (path not in public), where
            for status, resp in op["responses"].items():
                if status == "204":
                    assert "content" not in resp, where
                    continue
                schema = resp["content"]["application/json"]["schema"]
                if status.startswith("2"):
                    assert "$ref" in schema, where
                else:
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, where
    # Every reference resolves to a declared schema.
    text = response.text
    for name in {part.split('"')[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in schemas, name
    create = schemas["SystemCreate"]
    assert create["additionalProperties"] is False
    assert create["properties"]["name"]["maxLength"] == 200
    assert create["properties"]["provider"]["maxLength"] == 500
    assert create["properties"]["purpose"]["maxLength"] == 10_000
    assert create["properties"]["affected_groups"]["maxItems"] == 50


def test_lifecycle_is_public_and_lists_stages_transitions_and_gates(api: TestClient) -> None:
    response = api.get("/lifecycle")
    assert response.status_code == 200
    body = response.json()
    stages = {s["value"]: s for s in body["stages"]}
    assert body["stages"][0]["value"] == "pre_design"
    assert stages["pre_design"] == {
        "value": "pre_design",
        "label": "Pre-design",
        "initial": True,
        "live": False,
    }
    assert stages["deployment"]["live"] is True
    assert body["transitions"]["pre_design"] == ["design", "procurement", "decommissioning"]
    assert body["transitions"]["sale"] == ["decommissioning"]
    assert body["transitions"]["decommissioning"] == []
    assert {
        "name": "record-complete",
        "provision": "coe-fc:14.2.b",
        "guards": ["deployment", "use"],
    } in body["gates"]


# -- one record through its life -------------------------------------------------


def test_create_get_update_patch_transition_publish_and_revisions(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    editor = as_user("city-editor@example.org")
    approver = as_user("city-approver@example.org")

    created = api.post("/systems", json=complete_body(world, reason="Pilot"), headers=editor)
    assert created.status_code == 201, created.text
    system = created.json()
    sid = system["id"]
    assert created.headers["location"] == f"http://127.0.0.1/systems/{sid}"
    assert system["name"] == "Benefit fraud risk scoring"
    assert system["organisation_id"] == world.city.id
    assert system["organisation"] == "City of Lindholm"
    assert system["lifecycle_stage"] == "pre_design"
    assert system["publication_state"] == "draft"
    assert system["risk_level"] == "unassessed"
    assert system["revision"] == 1
    assert system["created_at"].endswith("Z")
    assert system["published_at"] is None
    assert system["next_stages"] == ["design", "procurement", "decommissioning"]
    assert system["gate_failures"] == {}
    assert system["data_sources"][0]["role"] == "training"
    assert system["permissions"]["system.update"] is True
    assert system["permissions"]["system.publish"] is False

    got = api.get(f"/systems/{sid}", headers=editor)
    assert got.status_code == 200
    assert got.json() == system

    # PUT replaces the whole record; a name change is not a significant modification.
    put = api.put(
        f"/systems/{sid}",
        json={**complete_details().snapshot(), "name": "Claim triage", "note": "Renamed"},
        headers=editor,
    )
    assert put.status_code == 200, put.text
    assert put.json()["name"] == "Claim triage"
    assert put.json()["revision"] == 2
    assert put.json()["significant_modification_at"] is None

    # PATCH changes only what it is given, on top of the current record.
    patch = api.patch(
        f"/systems/{sid}",
        json={"purpose": "Rank claims for a second look.", "expected_revision": 2},
        headers=editor,
    )
    assert patch.status_code == 200, patch.text
    patched = patch.json()
    assert patched["purpose"] == "Rank claims for a second look."
    assert patched["name"] == "Claim triage"
    assert patched["legal_basis"] == system["legal_basis"]
    assert patched["data_sources"] == system["data_sources"]
    assert patched["revision"] == 3
    # coe-fc:16.2.g: the purpose is a significant field.
    assert patched["significant_modification_at"].endswith("Z")

    sign_current_assessments(
        container, world["city-assessor@example.org"], world["city-approver@example.org"], sid
    )
    for stage in ("design", "development", "testing", "deployment"):
        moved = api.post(
            f"/systems/{sid}/transitions",
            json={"to_stage": stage, "reason": f"Ready for {stage}"},
            headers=editor,
        )
        assert moved.status_code == 201, moved.text
        assert moved.json()["lifecycle_stage"] == stage

    published = api.post(
        f"/systems/{sid}/publication", json={"state": "published"}, headers=approver
    )
    assert published.status_code == 200, published.text
    assert published.json()["publication_state"] == "published"
    assert published.json()["published_at"].endswith("Z")
    public = api.get(f"/public/systems/{sid}")
    assert public.status_code == 200
    assert public.json()["name"] == "Claim triage"

    risk = api.post(
        f"/systems/{sid}/risk-level",
        json={"risk_level": "high", "reason": "Affects benefit payments"},
        headers=approver,
    )
    assert risk.status_code == 200
    assert risk.json()["risk_level"] == "high"

    flagged = api.post(
        f"/systems/{sid}/significant-modifications",
        json={"reason": "Retrained on 2024 claims"},
        headers=editor,
    )
    assert flagged.status_code == 201
    assert flagged.json()["revision"] == 4

    revisions = api.get(f"/systems/{sid}/revisions", headers=editor)
    assert revisions.status_code == 200
    page = revisions.json()
    assert page["total"] == 4
    assert page["next_offset"] is None
    assert [r["number"] for r in page["items"]] == [4, 3, 2, 1]
    newest, third, second, first = page["items"]
    assert newest["significant"] is True
    assert newest["significant_reason"] == "Retrained on 2024 claims"
    assert newest["changes"] == []
    assert third["significant"] is True
    assert third["changes"] == [
        {
            "field": "purpose",
            "label": "Purpose",
            "before": system["purpose"],
            "after": "Rank claims for a second look.",
        }
    ]
    assert second["note"] == "Renamed"
    assert second["significant"] is False
    assert [c["field"] for c in second["changes"]] == ["name"]
    assert first["actor"] == "city-editor@example.org"
    assert first["at"].endswith("Z")

    transitions = api.get(f"/systems/{sid}/transitions", headers=editor).json()
    assert transitions["total"] == 5
    assert [t["to_stage"] for t in transitions["items"]] == [
        "deployment",
        "testing",
        "development",
        "design",
        "pre_design",
    ]
    assert transitions["items"][0]["from_stage"] == "testing"
    assert transitions["items"][0]["reason"] == "Ready for deployment"
    assert transitions["items"][-1] == {
        **transitions["items"][-1],
        "from_stage": None,
        "reason": "Pilot",
    }
    assert api.get("/ledger/verify", headers=editor).json()["ok"] is True


def test_patch_with_nothing_new_keeps_the_revision(
    api: TestClient, world: World, as_user: Callable[[str], Headers]
) -> None:
    editor = as_user("city-editor@example.org")
    sid = api.post("/systems", json=complete_body(world), headers=editor).json()["id"]
    same = api.patch(f"/systems/{sid}", json={"name": "Benefit fraud risk scoring"}, headers=editor)
    assert same.status_code == 200
    assert same.json()["revision"] == 1
    assert api.get(f"/systems/{sid}/revisions", headers=editor).json()["total"] == 1


def test_gate_refuses_deployment_without_legal_basis_and_changes_nothing(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    editor = as_user("city-editor@example.org")
    created = api.post(
        "/systems",
        json={"organisation_id": world.city.id, "name": "Chatbot", "lifecycle_stage": "testing"},
        headers=editor,
    )
    sid = created.json()["id"]
    record = [
        f for f in created.json()["gate_failures"]["deployment"] if f["gate"] == "record-complete"
    ]
    blocked = {f["field"] for f in record}
    assert blocked == {"purpose", "legal_basis", "human_oversight", "contest_information"}
    assert {f["provision"] for f in record} == {"coe-fc:14.2.b"}
    before = ledger_size(container)

    refused = api.post(
        f"/systems/{sid}/transitions",
        json={"to_stage": "deployment", "reason": "Go live"},
        headers=editor,
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid"
    assert "coe-fc:14.2.b" in error["message"]
    assert ["body", "legal_basis"] in field_locs(refused)
    assert ["body", "contest_information"] in field_locs(refused)

    after = api.get(f"/systems/{sid}", headers=editor).json()
    assert after["lifecycle_stage"] == "testing"
    assert api.get(f"/systems/{sid}/transitions", headers=editor).json()["total"] == 1
    assert ledger_size(container) == before

    # Registering straight into deployment passes the same gate.
    straight = api.post(
        "/systems",
        json={"organisation_id": world.city.id, "name": "X", "lifecycle_stage": "deployment"},
        headers=editor,
    )
    assert straight.status_code == 422
    assert ["body", "legal_basis"] in field_locs(straight)
    # A move off the lifecycle graph (testing -> use) names to_stage.
    off_graph = api.post(
        f"/systems/{sid}/transitions", json={"to_stage": "use", "reason": "x"}, headers=editor
    )
    assert off_graph.status_code == 422
    assert field_locs(off_graph) == [["body", "to_stage"]]
    assert "Allowed next stages" in off_graph.json()["error"]["message"]
    assert ledger_size(container) == before


def test_stale_expected_revision_is_refused_with_409(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    editor = as_user("city-editor@example.org")
    sid = api.post("/systems", json=complete_body(world), headers=editor).json()["id"]
    first = api.patch(
        f"/systems/{sid}", json={"vendor": "Acme", "expected_revision": 1}, headers=editor
    )
    assert first.status_code == 200
    record = api.get(f"/systems/{sid}", headers=editor).json()
    before = ledger_size(container)

    stale_put = api.put(
        f"/systems/{sid}",
        json={**complete_details().snapshot(), "vendor": "Other", "expected_revision": 1},
        headers=editor,
    )
    assert stale_put.status_code == 409
    assert stale_put.json()["error"]["code"] == "conflict"
    assert "revision 2" in stale_put.json()["error"]["message"]
    stale_patch = api.patch(
        f"/systems/{sid}", json={"vendor": "Other", "expected_revision": 1}, headers=editor
    )
    assert stale_patch.status_code == 409

    assert api.get(f"/systems/{sid}", headers=editor).json() == record
    assert ledger_size(container) == before


def test_delete_a_draft_but_not_a_published_system(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    admin = as_user("city-admin@example.org")
    draft = api.post("/systems", json=complete_body(world, name="Draft"), headers=admin).json()
    kept = api.post("/systems", json=complete_body(world, name="Kept"), headers=admin).json()
    assert (
        api.post(
            f"/systems/{kept['id']}/publication", json={"state": "published"}, headers=admin
        ).status_code
        == 200
    )

    deleted = api.delete(f"/systems/{draft['id']}", headers=admin)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert api.get(f"/systems/{draft['id']}", headers=admin).status_code == 404

    before = ledger_size(container)
    refused = api.delete(f"/systems/{kept['id']}", headers=admin)
    assert refused.status_code == 409
    assert "archive" in refused.json()["error"]["message"]
    assert api.get(f"/systems/{kept['id']}", headers=admin).status_code == 200
    assert ledger_size(container) == before


# -- input validation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "loc", "words"),
    [
        pytest.param({"sector": "space"}, ["body", "sector"], "public_administration", id="enum"),
        pytest.param({"colour": "blue"}, ["body", "colour"], "Extra inputs", id="unknown-field"),
        pytest.param({"provider": "p" * 501}, ["body", "provider"], "500", id="short-text"),
        pytest.param({"purpose": "p" * 10_001}, ["body", "purpose"], "10000", id="long-text"),
        pytest.param({"name": "n" * 201}, ["body", "name"], "200", id="long-name"),
        pytest.param({"name": "  "}, ["body", "name"], "Name is required", id="empty-name"),
        pytest.param(
            {"affected_groups": ["g"] * 51}, ["body", "affected_groups"], "50", id="long-list"
        ),
        pytest.param(
            {"data_sources": [{"name": "x", "role": "gossip"}]},
            ["body", "data_sources", 0, "role"],
            "training",
            id="nested-enum",
        ),
        pytest.param(
            {"lifecycle_stage": "sale"}, ["body", "lifecycle_stage"], "Sale", id="not-initial"
        ),
        pytest.param(
            {"scope_exemption": "national_security", "scope_justification": ""},
            ["body", "scope_justification"],
            "coe-fc:3",
            id="domain-rule",
        ),
    ],
)
def test_invalid_system_is_refused_naming_the_field(
    api: TestClient,
    container: Container,
    world: World,
    as_user: Callable[[str], Headers],
    changes: dict[str, Any],
    loc: list[Any],
    words: str,
) -> None:
    editor = as_user("city-editor@example.org")
    before = ledger_size(container)
    response = api.post("/systems", json=complete_body(world, **changes), headers=editor)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    problems = {tuple(f["loc"]): f["msg"] for f in error["fields"]}
    assert tuple(loc) in problems, problems
    assert words in problems[tuple(loc)]
    assert api.get("/systems", headers=editor).json()["total"] == 0
    assert ledger_size(container) == before


def test_malformed_json_and_null_fields_are_refused(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    editor = as_user("city-editor@example.org")
    sid = api.post("/systems", json=complete_body(world), headers=editor).json()["id"]
    record = api.get(f"/systems/{sid}", headers=editor).json()
    before = ledger_size(container)

    broken = api.post(
        "/systems",
        content=b'{"organisation_id": 1, "name": ',
        headers={**editor, "content-type": "application/json"},
    )
    assert broken.status_code == 422
    assert "Malformed JSON" in broken.json()["error"]["message"]
    assert broken.json()["error"]["fields"][0]["msg"].startswith("Malformed JSON")

    nulled = api.patch(f"/systems/{sid}", json={"purpose": None}, headers=editor)
    assert nulled.status_code == 422
    assert field_locs(nulled) == [["body", "purpose"]]

    oversized = api.patch(f"/systems/{sid}", json={"vendor": "v" * 501}, headers=editor)
    assert oversized.status_code == 422
    assert field_locs(oversized) == [["body", "vendor"]]

    no_reason = api.post(
        f"/systems/{sid}/transitions", json={"to_stage": "design", "reason": " "}, headers=editor
    )
    assert no_reason.status_code == 422
    assert field_locs(no_reason) == [["body", "reason"]]

    assert api.get(f"/systems/{sid}", headers=editor).json() == record
    assert ledger_size(container) == before


def test_list_filters_paginate_and_bound_limits(
    api: TestClient, container: Container, world: World, as_user: Callable[[str], Headers]
) -> None:
    editor = world["city-editor@example.org"]
    for i in range(5):
        container.register.create(editor, world.city.id, complete_details(f"Scoring model {i}"))
    container.register.create(editor, world.city.id, complete_details("Parking camera"))
    headers = as_user("city-viewer@example.org")

    first = api.get("/systems", params={"q": "scoring", "limit": 2}, headers=headers).json()
    assert (first["total"], first["offset"], first["limit"], first["next_offset"]) == (5, 0, 2, 2)
    assert len(first["items"]) == 2
    last = api.get("/systems", params={"q": "scoring", "limit": 2, "offset": 4}, headers=headers)
    assert last.json()["next_offset"] is None
    assert [s["name"] for s in last.json()["items"]] == ["Scoring model 0"]
    everything = api.get("/systems", params={"limit": 100}, headers=headers).json()
    assert everything["total"] == 6
    names = {s["name"] for s in first["items"]} | {s["name"] for s in last.json()["items"]}
    assert names < {s["name"] for s in everything["items"]}
    item = everything["items"][0]
    assert item["organisation"] == "City of Lindholm"
    assert item["updated_at"].endswith("Z")

    assert (
        api.get("/systems", params={"lifecycle_stage": "design"}, headers=headers).json()["total"]
        == 0
    )
    assert (
        api.get(
            "/systems",
            params={"publication_state": "draft", "sector": "social_security"},
            headers=headers,
        ).json()["total"]
        == 6
    )
    too_many = api.get("/systems", params={"limit": 101}, headers=headers)
    assert too_many.status_code == 422
    assert field_locs(too_many) == [["query", "limit"]]
    bad_enum = api.get("/systems", params={"risk_level": "extreme"}, headers=headers)
    assert bad_enum.status_code == 422
    assert field_locs(bad_enum) == [["query", "risk_level"]]


@pytest.mark.parametrize(
    ("method", "path", "loc"),
    [
        ("GET", "/systems/99999999999999999999", ["path", "system_id"]),
        ("GET", "/systems/0", ["path", "system_id"]),
        ("GET", "/systems?organisation_id=99999999999999999999", ["query", "organisation_id"]),
        ("GET", "/systems?offset=99999999999999999999", ["query", "offset"]),
        ("DELETE", "/tokens/99999999999999999999", ["path", "token_id"]),
        ("GET", "/organisations/99999999999999999999", ["path", "ref"]),
        ("GET", "/organisations/%C2%B2/members", ["path", "ref"]),
        ("GET", "/public/systems/99999999999999999999", ["path", "system_id"]),
    ],
)
def test_ids_beyond_what_the_database_holds_are_refused_not_crashed_on(
    api: TestClient, as_user: Callable[[str], Headers], method: str, path: str, loc: list[str]
) -> None:
    response = api.request(method, path, headers=as_user("city-admin@example.org"))
    assert response.status_code == 422
    assert field_locs(response) == [loc]

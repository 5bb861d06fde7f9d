"""Incident pages and API: record from a case, validation that keeps what was typed,
escaping, four walls, the public register, AIID / AVID exchange over HTTP."""

from __future__ import annotations

import json

import pytest

from ombud.register.domain.systems import PublicationState
from ombud.remedies.domain import CaseKind, Category, PublicReport
from tests.factories import complete_details
from tests.web_helpers import login

EDITOR = "city-editor@example.org"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def published(container, world):
    system = container.register.create(
        world[EDITOR], world.city.id, complete_details("Ask Lindholm")
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    return system


def _form(token: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "title": f"Export readable {SCRIPT}",
        "category": "security",
        "severity": "serious",
        "harm": f"Watch list readable without a password {SCRIPT}",
        "people_affected": "212",
        "occurred_at": "2026-10-18",
        "root_cause": "",
        "corrective_action": "",
        "public_summary": f"A list was stored without protection {SCRIPT}",
    }
    data.update(changes)
    return data


def test_confirm_a_case_as_an_incident_and_show_it_publicly(
    app_client, container, world, published
):
    container.remedies.submit(
        PublicReport(published.id, CaseKind.INCIDENT, Category.SECURITY, "Laptop export open.")
    )
    case = container.remedies.cases(world[EDITOR]).items[0]
    token = login(app_client, EDITOR)
    case_page = app_client.get(f"/cases/{case.id}")
    assert f"/systems/{published.id}/incidents/new?case={case.id}" in case_page.text
    form = app_client.get(f"/systems/{published.id}/incidents/new?case={case.id}")
    assert f'name="case_id" value="{case.id}"' in form.text
    # a mistake: the page comes back with the message at the field, and what was typed
    bad = app_client.post(
        f"/systems/{published.id}/incidents/new",
        data=_form(token, people_affected="many", case_id=str(case.id)),
    )
    assert bad.status_code == 422
    assert "A whole number of people" in bad.text
    assert "Watch list readable without a password &lt;script&gt;" in bad.text
    created = app_client.post(
        f"/systems/{published.id}/incidents/new",
        data=_form(token, case_id=str(case.id)),
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page = app_client.get(created.headers["location"])
    assert "Export readable &lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert SCRIPT not in page.text
    assert f"/cases/{case.id}" in page.text
    assert "incident 1" in app_client.get(f"/cases/{case.id}").text.lower()
    # the public register page shows the anonymised summary, escaped; not the harm text
    public = app_client.get(f"/register/{published.id}")
    assert "Serious incidents" in public.text
    assert "A list was stored without protection &lt;script&gt;" in public.text
    assert "Watch list readable" not in public.text
    assert SCRIPT not in public.text
    # the matrix shows it
    matrix = app_client.get("/compliance")
    assert "1 serious" in matrix.text


def test_resolve_from_the_page_needs_cause_and_action(app_client, container, world, published):
    token = login(app_client, EDITOR)
    created = app_client.post(
        f"/systems/{published.id}/incidents/new", data=_form(token), follow_redirects=False
    )
    url = created.headers["location"]
    refused = app_client.post(f"{url}/resolve", data={"csrf_token": token})
    assert refused.status_code == 422
    assert "Record the root cause" in refused.text
    app_client.post(
        f"{url}/edit",
        data=_form(token, root_cause="Vendor test export.", corrective_action="Export removed."),
    )
    done = app_client.post(f"{url}/resolve", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "Status: <strong>resolved</strong>" in app_client.get(url).text
    # without the CSRF token nothing changes
    assert app_client.post(f"{url}/edit", data={"title": "x"}).status_code == 403


def test_another_organisation_sees_nothing(app_client, container, world, published):
    incident = container.incidents.record(
        world[EDITOR],
        published.id,
        container_draft(),
    )
    login(app_client, "agency-admin@example.org")
    assert app_client.get(f"/incidents/{incident.id}").status_code == 404
    assert app_client.get(f"/systems/{published.id}/incidents").status_code == 404
    assert app_client.get(f"/systems/{published.id}/incidents.json").status_code == 404
    assert "No incidents recorded" in app_client.get("/incidents").text


def container_draft():
    from ombud.incidents.domain import IncidentDraft, Severity

    return IncidentDraft(
        title="Wrong fee information",
        category=Category.DECISION_ERROR,
        harm="Residents were charged a fee the chatbot said was free.",
        severity=Severity.MODERATE,
    )


def test_export_and_import_files_from_the_page(app_client, container, world, published):
    container.incidents.record(world[EDITOR], published.id, container_draft())
    token = login(app_client, EDITOR)
    exported = app_client.get(f"/systems/{published.id}/incidents.json?format=avid")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.json()[0]["data_type"] == "AVID"
    record = {"incident_id": 55, "date": "2024-05-01", "title": "Imported", "description": "d"}
    files = {"file": ("aiid.json", json.dumps([record]).encode(), "application/json")}
    done = app_client.post(
        f"/systems/{published.id}/incidents/import",
        data={"csrf_token": token, "format": "aiid", "severity": "low"},
        files=files,
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert len(container.incidents.for_system(world[EDITOR], published.id)) == 2
    broken = app_client.post(
        f"/systems/{published.id}/incidents/import",
        data={"csrf_token": token, "format": "aiid", "severity": "low"},
        files={"file": ("bad.json", b"{not json", "application/json")},
    )
    assert broken.status_code == 422
    assert "bad.json is not valid JSON" in broken.text
    unknown = app_client.get(f"/systems/{published.id}/incidents.json?format=csv")
    assert unknown.status_code == 422


def test_incident_api(api, as_user, container, world, published):
    city = as_user(EDITOR)
    body = {
        "title": "Wrong fee information",
        "category": "decision_error",
        "harm": "Twelve residents were charged.",
        "severity": "moderate",
        "people_affected": 12,
        "occurred_on": "2026-09-02",
    }
    created = api.post(f"/systems/{published.id}/incidents", json=body, headers=city)
    assert created.status_code == 201, created.text
    incident = created.json()
    assert incident["status"] == "open"
    assert incident["occurred_at"].startswith("2026-09-02")
    serious = api.post(
        f"/systems/{published.id}/incidents", json={**body, "severity": "critical"}, headers=city
    )
    assert serious.status_code == 422
    assert "public_summary" in serious.text
    listed = api.get(f"/systems/{published.id}/incidents", headers=city).json()
    assert [i["id"] for i in listed["items"]] == [incident["id"]]
    resolve = api.post(f"/incidents/{incident['id']}/resolve", headers=city)
    assert resolve.status_code == 422
    updated = api.put(
        f"/incidents/{incident['id']}",
        json={**body, "root_cause": "Old index.", "corrective_action": "Index rebuilt."},
        headers=city,
    )
    assert updated.status_code == 200
    assert (
        api.post(f"/incidents/{incident['id']}/resolve", headers=city).json()["status"]
        == "resolved"
    )
    exported = api.get(
        f"/systems/{published.id}/incidents/export", params={"format": "aiid"}, headers=city
    ).json()
    assert exported["format"] == "aiid"
    assert exported["records"][0]["title"] == body["title"]
    imported = api.post(
        f"/systems/{published.id}/incidents/import",
        json={"format": "aiid", "severity": "low", "records": exported["records"]},
        headers=city,
    ).json()
    assert imported == {"created": [], "skipped": ["aiid-title:wrong fee information"]}
    other = as_user("agency-admin@example.org")
    assert api.get(f"/incidents/{incident['id']}", headers=other).status_code == 404
    assert api.get("/incidents", headers=other).json()["total"] == 0
    assert (
        api.post(f"/systems/{published.id}/incidents", json=body, headers=other).status_code == 404
    )
    viewer = as_user("city-viewer@example.org")
    assert (
        api.post(f"/systems/{published.id}/incidents", json=body, headers=viewer).status_code == 403
    )
    assert api.get("/incidents", headers=viewer).json()["total"] == 1

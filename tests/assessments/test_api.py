"""Assessments over the JSON API: answer, refuse a bad answer by question, submit, sign."""

from __future__ import annotations

from tests.factories import complete_details

SCREENING_ANSWERS = {
    "use_description": "Ranking benefit claims for review",
    "biometrics": "no",
    "practices": ["none"],
    "impossible_to_comply": "no",
    "undue_risk": "no",
    "state_measure": "none",
    "incompatible_use": "no",
    "reasoning": "A person reviews every flag.",
}


def test_assessment_workflow_over_the_api(api, as_user, world, container):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details()
    )
    assessor = as_user("city-assessor@example.org")
    templates = api.get("/templates", headers=assessor).json()["items"]
    assert {t["urn"] for t in templates} >= {
        "urn:ombud:template:hudera",
        "urn:ombud:template:red-line-screening",
    }
    started = api.post(
        f"/systems/{system.id}/assessments",
        json={"template": "urn:ombud:template:red-line-screening"},
        headers=assessor,
    )
    assert started.status_code == 201, started.text
    aid = started.json()["id"]
    bad = api.patch(
        f"/assessments/{aid}/answers", json={"answers": {"biometrics": "perhaps"}}, headers=assessor
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["loc"] == ["answers", "biometrics"]
    early = api.post(f"/assessments/{aid}/submit", headers=assessor)
    assert early.status_code == 422
    ok = api.patch(
        f"/assessments/{aid}/answers", json={"answers": SCREENING_ANSWERS}, headers=assessor
    )
    assert ok.status_code == 200
    assert api.post(f"/assessments/{aid}/submit", headers=assessor).status_code == 200
    assert api.post(f"/assessments/{aid}/sign", json={}, headers=assessor).status_code == 403
    signed = api.post(
        f"/assessments/{aid}/sign",
        json={"review_date": "2027-11-23"},
        headers=as_user("city-approver@example.org"),
    )
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert body["status"] == "signed"
    assert len(body["content_hash"]) == 64
    listed = api.get(
        f"/systems/{system.id}/assessments", headers=as_user("oversight-viewer@example.org")
    )
    assert [a["id"] for a in listed.json()["items"]] == [aid]
    assert (
        api.get(f"/assessments/{aid}", headers=as_user("agency-admin@example.org")).status_code
        == 404
    )

"""Assessment pages: answer with and without JavaScript, four-eyes sign-off, report and PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.factories import complete_details
from tests.web_helpers import csrf_from, login

SCREENING = {
    "q-use_description": "Ranking benefit claims for review",
    "q-biometrics": "no",
    "q-practices-present": "1",
    "q-practices": "none",
    "q-impossible_to_comply": "no",
    "q-undue_risk": "no",
    "q-state_measure": "none",
    "q-incompatible_use": "no",
    "q-reasoning": "A person reviews every flag.",
}


def _start(client, system_id, template, token):
    response = client.post(
        f"/systems/{system_id}/assessments",
        data={"template": template, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_answer_submit_sign_and_report(app_client, world, container):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Claims triage")
    )
    token = login(app_client, "city-assessor@example.org")
    aid = _start(app_client, system.id, "urn:ombud:template:red-line-screening:1.0", token)
    page = app_client.get(f"/assessments/{aid}")
    assert "Red-line screening" in page.text
    revision = page.text.split('name="revision" value="', 1)[1].split('"', 1)[0]
    # a wrong answer: nothing saved, the typed answers come back, the question is named
    bad = app_client.post(
        f"/assessments/{aid}",
        data={**SCREENING, "q-biometrics": "perhaps", "csrf_token": token, "revision": revision},
    )
    assert bad.status_code == 422
    assert "nothing was saved" in bad.text
    assert "Ranking benefit claims for review" in bad.text
    assert (
        container.assessments.get(world["city-assessor@example.org"], aid).assessment.answers == {}
    )
    # HTMX autosave answers with a status fragment
    saved = app_client.post(
        f"/assessments/{aid}",
        headers={"HX-Request": "true"},
        data={"q-use_description": "Ranking claims", "csrf_token": token, "revision": revision},
    )
    assert saved.status_code == 200
    assert "Saved (revision" in saved.text
    assert "<html" not in saved.text
    # reloading finds the answer
    assert "Ranking claims" in app_client.get(f"/assessments/{aid}").text
    current = container.assessments.get(world["city-assessor@example.org"], aid).assessment
    submitted = app_client.post(
        f"/assessments/{aid}",
        data={**SCREENING, "submit": "1", "csrf_token": token, "revision": str(current.revision)},
        follow_redirects=False,
    )
    assert submitted.status_code == 303
    # the author may not sign
    assert (
        app_client.post(f"/assessments/{aid}/sign", data={"csrf_token": token}).status_code == 403
    )
    app_client.cookies.clear()
    token = login(app_client, "city-approver@example.org")
    signed = app_client.post(
        f"/assessments/{aid}/sign",
        data={"csrf_token": token, "review_date": "2027-11-23"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    report = app_client.get(f"/assessments/{aid}/report")
    assert "Claims triage" in report.text
    assert "Content sha256" in report.text
    pdf = app_client.get(f"/assessments/{aid}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Claims triage" in text
    assert "signed" in text


def test_impact_assessment_shows_its_level_and_heat_map(app_client, world, container):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Housing allocation")
    )
    token = login(app_client, "city-assessor@example.org")
    aid = _start(app_client, system.id, "urn:ombud:template:hudera", token)
    view = container.assessments.get(world["city-assessor@example.org"], aid)
    right = view.template.question("rights").columns[0].options[0].value
    app_client.post(
        f"/assessments/{aid}",
        data={
            "csrf_token": token,
            "q-rights-present": "1",
            "q-rights-0-right": right,
            "q-rights-0-gravity": "4",
            "q-rights-0-scope": "3",
            "q-rights-0-reversibility": "2",
            "q-rights-0-probability": "3",
        },
    )
    page = app_client.get(f"/assessments/{aid}").text
    assert "Level: <strong>high</strong>" in page
    response = app_client.get(f"/assessments/{aid}/report")
    report = response.text
    assert "<svg" in report
    assert "Risk heat map" in report
    # its own inline styles colour the heat map; still no script of any kind
    csp = response.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in csp
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    label = view.template.question("rights").columns[0].options[0].label
    assert label in report  # answers show as their labels, not stored values


def test_viewers_read_but_do_not_edit(app_client, world, container):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details()
    )
    a = container.assessments.start(
        world["city-assessor@example.org"], system.id, "urn:ombud:template:red-line-screening"
    )
    token = login(app_client, "city-viewer@example.org")
    page = app_client.get(f"/assessments/{a.id}")
    assert page.status_code == 200
    assert "hx-post" not in page.text
    denied = app_client.post(
        f"/assessments/{a.id}", data={"q-use_description": "x", "csrf_token": csrf_from(page.text)}
    )
    assert denied.status_code == 403
    assert token


def test_a_ban_shows_on_the_register_pages_and_in_compliance(app_client, world, container):
    from ombud.assessments.domain import RedLineDecisionKind
    from ombud.register.domain.systems import PublicationState

    assessor = world["city-assessor@example.org"]
    approver = world["city-approver@example.org"]
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Crowd face matcher")
    )
    a = container.assessments.start(assessor, system.id, "urn:ombud:template:red-line-screening")
    answers = {
        "use_description": "Matching faces in crowds",
        "biometrics": "yes",
        "biometrics_details": "Live face matching at demonstrations.",
        "practices": ["political_surveillance"],
        "impossible_to_comply": "yes",
        "undue_risk": "yes",
        "state_measure": "none",
        "incompatible_use": "yes",
        "reasoning": "Political surveillance.",
        "decision_context": "Proposal.",
    }
    container.assessments.save_answers(assessor, a.id, answers)
    container.assessments.submit(assessor, a.id)
    for hit in container.assessments.get(approver, a.id).red_lines:
        container.assessments.decide_red_line(
            approver,
            a.id,
            hit.rule.id,
            RedLineDecisionKind.BAN,
            "Incompatible with freedom of assembly.",
        )
    container.assessments.sign(approver, a.id)
    container.register.set_publication(approver, system.id, PublicationState.PUBLISHED)
    public = app_client.get(f"/register/{system.id}").text
    assert "Red-line decisions" in public
    assert "Incompatible with freedom of assembly." in public
    login(app_client, "city-viewer@example.org")
    assert "Red-line decisions" in app_client.get(f"/systems/{system.id}").text
    matrix = container.compliance.for_system(approver, system.id)
    row = next(r for r in matrix.results if r.requirement.id == "red-line-screening")
    assert row.status.value == "met", row.reason
    assert container.register.get(approver, system.id).system.risk_level.value == "unacceptable"


def test_answers_file_upload_and_a_corrupt_one_changes_nothing(app_client, world, container):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details()
    )
    assessor = world["city-assessor@example.org"]
    a = container.assessments.start(assessor, system.id, "urn:ombud:template:red-line-screening")
    token = login(app_client, "city-assessor@example.org")
    good = app_client.post(
        f"/assessments/{a.id}/answers-file",
        data={"csrf_token": token},
        files={
            "answers_file": (
                "answers.yaml",
                b"use_description: Ranking claims\n",
                "application/yaml",
            )
        },
        follow_redirects=False,
    )
    assert good.status_code == 303
    before = container.assessments.get(assessor, a.id).assessment
    assert before.answers == {"use_description": "Ranking claims"}
    corrupt = app_client.post(
        f"/assessments/{a.id}/answers-file",
        data={"csrf_token": token},
        files={
            "answers_file": (
                "answers.yaml",
                b"use_description: other\nbiometrics: [\n",
                "application/yaml",
            )
        },
    )
    assert corrupt.status_code == 422
    assert "answers.yaml:" in corrupt.text
    wrong = app_client.post(
        f"/assessments/{a.id}/answers-file",
        data={"csrf_token": token},
        files={"answers_file": ("answers.yaml", b"biometrics: perhaps\n", "application/yaml")},
    )
    assert wrong.status_code == 422
    assert "answers.yaml:1" in wrong.text
    binary = app_client.post(
        f"/assessments/{a.id}/answers-file",
        data={"csrf_token": token},
        files={"answers_file": ("answers.pdf", b"%PDF", "application/pdf")},
    )
    assert binary.status_code == 422
    assert "use a .yaml" in binary.text
    after = container.assessments.get(assessor, a.id).assessment
    assert after.answers == before.answers
    assert after.revision == before.revision


def test_evidence_files_are_checked_attached_and_downloaded(app_client, world, container):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details()
    )
    assessor = world["city-assessor@example.org"]
    a = container.assessments.start(assessor, system.id, "urn:ombud:template:hudera")
    token = login(app_client, "city-assessor@example.org")

    def upload(name, data, kind="application/octet-stream"):
        return app_client.post(
            f"/assessments/{a.id}/evidence",
            data={"csrf_token": token},
            files={"evidence_file": (name, data, kind)},
            follow_redirects=False,
        )

    assert upload("test-report.pdf", b"%PDF-1.7 test report").status_code == 303
    fake = upload("report.pdf", b"MZ\x90\x00 not a pdf")
    assert fake.status_code == 422
    assert "is not a PDF file" in fake.text
    assert upload("tool.exe", b"MZ").status_code == 422
    too_big = upload("big.csv", b"a," * 800_000)
    assert too_big.status_code == 422
    assert "the limit is 1.5 MB" in too_big.text
    files = container.assessments.evidence(assessor, a.id)
    assert [f.name for f in files] == ["test-report.pdf"]
    got = app_client.get(f"/evidence/{files[0].id}")
    assert got.content == b"%PDF-1.7 test report"
    assert got.headers["content-type"] == "application/pdf"
    app_client.cookies.clear()
    login(app_client, "agency-admin@example.org")
    assert app_client.get(f"/evidence/{files[0].id}").status_code == 404

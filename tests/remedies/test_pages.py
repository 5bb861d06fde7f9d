"""Public intake and case handling: tracking code and key, four walls between
organisations, outcomes to the person, escaping, rate limits."""

from __future__ import annotations

import pytest

from ombud.app import create_app
from ombud.register.domain.systems import PublicationState
from tests.factories import complete_details
from tests.web_helpers import csrf_from, form_token_of, login


@pytest.fixture
def published(container, world):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Benefit chatbot")
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    return system


def test_public_intake_api_and_follow_link(app_client, api, as_user, published, container, world):
    body = {
        "system": published.id,
        "kind": "complaint",
        "category": "decision_error",
        "description": "My benefit was stopped <script>alert(1)</script>",
        "decision_reference": "letter of 3 May",
    }
    created = app_client.post("/api/v1/public/reports", json=body)
    assert created.status_code == 201, created.text
    receipt = created.json()
    code, follow = receipt["tracking_code"], receipt["follow_url"]
    assert follow.startswith(f"{container.settings.base_url}/follow/")  # OMBUD_PUBLIC_URL
    status = app_client.get(follow, headers={"Accept": "application/json"})
    assert status.status_code == 200
    assert status.json()["state"] == "received"
    # the code alone, or a wrong key, reveals nothing
    wrong = app_client.get(f"/follow/{code}/not-the-key", headers={"Accept": "application/json"})
    assert wrong.status_code == 404
    assert "received" not in wrong.text
    # handlers of the organisation see it; another organisation's do not
    city = as_user("city-editor@example.org")
    queue = api.get("/cases", headers=city).json()
    assert [c["tracking_code"] for c in queue["items"]] == [code]
    case_id = queue["items"][0]["id"]
    assert api.get("/cases", headers=as_user("agency-admin@example.org")).json()["total"] == 0
    assert (
        api.get(f"/cases/{case_id}", headers=as_user("agency-admin@example.org")).status_code == 404
    )
    assert (
        api.get(f"/cases/{case_id}", headers=as_user("city-viewer@example.org")).status_code == 404
    )
    # decide: needs reasons; the person sees the outcome, never internal notes
    api.post(f"/cases/{case_id}/notes", json={"text": "Caseworker Jensen decided it"}, headers=city)
    api.post(f"/cases/{case_id}/state", json={"state": "under_review"}, headers=city)
    no_reason = api.post(f"/cases/{case_id}/state", json={"state": "decided"}, headers=city)
    assert no_reason.status_code == 422
    decided = api.post(
        f"/cases/{case_id}/state",
        json={"state": "decided", "outcome": "Payment restored from May."},
        headers=city,
    )
    assert decided.status_code == 200
    seen = app_client.get(follow, headers={"Accept": "application/json"}).json()
    assert seen["state"] == "decided"
    assert seen["outcome"] == "Payment restored from May."
    assert all("Jensen" not in m["text"] for m in seen["messages"])
    page = app_client.get(follow)
    assert "Payment restored from May." in page.text
    # markup the person typed is shown as text to handlers
    login(app_client, "city-editor@example.org")
    handler_page = app_client.get(f"/cases/{case_id}").text
    assert "<script>alert(1)</script>" not in handler_page
    assert "&lt;script&gt;" in handler_page


def test_intake_refuses_bad_reports_clearly(app_client, published, container, world):
    draft = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Secret draft")
    )
    unpublished = app_client.post(
        "/api/v1/public/reports",
        json={"system": draft.id, "kind": "incident", "category": "privacy", "description": "x"},
    )
    assert unpublished.status_code == 422
    assert unpublished.json()["error"]["fields"][0]["loc"] == ["body", "system"]
    bad = app_client.post(
        "/api/v1/public/reports",
        json={"system": published.id, "kind": "incident", "category": "aliens", "description": "x"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["loc"] == ["body", "category"]
    review = app_client.post(
        "/api/v1/public/reports",
        json={
            "system": published.id,
            "kind": "human_review",
            "category": "decision_error",
            "description": "Please review",
        },
    )
    assert review.status_code == 422
    assert "decision_reference" in review.text


def test_report_form_without_javascript_and_the_honeypot(app_client, published):
    form = app_client.get(f"/register/{published.id}/report")
    token = csrf_from(form.text)
    data = {
        "csrf_token": token,
        "form_token": form_token_of(form.text),
        "kind": "incident",
        "category": "deepfake",
        "description": "A fake video of me is circulating",
        "removal_requested": "1",
    }
    sent = app_client.post(f"/register/{published.id}/report", data=data)
    assert sent.status_code == 201
    assert 'id="tracking-code"' in sent.text
    follow = sent.text.split('id="follow-link" href="', 1)[1].split('"', 1)[0]
    assert app_client.get(follow).status_code == 200
    spam = app_client.post(f"/register/{published.id}/report", data={**data, "website": "x"})
    assert spam.status_code == 422


def test_public_forms_are_rate_limited(container, published):
    from fastapi.testclient import TestClient

    container.settings.public_rate_limit = "2/minute"
    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        body = {"system": published.id, "kind": "incident", "category": "other", "description": "x"}
        codes = [client.post("/api/v1/public/reports", json=body).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_ai_notice_page_qr_and_pdf(app_client, published, container, world):
    import io

    from pypdf import PdfReader

    page = app_client.get(f"/register/{published.id}/notice")
    assert page.status_code == 200
    assert "You are dealing with an AI system" in page.text
    assert "<svg" in page.text
    assert f"{container.settings.base_url}/register/{published.id}/notice" in page.text  # snippet
    qr = app_client.get(f"/register/{published.id}/notice.svg")
    assert qr.headers["content-type"].startswith("image/svg+xml")
    pdf = app_client.get(f"/register/{published.id}/notice.pdf")
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert "You are dealing with an AI system" in text
    assert "Benefit chatbot" in text
    draft = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Hidden")
    )
    for suffix in ("", ".svg", ".pdf"):
        assert app_client.get(f"/register/{draft.id}/notice{suffix}").status_code == 404


def _report(container, system_id, kind="complaint", reference=""):
    from ombud.remedies.domain import CaseKind, Category, PublicReport

    receipt = container.remedies.submit(
        PublicReport(
            system_id,
            CaseKind(kind),
            Category.DECISION_ERROR,
            "My claim was refused.",
            decision_reference=reference,
        )
    )
    return receipt


def test_a_tracking_code_already_taken_is_drawn_again(container, world, published, monkeypatch):
    from ombud.remedies import service as remedies

    codes = iter(["TAKENCODE", "TAKENCODE", "FRESHCODE"])
    monkeypatch.setattr(remedies, "new_tracking_code", lambda: next(codes))
    first = _report(container, published.id)
    second = _report(container, published.id)
    assert (first.tracking_code, second.tracking_code) == ("TAKENCODE", "FRESHCODE")
    assert next(codes, None) is None  # the taken code was tried once more, then a new one
    admin = world["city-admin@example.org"]
    assert container.remedies.cases(admin).total == 2
    assert container.remedies.follow("FRESHCODE", second.secret)["state"] == "received"


def test_human_review_goes_to_someone_else_than_the_original_decider(container, world, published):
    from ombud.kernel.errors import Forbidden, Invalid
    from ombud.remedies.domain import CaseState

    receipt = _report(container, published.id, "human_review", "decision of 3 May")
    admin = world["city-admin@example.org"]
    case = container.remedies.cases(admin).items[0]
    with pytest.raises(Invalid) as exc:
        container.remedies.assign(admin, case.id, "city-editor@example.org")
    assert "original_decider" in exc.value.field_messages()
    with pytest.raises(Invalid):
        container.remedies.assign(
            admin, case.id, "city-editor@example.org", "city-editor@example.org"
        )
    with pytest.raises(Invalid):  # a viewer does not handle cases
        container.remedies.assign(
            admin, case.id, "city-viewer@example.org", "city-approver@example.org"
        )
    container.remedies.assign(
        admin, case.id, "city-editor@example.org", "city-approver@example.org"
    )
    container.remedies.move(admin, case.id, CaseState.UNDER_REVIEW)
    with pytest.raises(Forbidden):  # not the assigned reviewer
        container.remedies.move(admin, case.id, CaseState.DECIDED, outcome="Upheld.")
    container.remedies.move(
        world["city-editor@example.org"],
        case.id,
        CaseState.DECIDED,
        outcome="The decision is corrected: benefit granted.",
    )
    status = container.remedies.follow(receipt.tracking_code, receipt.secret)
    assert status["outcome"] == "The decision is corrected: benefit granted."


def test_escalation_reaches_only_the_oversight_body_with_jurisdiction(container, world, published):
    from datetime import timedelta

    from ombud.kernel.errors import Conflict, Forbidden
    from ombud.kernel.service import utcnow
    from ombud.remedies.domain import CaseState
    from ombud.remedies.service import RemediesService

    receipt = _report(container, published.id)
    overseer = world["oversight-viewer@example.org"]
    assert container.remedies.oversight_queue(overseer).total == 0
    with pytest.raises(Conflict):  # not overdue yet
        container.remedies.escalate_overdue(receipt.tracking_code, receipt.secret)
    later = RemediesService(
        container.remedies.uow_factory, clock=lambda: utcnow() + timedelta(days=6)
    )
    assert later.follow(receipt.tracking_code, receipt.secret)["overdue"] is True
    later.escalate_overdue(receipt.tracking_code, receipt.secret)
    queue = container.remedies.oversight_queue(overseer)
    assert [c.tracking_code for c in queue.items] == [receipt.tracking_code]
    # the overseer reads it; its officers, not its viewers, add notes (coe-fc:26)
    case_id = queue.items[0].id
    assert container.remedies.get(overseer, case_id).case.state is CaseState.ESCALATED
    with pytest.raises(Forbidden):
        container.remedies.note(overseer, case_id, "We have asked the city for its file.")
    officer = world["oversight-admin@example.org"]
    container.remedies.note(officer, case_id, "We have asked the city for its file.")
    # a parliament without jurisdiction over the city sees nothing
    assert container.remedies.oversight_queue(world["parliament-viewer@example.org"]).total == 0
    # a handler escalates directly too
    second = _report(container, published.id)
    admin = world["city-admin@example.org"]
    sid = next(
        c.id
        for c in container.remedies.cases(admin).items
        if c.tracking_code == second.tracking_code
    )
    container.remedies.move(admin, sid, CaseState.ESCALATED, "Serious: passed to the authority")
    assert container.remedies.oversight_queue(overseer).total == 2


def test_cases_cli(container, world, published, database_url, tmp_path):
    from typer.testing import CliRunner

    from ombud.cli.main import app

    receipt = _report(container, published.id)
    env = {"OMBUD_DATABASE_URL": database_url, "OMBUD_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    listed = runner.invoke(app, ["cases", "list", "--as", "city-admin@example.org"], env=env)
    assert listed.exit_code == 0, listed.output
    assert receipt.tracking_code in listed.output
    case_id = container.remedies.cases(world["city-admin@example.org"]).items[0].id
    moved = runner.invoke(
        app,
        ["cases", "move", str(case_id), "under_review", "--as", "city-admin@example.org"],
        env=env,
    )
    assert moved.exit_code == 0, moved.output
    decided = runner.invoke(
        app,
        [
            "cases",
            "decide",
            str(case_id),
            "--outcome",
            "Corrected.",
            "--as",
            "city-admin@example.org",
        ],
        env=env,
    )
    assert decided.exit_code == 0, decided.output
    shown = runner.invoke(
        app, ["cases", "show", str(case_id), "--as", "city-admin@example.org"], env=env
    )
    assert '"state": "decided"' in shown.stdout
    refused = runner.invoke(
        app, ["cases", "show", str(case_id), "--as", "agency-admin@example.org"], env=env
    )
    assert refused.exit_code == 4

"""Overseers act on an escalated case only as their mandate and role allow (coe-fc:26,
coe-fc:14.2.c): a parliament never writes on cases, an oversight body writes through
its officers (editor, approver, admin; never a viewer), running the case stays with the
organisation; and the person sees who wrote to them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from ombud.kernel.access import (
    SYSTEM_PRINCIPAL,
    Action,
    OrganisationKind,
    OrganisationRef,
    Principal,
    Role,
    acting_for,
    is_allowed,
)
from ombud.kernel.errors import Forbidden, NotFound
from ombud.register.domain.systems import PublicationState
from ombud.remedies.domain import CaseKind, CaseState, Category, PublicReport
from ombud.remedies.service import Receipt
from tests.conftest import World
from tests.factories import complete_details
from tests.web_helpers import csrf_from, login

BODY_NAME = "AI Supervisory Authority"
BODY_LABEL = f"{BODY_NAME} (oversight body)"
OFFICER = "oversight-admin@example.org"
REFUSED = ("oversight-viewer@example.org", "parliament-viewer@example.org")


@dataclass
class Escalated:
    case_id: int
    receipt: Receipt

    @property
    def follow(self) -> str:
        return f"/follow/{self.receipt.tracking_code}/{self.receipt.secret}"


def _submit(container, system_id: int, kind: CaseKind = CaseKind.COMPLAINT) -> Receipt:
    return container.remedies.submit(
        PublicReport(
            system_id,
            kind,
            Category.DECISION_ERROR,
            "My claim was refused.",
            contact="eva@example.net",
            decision_reference="letter of 3 May",
        )
    )


@pytest.fixture
def escalated(container, world: World) -> Escalated:
    """A city case escalated to its overseers; the parliament is given jurisdiction too."""
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Benefit chatbot")
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    receipt = _submit(container, system.id)
    admin = world["city-admin@example.org"]
    case_id = container.remedies.cases(admin).items[0].id
    container.remedies.move(admin, case_id, CaseState.ESCALATED)
    container.accounts.grant_jurisdiction(SYSTEM_PRINCIPAL, world.parliament.slug, world.city.slug)
    return Escalated(case_id, receipt)


def _who(container, email: str):
    """Loaded afresh: the world's principals predate the parliament's jurisdiction."""
    return container.accounts.principal_for_email(email)


def _messages(container, case_id: int) -> list[tuple[str, str, bool]]:
    view = container.remedies.get(_who(container, "city-admin@example.org"), case_id)
    return [(m.author, m.text, m.internal) for m in view.messages]


# -- the service refuses --------------------------------------------------------------


@pytest.mark.parametrize("email", REFUSED)
def test_a_viewer_or_a_parliament_member_cannot_write_on_an_escalated_case(
    container, escalated, email
):
    remedies = container.remedies
    actor = _who(container, email)
    assert remedies.get(actor, escalated.case_id).case.state is CaseState.ESCALATED  # reads
    before = _messages(container, escalated.case_id)
    head = container.ledger.verify().checked
    attempts = {
        "internal note": lambda: remedies.note(actor, escalated.case_id, "Noted."),
        "message": lambda: remedies.note(actor, escalated.case_id, "Dear Eva", internal=False),
        "move": lambda: remedies.move(actor, escalated.case_id, CaseState.UNDER_REVIEW),
        "decide": lambda: remedies.move(
            actor, escalated.case_id, CaseState.DECIDED, outcome="Upheld."
        ),
        "close": lambda: remedies.move(actor, escalated.case_id, CaseState.CLOSED),
        "assign": lambda: remedies.assign(actor, escalated.case_id, "city-editor@example.org"),
    }
    allowed = []
    for what, attempt in attempts.items():
        try:
            attempt()
        except Forbidden:
            continue
        allowed.append(what)
    assert allowed == []
    assert _messages(container, escalated.case_id) == before
    assert container.ledger.verify().checked == head


def test_an_oversight_officer_writes_but_does_not_run_the_organisations_case(container, escalated):
    officer = _who(container, OFFICER)
    container.remedies.note(officer, escalated.case_id, "We asked the city for its file.")
    container.remedies.note(
        officer, escalated.case_id, "We have your complaint and are looking into it.", False
    )
    assert _messages(container, escalated.case_id)[-2:] == [
        (OFFICER, "We asked the city for its file.", True),
        (OFFICER, "We have your complaint and are looking into it.", False),
    ]
    # the city's handler of the case hears that its overseer wrote
    mails = container.notifications.recent(SYSTEM_PRINCIPAL, False, 50)
    told = [m.subject for m in mails if m.recipient == "city-admin@example.org"]
    assert told.count(f"Case {escalated.receipt.tracking_code}: {BODY_NAME} wrote on the case") == 2
    # deciding, closing and assigning stay with the city's handlers
    for attempt in (
        lambda: container.remedies.move(officer, escalated.case_id, CaseState.CLOSED),
        lambda: container.remedies.move(
            officer, escalated.case_id, CaseState.DECIDED, outcome="Upheld."
        ),
        lambda: container.remedies.assign(officer, escalated.case_id, "city-editor@example.org"),
    ):
        with pytest.raises(Forbidden):
            attempt()


def test_before_escalation_an_overseer_sees_nothing_of_the_case(container, world, escalated):
    system_id = container.remedies.get(_who(container, OFFICER), escalated.case_id).case.system_id
    _submit(container, system_id)
    admin = world["city-admin@example.org"]
    fresh = next(c for c in container.remedies.cases(admin).items if c.escalated_at is None)
    for email in (OFFICER, *REFUSED):
        actor = _who(container, email)
        with pytest.raises(NotFound):
            container.remedies.get(actor, fresh.id)
        with pytest.raises(NotFound):
            container.remedies.note(actor, fresh.id, "Anything?")


# -- the person sees who wrote ----------------------------------------------------------


def test_the_person_sees_the_oversight_body_as_the_sender(app_client, container, escalated):
    officer = _who(container, OFFICER)
    container.remedies.note(officer, escalated.case_id, "We are looking into it.", False)
    city = _who(container, "city-editor@example.org")
    container.remedies.note(city, escalated.case_id, "Our file went to the authority.", False)

    status = app_client.get(escalated.follow, headers={"Accept": "application/json"}).json()
    senders = {m["text"]: m["from"] for m in status["messages"]}
    assert senders == {
        "We are looking into it.": BODY_LABEL,
        "Our file went to the authority.": "City of Lindholm",
    }
    page = app_client.get(escalated.follow).text
    assert f"<strong>{BODY_LABEL}</strong>" in page
    assert "the organisation</strong>" not in page
    assert "@example.org" not in page  # no handler's address

    mails = container.notifications.recent(SYSTEM_PRINCIPAL, False, 50)
    to_person = [m.body for m in mails if m.recipient == "eva@example.net"]
    assert any(f"Message from {BODY_LABEL}:\nWe are looking into it." in b for b in to_person)
    assert any("Message from City of Lindholm:\nOur file went" in b for b in to_person)
    assert all("@example.org" not in b for b in to_person)


# -- the pages and the API ask the same policy --------------------------------------------


def _forms(html: str, case_id: int) -> set[str]:
    return {
        what for what in ("notes", "state", "assign") if f'action="/cases/{case_id}/{what}"' in html
    }


@pytest.mark.parametrize(
    ("email", "forms"),
    [
        ("oversight-viewer@example.org", set()),
        ("parliament-viewer@example.org", set()),
        (OFFICER, {"notes"}),
        ("city-editor@example.org", {"notes", "state", "assign"}),
    ],
)
def test_the_case_page_shows_only_the_forms_the_policy_allows(
    app_client, container, escalated, email, forms
):
    login(app_client, email)
    page = app_client.get(f"/cases/{escalated.case_id}")
    assert page.status_code == 200
    assert _forms(page.text, escalated.case_id) == forms
    assert ("confirm it as an incident" in page.text) == email.startswith("city-")


@pytest.mark.parametrize("email", REFUSED)
def test_writes_from_the_page_are_refused_with_403(app_client, container, escalated, email):
    login(app_client, email)
    token = csrf_from(app_client.get(f"/cases/{escalated.case_id}").text)
    url = f"/cases/{escalated.case_id}"
    before = _messages(container, escalated.case_id)
    for path, data in (
        ("notes", {"text": "Noted."}),
        ("notes", {"text": "Dear Eva", "to_reporter": "1"}),
        ("state", {"state": "closed"}),
        ("assign", {"reviewer": "city-editor@example.org"}),
    ):
        answer = app_client.post(
            f"{url}/{path}", data={"csrf_token": token, **data}, follow_redirects=False
        )
        assert answer.status_code == 403, (path, data, answer.text)
    assert _messages(container, escalated.case_id) == before


def test_an_officer_writes_to_the_person_from_the_page(app_client, container, escalated):
    login(app_client, OFFICER)
    url = f"/cases/{escalated.case_id}"
    token = csrf_from(app_client.get(url).text)
    sent = app_client.post(
        f"{url}/notes",
        data={"csrf_token": token, "text": "We opened an inquiry.", "to_reporter": "1"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    with TestClient(app_client.app, base_url="http://127.0.0.1") as person:
        page = person.get(escalated.follow).text
    assert f"<strong>{BODY_LABEL}</strong>" in page
    assert "We opened an inquiry." in page


@pytest.mark.parametrize("email", REFUSED)
def test_writes_through_the_api_are_refused_with_403(api, container, escalated, email):
    token = container.accounts.create_token(_who(container, email), "tests").token
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/cases/{escalated.case_id}"
    shown = api.get(url, headers=headers)
    assert shown.status_code == 200
    assert shown.json()["permissions"] == {
        "case.handle": False,
        "case.write": False,
        "incident.record": False,
    }
    for path, body in (
        ("notes", {"text": "Noted."}),
        ("notes", {"text": "Dear Eva", "internal": False}),
        ("state", {"state": "closed"}),
        ("state", {"state": "decided", "outcome": "Upheld."}),
        ("assign", {"reviewer": "city-editor@example.org"}),
    ):
        answer = api.post(f"{url}/{path}", json=body, headers=headers)
        assert answer.status_code == 403, (path, body, answer.text)


def test_an_officer_writes_through_the_api(api, container, escalated):
    token = container.accounts.create_token(_who(container, OFFICER), "tests").token
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/cases/{escalated.case_id}"
    assert api.get(url, headers=headers).json()["permissions"] == {
        "case.handle": False,
        "case.write": True,
        "incident.record": False,
    }
    sent = api.post(
        f"{url}/notes", json={"text": "Inquiry opened.", "internal": False}, headers=headers
    )
    assert sent.status_code == 201, sent.text
    assert (OFFICER, "Inquiry opened.", False) in _messages(container, escalated.case_id)


# -- the rule itself ------------------------------------------------------------------


# Written out here, independently of domain/access.py: who acts for an oversight body.
OFFICER_ROLES = {Role.EDITOR, Role.APPROVER, Role.ADMIN}


@pytest.mark.parametrize("kind", [OrganisationKind.OVERSIGHT_BODY, OrganisationKind.PARLIAMENT])
@pytest.mark.parametrize("role", list(Role))
def test_only_an_oversight_bodys_officers_write_on_escalated_cases(kind, role):
    body = OrganisationRef(1000, kind, "Body")
    city = OrganisationRef(1, OrganisationKind.PUBLIC_AUTHORITY, "City")
    member = Principal(2000, "m@example.org", {body.id: role}, {body.id: kind}, frozenset({1}))
    officer = kind is OrganisationKind.OVERSIGHT_BODY and role in OFFICER_ROLES
    assert is_allowed(member, Action.CASE_WRITE, city, [body]) is officer
    assert (acting_for(member, Action.CASE_WRITE, city, [body]) == body) is officer
    assert is_allowed(member, Action.CASE_READ, city, [body]) is True
    assert is_allowed(member, Action.CASE_HANDLE, city, [body]) is False
    # without the body among the city's overseers (no jurisdiction, or not escalated): nothing
    assert is_allowed(member, Action.CASE_READ, city) is False
    assert is_allowed(member, Action.CASE_WRITE, city) is False
    # the member's own view of their jurisdiction must agree
    outside = Principal(2000, "m@example.org", {body.id: role}, {body.id: kind})
    assert is_allowed(outside, Action.CASE_READ, city, [body]) is False

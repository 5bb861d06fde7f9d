"""Adding people to organisations through the pages and the API: nobody but the invitee
ever holds a credential (issue 13, finding 1), the answer does not tell whether an
address had an account, set-password links, and who may manage members (finding 2).

Mail goes to a local SMTP sink (aiosmtpd on 127.0.0.1); links in it must start with
OMBUD_PUBLIC_URL whatever Host the request that caused them named.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import delete

from ombud.accounts.tables import sign_in_throttle
from ombud.api import create_api
from ombud.bootstrap import Container, bootstrap
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.kernel.web.deps import RateLimits
from ombud.kernel.web.security import SESSION_COOKIE
from tests.conftest import PASSWORD, World, make_settings
from tests.factories import complete_details
from tests.web_helpers import csrf_from, login

PUBLIC_URL = "https://ombud.example.org"
LINK_RE = re.compile(r"(\S+)/set-password/([A-Za-z0-9_-]+)")
OFFICER = "officer@example.net"
OFFICERS_OWN = "the officer's own passphrase"

Headers = dict[str, str]


# -- an installation with e-mail, and a sink that receives it -------------------------


class Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content)
        msg["X-Rcpt"] = ",".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["X-Rcpt"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    received = Sink()
    controller = Controller(received, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield received, controller.port
    finally:
        controller.stop()


@pytest.fixture
def mailing(database_url: str, tmp_path: Path, sink: tuple[Sink, int]) -> Iterator[Container]:
    """The container of an installation that sends mail (to the sink)."""
    settings = make_settings(
        database_url,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=sink[1],
        smtp_from="ombud <noreply@ombud.test>",
        public_url=PUBLIC_URL,
        mail_interval_seconds=3600,  # the test sends when it wants to
    )
    c = bootstrap(settings, fast_password_hashing=True)
    yield c
    c.close()


@pytest.fixture
def people(mailing: Container) -> World:
    return World(mailing)


@pytest.fixture
def api_m(mailing: Container) -> Iterator[TestClient]:
    with TestClient(create_api(mailing, RateLimits()), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def pages_m(mailing: Container) -> Iterator[TestClient]:
    from ombud.app import create_app

    with TestClient(create_app(mailing), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def token_of(mailing: Container, people: World) -> Callable[[str], Headers]:
    def headers(email: str) -> Headers:
        token = mailing.accounts.create_token(people[email], "tests").token
        return {"Authorization": f"Bearer {token}"}

    return headers


def _deliver(c: Container, sink: Sink, address: str) -> list[Message]:
    """Send the outbox and return what the address received."""
    c.notifications.send_pending()
    return sink.to(address)


def _link_in(messages: list[Message]) -> tuple[str, str]:
    """(base, token) of the newest set-password link among the messages."""
    found = [m for msg in messages for m in LINK_RE.findall(msg.get_payload(decode=True).decode())]
    assert found, "no set-password link was received"
    return found[-1]


def _strings(value: Any) -> list[str]:
    """Every string anywhere in a JSON answer (what an inviter could try as a password)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)] + list(value)
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _forget_failures(c: Container) -> None:
    """Each guess is heard as if it were the first (the throttle would refuse later
    guesses unheard, and the test must show that the guess itself is wrong)."""
    with c.engines.write.begin() as conn:
        conn.execute(delete(sign_in_throttle))


def _signs_in(api: TestClient, email: str, password: str) -> bool:
    answer = api.post("/auth/token", json={"email": email, "password": password, "name": "x"})
    assert answer.status_code in (201, 401, 422), answer.text
    return answer.status_code == 201


def _member_id(api: TestClient, path: str, headers: Headers, email: str) -> int:
    items = api.get(path, headers=headers).json()["items"]
    return int(next(m["user_id"] for m in items if m["email"] == email))


# -- finding 1: the takeover, end to end ---------------------------------------------


def test_an_inviter_never_holds_a_credential_for_the_person_it_adds(
    api_m: TestClient,
    mailing: Container,
    people: World,
    sink: tuple[Sink, int],
    token_of: Callable[[str], Headers],
) -> None:
    """The reproduction of issue 13: the city's admin adds an address that has no
    account and removes it; the agency adds the same address; the city's admin then
    tries to sign in as that person and edit the agency's draft. Before the fix, the
    city's admin got the account's password in the answer and did both."""
    received, _ = sink
    city_admin, agency_admin = (
        token_of("city-admin@example.org"),
        token_of("agency-admin@example.org"),
    )
    city_members = f"/organisations/{people.city.id}/members"
    agency_members = f"/organisations/{people.agency.id}/members"
    draft = mailing.register.create(
        people["agency-editor@example.org"], people.agency.id, complete_details("Benefit triage")
    )

    added = api_m.post(city_members, json={"email": OFFICER, "role": "viewer"}, headers=city_admin)
    assert added.status_code == 201
    saved = _strings(added.json())  # everything the city's admin kept from the answer
    for guess in saved:
        _forget_failures(mailing)
        assert not _signs_in(api_m, OFFICER, guess), f"the inviter's {guess!r} signs in"
    removed = api_m.delete(
        f"{city_members}/{_member_id(api_m, city_members, city_admin, OFFICER)}",
        headers=city_admin,
    )
    assert removed.status_code == 204

    # The person chooses a password through the link that only they received.
    [invitation] = _deliver(mailing, received, OFFICER)
    base, token = _link_in([invitation])
    assert base == PUBLIC_URL
    assert (
        api_m.post(
            "/auth/set-password", json={"token": token, "password": OFFICERS_OWN}
        ).status_code
        == 204
    )

    again = api_m.post(
        agency_members, json={"email": OFFICER, "role": "editor"}, headers=agency_admin
    )
    assert again.status_code == 201
    assert set(again.json()) == set(added.json())

    # Nothing the city's admin ever got signs in as the person...
    for guess in saved + _strings(again.json()):
        _forget_failures(mailing)
        assert not _signs_in(api_m, OFFICER, guess), f"the inviter's {guess!r} signs in"
    # ...and the agency's draft stays out of its reach.
    edit = api_m.patch(f"/systems/{draft.id}", json={"vendor": "x"}, headers=city_admin)
    assert edit.status_code == 404
    _forget_failures(mailing)
    assert _signs_in(api_m, OFFICER, OFFICERS_OWN)  # the person's own password works


def test_a_second_organisation_cannot_take_an_account_nobody_has_claimed(
    api_m: TestClient,
    mailing: Container,
    people: World,
    sink: tuple[Sink, int],
    token_of: Callable[[str], Headers],
) -> None:
    city_admin, agency_admin = (
        token_of("city-admin@example.org"),
        token_of("agency-admin@example.org"),
    )
    city_members = f"/organisations/{people.city.id}/members"
    api_m.post(city_members, json={"email": OFFICER, "role": "viewer"}, headers=city_admin)
    api_m.delete(
        f"{city_members}/{_member_id(api_m, city_members, city_admin, OFFICER)}",
        headers=city_admin,
    )
    refused = api_m.post(
        f"/organisations/{people.agency.id}/members",
        json={"email": OFFICER, "role": "editor"},
        headers=agency_admin,
    )
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "cannot be added at the moment" in message
    assert "account" not in message
    assert "password" not in message
    # The link the city's invitation mailed leads to the city only.
    _, token = _link_in(_deliver(mailing, sink[0], OFFICER))
    api_m.post("/auth/set-password", json={"token": token, "password": OFFICERS_OWN})
    principal = mailing.accounts.principal_for_email(OFFICER)
    assert dict(principal.memberships) == {}


def test_links_in_mail_use_the_public_url_not_the_host_of_the_request(
    api_m: TestClient,
    mailing: Container,
    people: World,
    sink: tuple[Sink, int],
    token_of: Callable[[str], Headers],
) -> None:
    headers = {**token_of("city-admin@example.org"), "Host": "attacker.example"}
    answer = api_m.post(
        f"/organisations/{people.city.id}/members",
        json={"email": OFFICER, "role": "viewer"},
        headers=headers,
    )
    assert answer.status_code == 201
    [mail] = _deliver(mailing, sink[0], OFFICER)
    body = mail.get_payload(decode=True).decode()
    assert "attacker.example" not in body
    assert _link_in([mail])[0] == PUBLIC_URL
    assert mail["Subject"] == "You were invited to City of Lindholm on ombud"


def test_the_answer_is_the_same_for_a_new_and_an_existing_address(
    api_m: TestClient,
    pages_m: TestClient,
    mailing: Container,
    people: World,
    sink: tuple[Sink, int],
    token_of: Callable[[str], Headers],
) -> None:
    admin = token_of("city-admin@example.org")
    path = f"/organisations/{people.city.id}/members"
    new = api_m.post(path, json={"email": OFFICER, "role": "viewer"}, headers=admin)
    old = api_m.post(
        path, json={"email": "agency-viewer@example.org", "role": "viewer"}, headers=admin
    )
    assert new.status_code == old.status_code == 201

    def neutral(body: dict[str, Any], email: str) -> dict[str, Any]:
        return {k: (v.replace(email, "X") if isinstance(v, str) else v) for k, v in body.items()}

    assert neutral(new.json(), OFFICER) == neutral(old.json(), "agency-viewer@example.org")
    # The existing account only hears the news; no link, no password.
    [news] = _deliver(mailing, sink[0], "agency-viewer@example.org")
    assert "set-password" not in news.get_payload(decode=True).decode()

    # And the page says the same words for both.
    token = login(pages_m, "city-admin@example.org")
    texts = []
    for email in ("second.new@example.net", "agency-editor@example.org"):
        page = pages_m.post(
            "/admin/members",
            data={
                "org": str(people.city.id),
                "email": email,
                "role": "viewer",
                "csrf_token": token,
            },
        )
        assert page.status_code == 200
        flash = re.search(r'<p class="flash" role="status">([^<]*)</p>', page.text)
        assert flash
        texts.append(flash.group(1).replace(email, "X"))
        assert "password is" not in page.text.lower()
        assert 'id="set-password-link"' not in page.text
    assert texts[0] == texts[1]


# -- the set-password page --------------------------------------------------------


def test_the_set_password_page_sets_it_once_and_signs_nobody_in(
    api_m: TestClient,
    pages_m: TestClient,
    mailing: Container,
    people: World,
    sink: tuple[Sink, int],
    token_of: Callable[[str], Headers],
) -> None:
    api_m.post(
        f"/organisations/{people.city.id}/members",
        json={"email": OFFICER, "role": "editor"},
        headers=token_of("city-admin@example.org"),
    )
    _, token = _link_in(_deliver(mailing, sink[0], OFFICER))
    form = pages_m.get(f"/set-password/{token}")
    assert form.status_code == 200
    assert OFFICER in form.text
    assert form.headers["cache-control"] == "no-store"
    assert form.headers["referrer-policy"] == "no-referrer"
    csrf = csrf_from(form.text)

    no_csrf = pages_m.post(
        f"/set-password/{token}", data={"password": OFFICERS_OWN, "password_again": OFFICERS_OWN}
    )
    assert no_csrf.status_code == 403
    differ = pages_m.post(
        f"/set-password/{token}",
        data={"password": OFFICERS_OWN, "password_again": "something else", "csrf_token": csrf},
    )
    assert differ.status_code == 422
    assert "differ" in differ.text
    short = pages_m.post(
        f"/set-password/{token}",
        data={"password": "short", "password_again": "short", "csrf_token": csrf},
    )
    assert short.status_code == 422
    assert "at least 12 characters" in short.text

    done = pages_m.post(
        f"/set-password/{token}",
        data={"password": OFFICERS_OWN, "password_again": OFFICERS_OWN, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/login"
    assert SESSION_COOKIE not in done.cookies  # nobody was signed in by it
    assert pages_m.get("/systems", follow_redirects=False).status_code == 303
    # The link worked once.
    assert pages_m.get(f"/set-password/{token}").status_code == 404
    login(pages_m, OFFICER, OFFICERS_OWN)
    assert OFFICER in pages_m.get("/systems").text


def test_an_unknown_link_is_a_plain_not_found(pages_m: TestClient, people: World) -> None:
    page = pages_m.get("/set-password/" + "x" * 43)
    assert page.status_code == 404
    assert "does not work" in page.text
    assert pages_m.get("/set-password/short").status_code in (404, 422)


# -- sign-in: the throttle says the same for every address ---------------------------


def test_the_sign_in_page_answers_known_and_unknown_addresses_alike(
    pages_m: TestClient, people: World
) -> None:
    answers = {}
    for email in ("city-editor@example.org", "nobody@example.org"):
        seen = []
        for _ in range(5):
            page = pages_m.get("/login")
            response = pages_m.post(
                "/login",
                data={
                    "email": email,
                    "password": "wrong guess!",
                    "csrf_token": csrf_from(page.text),
                },
            )
            error = re.search(r'<p class="error" role="alert">([^<]*)</p>', response.text)
            assert error
            seen.append((response.status_code, error.group(1)))
        answers[email] = seen
    assert answers["city-editor@example.org"] == answers["nobody@example.org"]
    assert {status for status, _ in answers["nobody@example.org"]} == {401}
    assert "try again in" in answers["nobody@example.org"][-1][1]


# -- finding 2: platform administrators on the members and organisations pages -----------


@pytest.fixture
def root_page(app_client: TestClient, container: Container, world: World) -> str:
    """The app signed in as a platform administrator who belongs to the parliament."""
    container.accounts.create_user(SYSTEM_PRINCIPAL, "root@example.org", PASSWORD, "Root", True)
    container.accounts.set_role(
        SYSTEM_PRINCIPAL, world.parliament.id, "root@example.org", Role.VIEWER
    )
    return login(app_client, "root@example.org")


def test_a_platform_administrator_sees_no_member_forms_where_there_are_admins(
    app_client: TestClient, container: Container, world: World, root_page: str
) -> None:
    page = app_client.get(f"/admin/members?org={world.city.id}")
    assert page.status_code == 200
    assert "city-admin@example.org" in page.text
    assert 'action="/admin/members"' not in page.text.replace(
        'method="get" action="/admin/members"', ""
    )
    assert (
        f"/admin/members/{world.city.id}/{world['city-viewer@example.org'].user_id}/role"
        not in page.text
    )
    assert "has its own admins" in page.text
    refused = app_client.post(
        "/admin/members",
        data={
            "org": str(world.city.id),
            "email": "root@example.org",
            "role": "admin",
            "csrf_token": root_page,
        },
    )
    assert refused.status_code == 422
    assert "root@example.org" not in {
        u.email for u, _ in container.accounts.members(SYSTEM_PRINCIPAL, world.city.id)
    }


def test_a_platform_administrator_adds_the_first_admin_and_sees_the_link_once(
    app_client: TestClient, container: Container, world: World, root_page: str
) -> None:
    org = container.accounts.create_organisation(
        SYSTEM_PRINCIPAL, "Port Authority", OrganisationKind.PUBLIC_AUTHORITY
    )
    page = app_client.get(f"/admin/members?org={org.id}")
    roles = re.search(r'<select id="role" name="role">(.*?)</select>', page.text)
    assert roles
    assert re.findall(r'value="(\w+)"', roles.group(1)) == ["admin"]
    added = app_client.post(
        "/admin/members",
        data={
            "org": str(org.id),
            "email": "first@port.example",
            "role": "admin",
            "csrf_token": root_page,
        },
    )
    assert added.status_code == 200
    link = re.search(r'<code id="set-password-link">([^<]+)</code>', added.text)
    assert link  # e-mail is off in this installation: shown to the platform administrator
    assert link.group(1).startswith(container.settings.base_url + "/set-password/")
    assert 'id="set-password-link"' not in app_client.get(f"/admin/members?org={org.id}").text
    assert "has its own admins" in app_client.get(f"/admin/members?org={org.id}").text


def test_the_jurisdiction_form_leaves_out_bodies_the_administrator_belongs_to(
    app_client: TestClient, world: World, root_page: str
) -> None:
    page = app_client.get("/admin/organisations")
    select = re.search(r'<select id="oversight" name="oversight">(.*?)</select>', page.text)
    assert select
    assert world.oversight.slug in select.group(1)
    assert world.parliament.slug not in select.group(1)
    refused = app_client.post(
        "/admin/organisations/jurisdiction",
        data={
            "oversight": world.parliament.slug,
            "organisation": world.agency.slug,
            "csrf_token": root_page,
        },
    )
    assert refused.status_code == 403

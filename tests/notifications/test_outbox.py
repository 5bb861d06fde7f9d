"""E-mail about cases through a local SMTP sink (aiosmtpd on 127.0.0.1): who hears
what, nothing internal to the reporter, retries, nothing for rolled-back changes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from ombud.kernel.errors import Invalid
from ombud.kernel.service import utcnow
from ombud.notifications.service import NotificationService
from ombud.notifications.smtp import SmtpMailer
from ombud.notifications.tables import outbox
from ombud.register.domain.systems import PublicationState
from ombud.remedies.domain import CaseKind, CaseState, Category, PublicReport
from tests.factories import complete_details

EDITOR = "city-editor@example.org"


class Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content)
        msg["X-Rcpt"] = ",".join(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


@pytest.fixture
def published(container, world):
    system = container.register.create(world[EDITOR], world.city.id, complete_details("Chatbot"))
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    return system


def _mailer(port: int) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", port, "ombud <noreply@ombud.test>", timeout=5)


def _outbox_rows(container) -> int:
    with container.engines.read.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())


def _report(system_id: int, contact: str = "eva@example.net") -> PublicReport:
    return PublicReport(
        system_id, CaseKind.COMPLAINT, Category.DECISION_ERROR, "Stopped.", contact, "ref 1"
    )


def test_reporter_and_handlers_are_told(container, world, published, smtp):
    sink, port = smtp
    mail = NotificationService(container.accounts.uow_factory, _mailer(port))
    receipt = container.remedies.submit(_report(published.id))
    assert mail.send_pending().sent >= 2
    (received,) = sink.to("eva@example.net")
    body = received.get_payload(decode=True).decode()
    assert receipt.tracking_code in received["Subject"]
    assert f"/follow/{receipt.tracking_code}/{receipt.secret}" in body
    handlers = {m["To"] for m in sink.messages} - {"eva@example.net"}
    assert handlers == {
        "city-editor@example.org",
        "city-approver@example.org",
        "city-admin@example.org",
    }
    assert all(
        "Stopped." not in m.get_payload(decode=True).decode() for m in sink.messages
    )  # links, not content
    case = container.remedies.cases(world[EDITOR]).items[0]
    sink.messages.clear()
    container.remedies.note(world[EDITOR], case.id, "Caseworker Jensen decided it", internal=True)
    assert mail.send_pending().sent == 0
    container.remedies.move(world[EDITOR], case.id, CaseState.UNDER_REVIEW)
    container.remedies.move(
        world[EDITOR], case.id, CaseState.DECIDED, outcome="The stop was lifted: our error."
    )
    mail.send_pending()
    to_eva = sink.to("eva@example.net")
    assert [m["Subject"].split(": ")[-1] for m in to_eva] == ["under review", "decided"]
    assert "The stop was lifted: our error." in to_eva[1].get_payload(decode=True).decode()
    assert all("Jensen" not in m.get_payload(decode=True).decode() for m in sink.messages)
    assert all(receipt.secret not in m.get_payload(decode=True).decode() for m in to_eva)


def test_escalation_reaches_the_oversight_body(container, world, published, smtp):
    sink, port = smtp
    mail = NotificationService(container.accounts.uow_factory, _mailer(port))
    container.remedies.submit(_report(published.id, contact=""))
    case = container.remedies.cases(world[EDITOR]).items[0]
    mail.send_pending()
    sink.messages.clear()
    container.remedies.move(world[EDITOR], case.id, CaseState.ESCALATED, "Serious.")
    mail.send_pending()
    assert {m["To"] for m in sink.messages} == {
        "oversight-viewer@example.org",
        "oversight-admin@example.org",
    }
    assert f"/cases/{case.id}" in sink.messages[0].get_payload(decode=True).decode()


def test_assignment_tells_the_assignee(container, world, published, smtp):
    sink, port = smtp
    mail = NotificationService(container.accounts.uow_factory, _mailer(port))
    container.remedies.submit(_report(published.id, contact=""))
    case = container.remedies.cases(world[EDITOR]).items[0]
    mail.send_pending()
    sink.messages.clear()
    container.remedies.assign(world[EDITOR], case.id, "city-approver@example.org")
    mail.send_pending()
    assert [m["To"] for m in sink.messages] == ["city-approver@example.org"]
    assert "assigned to you" in sink.messages[0]["Subject"]


def test_no_address_no_reporter_mail_and_rollback_queues_nothing(container, world, published):
    container.remedies.submit(_report(published.id, contact=""))
    before = _outbox_rows(container)
    assert before == 3  # the three handlers only
    case = container.remedies.cases(world[EDITOR]).items[0]
    with pytest.raises(Invalid):  # received -> decided is not allowed: nothing changes
        container.remedies.move(world[EDITOR], case.id, CaseState.DECIDED, outcome="x")
    assert _outbox_rows(container) == before
    with pytest.raises(Invalid):
        container.remedies.submit(_report(published.id, contact="eva@example.net\nBcc:x@y.z"))
    assert _outbox_rows(container) == before


def test_a_server_that_is_down_keeps_the_mail_for_later(container, world, published, smtp):
    sink, port = smtp
    container.remedies.submit(_report(published.id))
    now = [utcnow()]
    down = NotificationService(
        container.accounts.uow_factory, _mailer(_free_port()), clock=lambda: now[0]
    )
    result = down.send_pending()
    assert result.sent == 0
    assert result.failed == 4
    with container.engines.read.connect() as conn:
        rows = conn.execute(select(outbox.c.attempts, outbox.c.last_error, outbox.c.sent_at)).all()
    assert all(
        r.attempts == 1 and "cannot reach" in r.last_error and r.sent_at is None for r in rows
    )
    up = NotificationService(container.accounts.uow_factory, _mailer(port), clock=lambda: now[0])
    assert up.send_pending().sent == 0  # not due yet: back-off
    now[0] += timedelta(minutes=2)
    assert up.send_pending().sent == 4
    assert len(sink.messages) == 4
    assert up.send_pending().sent == 0  # sent once


def test_subjects_cannot_inject_headers(container, world, smtp):
    sink, port = smtp
    system = container.register.create(
        world[EDITOR], world.city.id, complete_details("Chatbot\r\nBcc: evil@example.com")
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    mail = NotificationService(container.accounts.uow_factory, _mailer(port))
    container.remedies.submit(_report(system.id))
    mail.send_pending()
    assert sink.messages
    for m in sink.messages:
        assert m["Bcc"] is None
        assert "evil@example.com" not in m["X-Rcpt"]


def test_the_server_sends_in_the_background(container, published, smtp):
    import time

    from fastapi.testclient import TestClient

    from ombud.app import create_app

    sink, port = smtp
    container.notifications = NotificationService(container.accounts.uow_factory, _mailer(port))
    container.settings.mail_interval_seconds = 0.1
    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        body = {
            "system": published.id,
            "kind": "incident",
            "category": "privacy",
            "description": "My address is shown.",
            "contact": "eva@example.net",
        }
        assert client.post("/api/v1/public/reports", json=body).status_code == 201
        deadline = time.monotonic() + 10
        while not sink.to("eva@example.net") and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(sink.to("eva@example.net")) == 1

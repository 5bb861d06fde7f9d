"""The remedies service's rules on the in-memory fakes (tests/fakes.py): a report from
the public to a decision by a person other than the original decider
(unga-78-265:op6.k), refusals that leave no trace, and the person's escalation of an
overdue case to the oversight body (coe-fc:14.2.c)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from ombud.kernel.access import OrganisationKind, Principal, Role
from ombud.kernel.errors import Conflict, Forbidden, Invalid
from ombud.kernel.ledger.domain import LedgerEntry
from ombud.remedies.domain import CaseKind, CaseState, Category, PublicReport
from ombud.remedies.service import Receipt, RemediesService
from tests.fakes import FakeUnitOfWorkFactory

T0 = datetime(2025, 3, 3, 9, 0)
DAY = timedelta(days=1)
PERSON = "eva@example.net"


class Clock:
    """The service's clock, moved on by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    uow: FakeUnitOfWorkFactory
    clock: Clock
    remedies: RemediesService
    system_id: int
    admin: Principal
    reviewer: Principal
    decider: Principal  # took the decision the person wants reviewed
    officer: Principal  # of the oversight body with jurisdiction over the city

    def ledger(self) -> list[LedgerEntry]:
        return list(self.uow.db.state.ledger)

    def mail_to(self, recipient: str) -> list[str]:
        return [m.subject for m in self.uow.db.state.outbox if m.recipient == recipient]

    def report(self, kind: CaseKind = CaseKind.COMPLAINT) -> tuple[Receipt, int]:
        receipt = self.remedies.submit(
            PublicReport(
                self.system_id,
                kind,
                Category.DECISION_ERROR,
                "My housing benefit was stopped.",
                contact=PERSON,
                decision_reference="letter of 3 May",
            )
        )
        case_id = next(
            c.id
            for c in self.remedies.cases(self.admin).items
            if c.tracking_code == receipt.tracking_code
        )
        return receipt, case_id


@pytest.fixture
def world() -> World:
    uow, clock = FakeUnitOfWorkFactory(), Clock()
    city = uow.organisation("City of Lindholm", OrganisationKind.PUBLIC_AUTHORITY, T0)
    body = uow.organisation("AI Supervisory Authority", OrganisationKind.OVERSIGHT_BODY, T0)
    uow.oversee(body, city)
    system = uow.published_system(city, "Housing benefit checker", T0)
    return World(
        uow=uow,
        clock=clock,
        remedies=RemediesService(uow, clock=clock),
        system_id=system.id,
        admin=uow.member("admin@city.example", city, Role.ADMIN, T0),
        reviewer=uow.member("reviewer@city.example", city, Role.EDITOR, T0),
        decider=uow.member("decider@city.example", city, Role.APPROVER, T0),
        officer=uow.member("officer@authority.example", body, Role.ADMIN, T0),
    )


def test_a_human_review_is_decided_by_someone_other_than_the_original_decider(
    world: World,
) -> None:
    receipt, case_id = world.report(CaseKind.HUMAN_REVIEW)
    code, key = receipt.tracking_code, receipt.secret
    assert world.remedies.follow(code, key)["state"] == "received"
    assert world.mail_to(PERSON) == [f"Your request for human review {code} was received"]

    world.clock.now = T0 + DAY
    world.remedies.move(world.admin, case_id, CaseState.ACKNOWLEDGED)
    world.remedies.assign(world.admin, case_id, "Reviewer@City.example", "decider@city.example")
    world.remedies.move(world.admin, case_id, CaseState.UNDER_REVIEW)
    for not_them in (world.decider, world.admin):
        with pytest.raises(Forbidden):
            world.remedies.move(not_them, case_id, CaseState.DECIDED, outcome="Upheld.")
    world.clock.now = T0 + 3 * DAY
    world.remedies.move(
        world.reviewer, case_id, CaseState.DECIDED, outcome="The benefit is restored from May."
    )

    status = world.remedies.follow(code, key)
    assert (status["state"], status["outcome"]) == ("decided", "The benefit is restored from May.")
    assert status["overdue"] is False
    assert world.mail_to("reviewer@city.example") == [
        f'Case {code}: new human review about "Housing benefit checker"',
        f"Case {code}: assigned to you",
    ]
    assert world.mail_to(PERSON)[-1] == f"Your request for human review {code}: decided"
    moves = [(e.actor, e.before, e.after) for e in world.ledger() if e.action == "transition"]
    assert moves == [
        ("admin@city.example", {"state": "received"}, {"state": "acknowledged"}),
        ("admin@city.example", {"state": "acknowledged"}, {"state": "under_review"}),
        ("reviewer@city.example", {"state": "under_review"}, {"state": "decided"}),
    ]


def test_a_refused_move_leaves_no_ledger_entry_no_mail_and_the_case_unchanged(
    world: World,
) -> None:
    receipt, case_id = world.report(CaseKind.HUMAN_REVIEW)
    world.remedies.assign(world.admin, case_id, "reviewer@city.example", "decider@city.example")
    ledger, outbox = world.ledger(), list(world.uow.db.state.outbox)

    with pytest.raises(Invalid) as not_allowed:  # received -> decided skips the review
        world.remedies.move(world.reviewer, case_id, CaseState.DECIDED, outcome="Upheld.")
    assert "allowed: acknowledged, closed, escalated, under_review" in str(
        not_allowed.value.field_messages()["state"]
    )
    world.remedies.move(world.admin, case_id, CaseState.UNDER_REVIEW)
    ledger, outbox = world.ledger(), list(world.uow.db.state.outbox)
    with pytest.raises(Forbidden):  # the original decider, although a handler
        world.remedies.move(world.decider, case_id, CaseState.DECIDED, outcome="Upheld.")
    with pytest.raises(Invalid):  # the reviewer named as the original decider
        world.remedies.assign(world.admin, case_id, "decider@city.example", "decider@city.example")

    assert world.ledger() == ledger
    assert world.uow.db.state.outbox == outbox
    case = world.remedies.get(world.admin, case_id).case
    assert (case.state, case.outcome) == (CaseState.UNDER_REVIEW, "")
    assert (case.assigned_to, case.original_decider) == (
        world.reviewer.user_id,
        "decider@city.example",
    )
    assert world.remedies.follow(receipt.tracking_code, receipt.secret)["outcome"] is None


def test_the_person_escalates_an_overdue_case_to_the_oversight_body(world: World) -> None:
    receipt, case_id = world.report()
    code, key = receipt.tracking_code, receipt.secret
    assert world.remedies.oversight_queue(world.officer).total == 0
    entries = len(world.ledger())
    world.clock.now = T0 + 5 * DAY  # the organisation's five days are not over yet
    assert world.remedies.follow(code, key)["overdue"] is False
    with pytest.raises(Conflict, match="not overdue"):
        world.remedies.escalate_overdue(code, key)
    assert len(world.ledger()) == entries

    world.clock.now = T0 + 6 * DAY
    assert world.remedies.follow(code, key)["overdue"] is True
    world.remedies.escalate_overdue(code, key)

    status = world.remedies.follow(code, key)
    assert (status["state"], status["escalated"], status["overdue"]) == ("escalated", True, False)
    assert [c.id for c in world.remedies.oversight_queue(world.officer).items] == [case_id]
    last = world.ledger()[-1]
    assert (last.action, last.actor, last.after) == (
        "transition",
        "reporter",
        {"state": "escalated", "by": "reporter"},
    )
    told = "escalated by the person: the deadline had passed"
    for handler in ("admin@city.example", "officer@authority.example"):
        assert f"Case {code}: {told}" in world.mail_to(handler)
    # the oversight body now has 60 days; past them, the person cannot escalate again
    world.clock.now = T0 + 70 * DAY
    with pytest.raises(Conflict, match="The case is escalated"):
        world.remedies.escalate_overdue(code, key)
    assert world.ledger()[-1] == last


def test_information_from_the_person_puts_the_case_back_under_review(world: World) -> None:
    receipt, case_id = world.report()
    world.remedies.move(world.admin, case_id, CaseState.ACKNOWLEDGED)
    world.remedies.move(world.admin, case_id, CaseState.NEED_INFO, "Which letter do you mean?")
    world.clock.now = T0 + 4 * DAY
    world.remedies.add_information(receipt.tracking_code, receipt.secret, "The one of 3 May.")

    view = world.remedies.get(world.admin, case_id)
    assert view.case.state is CaseState.UNDER_REVIEW
    assert view.case.deadline == T0 + 34 * DAY
    assert [m.text for m in view.messages] == ["Which letter do you mean?", "The one of 3 May."]
    code = receipt.tracking_code
    assert world.mail_to("admin@city.example")[-1] == f"Case {code}: the person added information"

    world.remedies.move(world.admin, case_id, CaseState.NEED_INFO)
    world.remedies.move(world.admin, case_id, CaseState.CLOSED)
    entries = len(world.ledger())
    with pytest.raises(Conflict, match="closed"):
        world.remedies.add_information(receipt.tracking_code, receipt.secret, "One more thing.")
    assert len(world.ledger()) == entries
    assert [m.text for m in world.remedies.get(world.admin, case_id).messages][-1] == (
        "The one of 3 May."
    )

"""Many people reporting at once go through the group commit (services/group_commit.py)
on SQLite and PostgreSQL: every report is stored once, intact, under its own code and
secret, with one ledger entry each and the hash chain unbroken."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ombud.register.domain.systems import PublicationState
from ombud.remedies.domain import CaseKind, Category, PublicReport
from tests.factories import complete_details

REPORTS = 120


def test_concurrent_reports_are_each_stored_once_and_the_chain_holds(container, world):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Chatbot")
    )
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    entries_before = container.ledger.verify().checked
    texts = [f"Report {i}: <b>the chatbot</b> was wrong about benefit {i}." for i in range(REPORTS)]

    def send(text: str):
        return container.remedies.submit(
            PublicReport(system.id, CaseKind.INCIDENT, Category.DECISION_ERROR, text)
        )

    with ThreadPoolExecutor(16) as pool:
        receipts = list(pool.map(send, texts))

    assert len({r.tracking_code for r in receipts}) == REPORTS
    admin = world["city-admin@example.org"]
    stored = {}
    for offset in range(0, REPORTS, 100):
        page = container.remedies.cases(admin, offset=offset, limit=100)
        stored.update({c.tracking_code: c.description for c in page.items})
    assert page.total == REPORTS
    assert [stored[r.tracking_code] for r in receipts] == texts  # each answer is its own
    for r in receipts[:: REPORTS // 10]:  # the secret that came back opens that case
        assert container.remedies.follow(r.tracking_code, r.secret)["state"] == "received"
    chain = container.ledger.verify()
    assert chain.ok, chain.reason
    assert chain.checked == entries_before + REPORTS

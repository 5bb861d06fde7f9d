"""Incidents through the service, on both databases: staleness, roles, four walls,
the public view, the compliance matrix, AIID / AVID exchange."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from ombud.incidents.domain import IncidentDraft, IncidentStatus, Severity
from ombud.kernel.errors import Forbidden, Invalid, NotFound
from ombud.kernel.ledger.tables import ledger_entries
from ombud.register.domain.systems import PublicationState
from ombud.remedies.domain import CaseKind, Category, PublicReport
from tests.factories import complete_details, sign_current_assessments

EDITOR = "city-editor@example.org"
APPROVER = "city-approver@example.org"
ASSESSOR = "city-assessor@example.org"


def _draft(**changes: object) -> IncidentDraft:
    values: dict[str, object] = {
        "title": "Chatbot gave wrong fee information",
        "category": Category.DECISION_ERROR,
        "harm": "Twelve residents were charged a fee the chatbot said was free.",
        "severity": Severity.MODERATE,
        "people_affected": 12,
    }
    values.update(changes)
    return IncidentDraft(**values)  # type: ignore[arg-type]


SERIOUS = {
    "severity": Severity.SERIOUS,
    "public_summary": "Residents were given wrong fee information; refunds are being made.",
}


@pytest.fixture
def system(container, world):
    s = container.register.create(world[EDITOR], world.city.id, complete_details("Ask Lindholm"))
    return s


def test_recording_makes_signed_assessments_stale_and_is_on_the_ledger(container, world, system):
    sign_current_assessments(container, world[ASSESSOR], world[APPROVER], system.id)
    signed = container.assessments.for_system(world[APPROVER], system.id)
    assert signed
    assert not any(a.stale_at for a in signed)
    incident = container.incidents.record(world[EDITOR], system.id, _draft())
    after = container.assessments.for_system(world[APPROVER], system.id)
    assert after
    assert all(a.stale_at for a in after)
    assert all(f"Incident {incident.id} recorded" in (a.stale_reason or "") for a in after)
    with container.engines.read.connect() as conn:
        actions = conn.execute(
            select(ledger_entries.c.action, ledger_entries.c.entity_type).where(
                ledger_entries.c.entity_type.in_(("incident", "assessment"))
            )
        ).all()
    assert ("create", "incident") in actions
    assert actions.count(("stale", "assessment")) == len(after)
    assert container.ledger.verify().ok


def test_validation_names_the_fields(container, world, system):
    with pytest.raises(Invalid) as err:
        container.incidents.record(world[EDITOR], system.id, _draft(title="", harm=""))
    assert set(err.value.field_messages()) == {"title", "harm"}
    with pytest.raises(Invalid) as err:
        container.incidents.record(world[EDITOR], system.id, _draft(severity=Severity.CRITICAL))
    assert "public_summary" in err.value.field_messages()


def test_roles_and_four_walls(container, world, system):
    incident = container.incidents.record(world[ASSESSOR], system.id, _draft())
    with pytest.raises(Forbidden):
        container.incidents.record(world["city-viewer@example.org"], system.id, _draft())
    with pytest.raises(NotFound):  # another organisation: not even its existence
        container.incidents.record(world["agency-admin@example.org"], system.id, _draft())
    with pytest.raises(NotFound):
        container.incidents.get(world["agency-admin@example.org"], incident.id)
    with pytest.raises(NotFound):
        container.incidents.resolve(world["agency-admin@example.org"], incident.id)
    assert container.incidents.incidents(world["agency-admin@example.org"]).total == 0
    assert container.incidents.incidents(world["city-viewer@example.org"]).total == 1
    # the oversight body with jurisdiction reads, but does not record
    overseer = world["oversight-viewer@example.org"]
    assert container.incidents.get(overseer, incident.id)[0].title == incident.title
    assert container.incidents.incidents(overseer).total == 1
    with pytest.raises(Forbidden):
        container.incidents.record(world["oversight-admin@example.org"], system.id, _draft())
    # the parliament has no jurisdiction here
    assert container.incidents.incidents(world["parliament-viewer@example.org"]).total == 0


def test_confirming_a_case(container, world, system):
    container.register.set_publication(world[APPROVER], system.id, PublicationState.PUBLISHED)
    container.remedies.submit(
        PublicReport(system.id, CaseKind.INCIDENT, Category.DECISION_ERROR, "Charged 450 SEK.")
    )
    case = container.remedies.cases(world[EDITOR]).items[0]
    incident = container.incidents.record(world[EDITOR], system.id, _draft(), case.id)
    assert incident.case_id == case.id
    assert [i.id for i in container.incidents.for_case(world[EDITOR], case.id)] == [incident.id]
    notes = container.remedies.get(world[EDITOR], case.id).messages
    assert any(m.internal and f"incident {incident.id}" in m.text for m in notes)
    other = container.register.create(world[EDITOR], world.city.id, complete_details("Other"))
    with pytest.raises(Invalid) as err:
        container.incidents.record(world[EDITOR], other.id, _draft(), case.id)
    assert "case_id" in err.value.field_messages()


def test_resolve_needs_cause_and_action_then_closes(container, world, system):
    incident = container.incidents.record(world[EDITOR], system.id, _draft())
    with pytest.raises(Invalid) as err:
        container.incidents.resolve(world[EDITOR], incident.id)
    assert set(err.value.field_messages()) == {"root_cause", "corrective_action"}
    container.incidents.update(
        world[EDITOR],
        incident.id,
        _draft(root_cause="Old price list in the index.", corrective_action="Index rebuilt."),
    )
    done = container.incidents.resolve(world[EDITOR], incident.id)
    assert done.status is IncidentStatus.RESOLVED
    assert done.resolved_at is not None
    assert container.incidents.incidents(world[EDITOR], open_only=True).total == 0


def test_serious_incidents_of_published_systems_are_public_and_anonymised(container, world, system):
    container.incidents.record(world[EDITOR], system.id, _draft())
    container.incidents.record(
        world[EDITOR],
        system.id,
        _draft(
            title="Internal title by J. Smith",
            harm="Internal harm text naming Mrs Jensen",
            occurred_at=datetime(2026, 9, 2),
            **SERIOUS,
        ),
    )
    assert container.incidents.public_for_system(system.id) == []  # not published
    container.register.set_publication(world[APPROVER], system.id, PublicationState.PUBLISHED)
    shown = container.incidents.public_for_system(system.id)
    assert len(shown) == 1
    assert shown[0]["month"] == "2026-09"
    assert shown[0]["people_affected"] == "10 to 99"
    assert "Smith" not in str(shown)
    assert "Jensen" not in str(shown)


def test_the_compliance_matrix_shows_incidents(container, world, system):
    def incident_log_result():
        r = container.compliance.for_system(world[EDITOR], system.id)
        found = [
            e for res in r.results for e in res.evidence if e.evidence.kind.value == "incident_log"
        ]
        return r, found

    r, found = incident_log_result()
    assert r.incidents.recorded == 0
    assert found
    assert not any(e.met for e in found)
    incident = container.incidents.record(world[EDITOR], system.id, _draft(**SERIOUS))
    r, found = incident_log_result()
    assert (r.incidents.recorded, r.incidents.open, r.incidents.serious_open) == (1, 1, 1)
    assert r.incidents.unaddressed == 1
    assert not any(e.met for e in found)
    assert "no corrective action" in found[0].detail
    container.incidents.update(
        world[EDITOR], incident.id, _draft(corrective_action="Switched off.", **SERIOUS)
    )
    r, found = incident_log_result()
    assert all(e.met for e in found)
    org = container.compliance.for_organisation(world[EDITOR], world.city.id)
    assert [s.incidents.open for s in org.systems] == [1]


def test_aiid_and_avid_exchange_round_trip_without_duplicates(container, world, system):
    container.incidents.record(world[EDITOR], system.id, _draft(occurred_at=datetime(2026, 9, 2)))
    records = container.incidents.export(world[EDITOR], system.id, "aiid")
    assert records[0]["date"] == "2026-09-02"
    assert records[0]["Alleged deployer of AI system"] == ["city-of-lindholm"]
    # importing our own export again skips it; a record from the AIID is added once
    same = container.incidents.import_records(
        world[EDITOR], system.id, "aiid", records, Severity.MODERATE
    )
    assert same.created == []
    assert len(same.skipped) == 1
    aiid = {
        "incident_id": 812,
        "date": "2025-03-01",
        "title": "Benefits chatbot misinformed claimants",
        "description": "A chatbot gave claimants wrong deadlines.",
        "reports": [4101, 4102],
    }
    first = container.incidents.import_records(
        world[EDITOR], system.id, "aiid", aiid, Severity.LOW, Category.DECISION_ERROR
    )
    again = container.incidents.import_records(
        world[EDITOR], system.id, "aiid", [aiid], Severity.LOW
    )
    assert len(first.created) == 1
    assert again.created == []
    assert again.skipped == ["aiid:812"]
    imported, _ = container.incidents.get(world[EDITOR], first.created[0])
    assert imported.external == {
        "source": "aiid",
        "aiid_reports": [4101, 4102],
        "aiid_incident_id": 812,
    }
    avid = container.incidents.export(world[EDITOR], system.id, "avid")
    assert {r["metadata"]["report_id"] for r in avid} == {
        f"ombud-{i.id}" for i in container.incidents.for_system(world[EDITOR], system.id)
    }
    # all or nothing: one bad record and nothing is imported
    before = len(container.incidents.for_system(world[EDITOR], system.id))
    with pytest.raises(Invalid) as err:
        container.incidents.import_records(
            world[EDITOR],
            system.id,
            "aiid",
            [{**aiid, "incident_id": 9}, {"title": "x"}],
            Severity.LOW,
        )
    assert "record 2" in err.value.message
    assert len(container.incidents.for_system(world[EDITOR], system.id)) == before
    with pytest.raises(NotFound):
        container.incidents.export(world["agency-admin@example.org"], system.id, "aiid")

"""Incidents in the domain: validation, the public view, AIID and AVID exchange."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from ombud.incidents.domain import (
    AIID_DEPLOYER,
    AIID_DEVELOPER,
    ExchangeError,
    Incident,
    IncidentDraft,
    IncidentStatus,
    IncidentTally,
    Severity,
    SystemParties,
    entity_id,
    from_aiid,
    from_avid,
    import_keys,
    people_band,
    personal_data_in,
    public_view,
    to_aiid,
    to_avid,
)
from ombud.remedies.domain import Category

NOW = datetime(2026, 11, 24, 12, 0)
PARTIES = SystemParties("Ask Lindholm chatbot", "City of Lindholm", "Acme AI Ltd", ("Residents",))


def draft(**changes: object) -> IncidentDraft:
    values: dict[str, object] = {
        "title": "Wrong fee information",
        "category": Category.DECISION_ERROR,
        "harm": "Residents were told a fee is free; 12 were charged.",
        "severity": Severity.MODERATE,
        "people_affected": 12,
    }
    values.update(changes)
    return IncidentDraft(**values)  # type: ignore[arg-type]


def incident(**changes: object) -> Incident:
    base = Incident.from_draft(draft(), 7, 3, "editor@example.org", NOW)
    base.id = 41
    for k, v in changes.items():
        setattr(base, k, v)
    return base


def test_a_complete_draft_has_no_problems():
    assert draft().problems(NOW) == {}


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"title": "  "}, "title", "short title"),
        ({"title": "x" * 201}, "title", "At most 200"),
        ({"harm": ""}, "harm", "Describe the harm"),
        ({"people_affected": -1}, "people_affected", "from 0 upwards"),
        ({"occurred_at": datetime(2027, 1, 1)}, "occurred_at", "future"),
        ({"severity": Severity.SERIOUS}, "public_summary", "without names"),
        (
            {"severity": Severity.CRITICAL, "public_summary": "Call Eva on +46 70 123 45 67."},
            "public_summary",
            "telephone number",
        ),
        ({"public_summary": "Write to eva@example.org"}, "public_summary", "e-mail address"),
    ],
)
def test_draft_problems_name_the_field(changes, field, fragment):
    problems = draft(**changes).problems(NOW)
    assert field in problems
    assert fragment in problems[field]


def test_personal_data_screen():
    assert personal_data_in("No personal data, 212 people, 2026-10-18.") == ""
    assert personal_data_in("Account SE45 5000 0000 0583 9825 7466") == "a bank account number"


@pytest.mark.parametrize(
    ("count", "band"),
    [
        (None, "not known"),
        (0, "none"),
        (9, "fewer than 10"),
        (10, "10 to 99"),
        (999, "100 to 999"),
        (5000, "1,000 or more"),
    ],
)
def test_people_are_shown_in_bands(count, band):
    assert people_band(count) == band


def test_public_view_leaves_out_internal_details():
    i = incident(
        severity=Severity.SERIOUS,
        public_summary="Wrong fee information was given.",
        root_cause="Index contained an old price list by J. Smith",
        occurred_at=datetime(2026, 9, 2, 14, 30),
    )
    view = public_view(i)
    assert view == {
        "category": "decision_error",
        "category_label": "An error affecting a decision",
        "severity": "serious",
        "month": "2026-09",
        "people_affected": "10 to 99",
        "status": "open",
        "summary": "Wrong fee information was given.",
        "corrective_action_taken": False,
    }
    assert "Smith" not in str(view)
    assert "editor@example.org" not in str(view)


def test_resolution_needs_cause_and_action():
    i = incident()
    assert set(i.resolution_problems()) == {"root_cause", "corrective_action"}
    assert i.unaddressed
    i.corrective_action = "Price list replaced."
    assert not i.unaddressed
    assert set(i.resolution_problems()) == {"root_cause"}


def test_tally_counts_open_serious_and_unaddressed():
    items = [
        incident(),
        incident(severity=Severity.CRITICAL, corrective_action="Switched off."),
        incident(status=IncidentStatus.RESOLVED),
    ]
    assert IncidentTally.of(items) == IncidentTally(
        recorded=3, open=2, serious_open=1, unaddressed=1
    )


def test_entity_ids_follow_the_aiid_style():
    assert entity_id("City of Lindholm") == "city-of-lindholm"
    assert entity_id("Ålands Bank – AI") == "ålands-bank-ai"


def test_aiid_round_trip_keeps_the_fields():
    i = incident(occurred_at=datetime(2026, 9, 2), external={"aiid_incident_id": 812})
    record = to_aiid(i, PARTIES)
    assert record["incident_id"] == 812
    assert record["date"] == "2026-09-02"
    assert record[AIID_DEPLOYER] == ["city-of-lindholm"]
    assert record[AIID_DEVELOPER] == ["acme-ai-ltd"]
    assert record["implicated_systems"] == ["ask-lindholm-chatbot"]
    back = from_aiid(record, 0, Severity.MODERATE, Category.DECISION_ERROR)
    assert back.key == "aiid:812"
    assert back.draft.title == i.title
    assert back.draft.harm == i.harm
    assert back.draft.occurred_at == datetime(2026, 9, 2)
    assert back.external["aiid_incident_id"] == 812
    assert back.key in import_keys(incident(external={"aiid_incident_id": 812}))


def test_avid_round_trip_keeps_category_and_text():
    for category in Category:
        i = incident(category=category, public_summary="Summary for the public.")
        report = to_avid(i, PARTIES, date(2026, 11, 1))
        assert report["data_type"] == "AVID"
        assert report["affects"]["artifacts"] == [{"type": "System", "name": PARTIES.system_name}]
        back = from_avid(report, 0, Severity.LOW)
        if category not in (Category.MALICIOUS_USE, Category.OTHER):
            assert back.draft.category is category, category
        assert back.draft.harm == "Summary for the public."
        assert back.key == "avid:ombud-41"
        assert back.key in import_keys(i)


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ("not an object", "record 1: expected an object"),
        ({"title": "t", "description": "d", "incident_id": "12"}, "'incident_id' must be a whole"),
        ({"description": "d"}, "'title' is missing"),
        ({"title": "t", "description": "d", "date": "02/09/2026"}, "is not a date"),
        ({"title": "t", "description": "d", "reports": ["a"]}, "'reports' must be a list"),
    ],
)
def test_bad_aiid_records_are_named(record, fragment):
    with pytest.raises(ExchangeError) as err:
        from_aiid(record, 0, Severity.LOW)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    ("record", "fragment"),
    [
        ({"data_type": "CVE"}, "'data_type' must be 'AVID'"),
        ({"problemtype": {"description": {"lang": "eng", "value": "x"}}}, "'description' must be"),
        (
            {"problemtype": {}, "description": {"lang": "eng", "value": "x"}},
            "problemtype.description",
        ),
        (
            {
                "problemtype": {"description": {"lang": "eng", "value": "x"}},
                "description": {"lang": "eng", "value": "y"},
                "impact": {"avid": {"risk_domain": ["Magic"]}},
            },
            "unknown AVID risk domain 'Magic'",
        ),
    ],
)
def test_bad_avid_reports_are_named(record, fragment):
    with pytest.raises(ExchangeError) as err:
        from_avid(record, 2, Severity.LOW)
    assert str(err.value).startswith("report 3")
    assert fragment in str(err.value)

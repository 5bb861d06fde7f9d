"""The AI-system record: validation, significant modifications, snapshots."""

from __future__ import annotations

import enum
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ombud.register.domain.systems import (
    DETAIL_FIELDS,
    DataRole,
    DataSource,
    DecisionRole,
    ScopeExemption,
    Sector,
    Sourcing,
    SystemDetails,
    changed_fields,
    is_significant,
    validate_details,
)
from tests.factories import complete_details

SHORT_TEXT = ("provider", "vendor", "contact_point", "model_technique")
LONG_TEXT = (
    "purpose",
    "intended_use",
    "deployment_context",
    "legal_basis",
    "decisions",
    "effect_on_people",
    "human_oversight",
    "scope_justification",
    "risks_and_safeguards",
    "contest_information",
    "interaction_notice",
)
LABELS = {
    "provider": "Provider",
    "vendor": "Vendor",
    "contact_point": "Contact point",
    "model_technique": "Model or technique",
    "purpose": "Purpose",
    "intended_use": "Intended use",
    "deployment_context": "Deployment context",
    "legal_basis": "Legal basis",
    "decisions": "Decisions taken or supported",
    "effect_on_people": "Effect on people",
    "human_oversight": "Human oversight",
    "scope_justification": "Justification of the exemption",
    "risks_and_safeguards": "Risks and safeguards",
    "contest_information": "How to contest a decision",
    "interaction_notice": "Notice to people interacting with the system",
}

# coe-fc:16.2.g: the fields whose change is a significant modification, by design.
EXPECTED_SIGNIFICANT = {
    "purpose",
    "intended_use",
    "model_technique",
    "data_sources",
    "decision_role",
    "decisions",
    "affected_groups",
    "affects_children",
    "affects_persons_with_disabilities",
    "deployment_context",
}


def test_a_complete_record_is_valid():
    assert validate_details(complete_details()) == {}


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_name_is_required(name):
    problems = validate_details(complete_details(name=name))
    assert problems == {"name": "Name is required."}


def test_name_of_201_characters_is_refused_with_its_length():
    assert validate_details(complete_details(name="n" * 200)) == {}
    problems = validate_details(complete_details(name="n" * 201))
    assert set(problems) == {"name"}
    assert "201" in problems["name"]
    assert "200" in problems["name"]


@pytest.mark.parametrize("field_name", LONG_TEXT)
def test_long_text_over_10000_characters_is_refused(field_name):
    assert validate_details(replace(complete_details(), **{field_name: "x" * 10_000})) == {}
    details = replace(complete_details(), **{field_name: "x" * 10_001})
    if field_name == "scope_justification":
        details.scope_exemption = ScopeExemption.NATIONAL_SECURITY
    problems = validate_details(details)
    assert set(problems) == {field_name}
    message = problems[field_name]
    assert message.startswith(LABELS[field_name])
    assert "10001" in message
    assert "10000" in message


@pytest.mark.parametrize("field_name", SHORT_TEXT)
def test_short_text_over_500_characters_is_refused(field_name):
    assert validate_details(replace(complete_details(), **{field_name: "x" * 500})) == {}
    problems = validate_details(replace(complete_details(), **{field_name: "x" * 501}))
    assert set(problems) == {field_name}
    assert problems[field_name].startswith(LABELS[field_name])
    assert "501" in problems[field_name]
    assert "500" in problems[field_name]


def test_more_than_50_affected_groups_are_refused():
    groups = [f"group {i}" for i in range(50)]
    assert validate_details(complete_details(affected_groups=groups)) == {}
    problems = validate_details(complete_details(affected_groups=[*groups, "one more"]))
    assert set(problems) == {"affected_groups"}
    assert "50" in problems["affected_groups"]


def test_blank_affected_group_is_refused():
    problems = validate_details(complete_details(affected_groups=["claimants", "  "]))
    assert set(problems) == {"affected_groups"}
    assert "non-empty" in problems["affected_groups"]


def test_data_source_without_a_name_is_refused_naming_its_position():
    sources = [DataSource("Register", DataRole.INPUT), DataSource(" ", DataRole.TRAINING)]
    problems = validate_details(complete_details(data_sources=sources))
    assert set(problems) == {"data_sources"}
    assert "Data source 2" in problems["data_sources"]


@pytest.mark.parametrize(
    "exemption", [e for e in ScopeExemption if e is not ScopeExemption.NONE], ids=str
)
@pytest.mark.parametrize("justification", ["", "   "])
def test_a_scope_exemption_needs_a_justification(exemption, justification):
    details = complete_details(scope_exemption=exemption, scope_justification=justification)
    problems = validate_details(details)
    assert set(problems) == {"scope_justification"}
    assert "justification" in problems["scope_justification"].lower()
    assert "coe-fc:3" in problems["scope_justification"]
    argued = replace(details, scope_justification="Weapons procurement under the Defence Act.")
    assert validate_details(argued) == {}


def test_autonomy_in_critical_functions_needs_military_use():
    details = complete_details(autonomy_in_critical_functions=True)
    problems = validate_details(details)
    assert set(problems) == {"autonomy_in_critical_functions"}
    assert "Military use" in problems["autonomy_in_critical_functions"]
    military = replace(details, military_use=True)
    assert validate_details(military) == {}
    assert military.weapons_review_required
    assert not replace(military, autonomy_in_critical_functions=False).weapons_review_required


def test_several_problems_are_reported_together():
    details = complete_details(name="", vendor="v" * 501, autonomy_in_critical_functions=True)
    assert set(validate_details(details)) == {"name", "vendor", "autonomy_in_critical_functions"}


# -- changed fields and significant modifications ------------------------------------


def _different(details: SystemDetails, field_name: str) -> SystemDetails:
    """The same record with one field given another value of its type."""
    value = getattr(details, field_name)
    new: Any
    if isinstance(value, bool):
        new = not value
    elif isinstance(value, enum.Enum):
        new = next(m for m in type(value) if m is not value)
    elif isinstance(value, str):
        new = value + " (changed)"
    elif field_name == "data_sources":
        new = [*value, DataSource("Address register", DataRole.INPUT)]
    elif isinstance(value, list):
        new = [*value, "a new group"]
    else:  # pragma: no cover - a new field type needs a case here
        raise AssertionError(f"no way to change {field_name}")
    return replace(details, **{field_name: new})


def test_every_detail_field_is_covered_by_the_significance_check():
    assert set(EXPECTED_SIGNIFICANT) <= set(DETAIL_FIELDS)


@pytest.mark.parametrize("field_name", DETAIL_FIELDS)
def test_changing_one_field_is_significant_exactly_when_designed(field_name):
    before = complete_details()
    after = _different(before, field_name)
    changed = changed_fields(before.snapshot(), after.snapshot())
    assert changed == [field_name]
    assert is_significant(changed) == (field_name in EXPECTED_SIGNIFICANT)


def test_contact_point_and_name_are_not_significant_but_purpose_is():
    assert not is_significant(["contact_point"])
    assert not is_significant(["name"])
    assert not is_significant(["name", "contact_point", "vendor"])
    assert is_significant(["name", "purpose"])
    assert not is_significant([])


def test_changed_fields_are_listed_in_field_order():
    before = complete_details()
    after = replace(before, contact_point="new@example.org", name="Renamed", purpose="New")
    assert changed_fields(before.snapshot(), after.snapshot()) == [
        "name",
        "purpose",
        "contact_point",
    ]
    assert changed_fields(before.snapshot(), before.snapshot()) == []


# -- snapshots ----------------------------------------------------------------------

texts = st.text(max_size=30)
data_sources = st.builds(
    DataSource,
    name=texts,
    role=st.sampled_from(DataRole),
    provenance=texts,
    personal_data=st.booleans(),
    special_categories=st.booleans(),
    description=texts,
)
details_strategy = st.builds(
    SystemDetails,
    name=texts,
    purpose=texts,
    intended_use=texts,
    deployment_context=texts,
    sector=st.sampled_from(Sector),
    legal_basis=texts,
    decisions=texts,
    decision_role=st.sampled_from(DecisionRole),
    effect_on_people=texts,
    human_oversight=texts,
    affected_groups=st.lists(texts, max_size=4),
    affects_children=st.booleans(),
    affects_persons_with_disabilities=st.booleans(),
    data_sources=st.lists(data_sources, max_size=3),
    model_technique=texts,
    provider=texts,
    vendor=texts,
    sourcing=st.sampled_from(Sourcing),
    scope_exemption=st.sampled_from(ScopeExemption),
    scope_justification=texts,
    military_use=st.booleans(),
    autonomy_in_critical_functions=st.booleans(),
    risks_and_safeguards=texts,
    contact_point=texts,
    contest_information=texts,
    interaction_notice=texts,
)


@given(details_strategy)
def test_snapshot_round_trips_through_json(details):
    snap = details.snapshot()
    assert list(snap) == list(DETAIL_FIELDS)
    assert SystemDetails.from_snapshot(snap) == details
    # What the database and the ledger keep is JSON: that must round-trip too.
    assert SystemDetails.from_snapshot(json.loads(json.dumps(snap))) == details
    assert changed_fields(snap, details.snapshot()) == []


@given(details_strategy)
def test_snapshot_is_a_copy_not_a_view(details):
    groups = list(details.affected_groups)
    sources = list(details.data_sources)
    snap = details.snapshot()
    snap["affected_groups"].append("added later")
    snap["data_sources"].append({"name": "added later", "role": "input"})
    assert details.affected_groups == groups
    assert details.data_sources == sources


def test_from_snapshot_fills_defaults_for_missing_fields():
    details = SystemDetails.from_snapshot({"name": "Only a name"})
    assert details == SystemDetails(name="Only a name")
    assert details.sector is Sector.OTHER
    assert details.scope_exemption is ScopeExemption.NONE

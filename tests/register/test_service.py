"""The internal register: revisions with diffs, significant modifications, gates, publication."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import func, select

from ombud.kernel.errors import Conflict, Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.kernel.ledger.tables import ledger_entries, ledger_head
from ombud.register.domain.gates import GateContext, GateFailure, default_gates
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import DETAIL_FIELDS, PublicationState, SystemDetails
from ombud.register.service import RegisterService
from ombud.register.tables import ai_systems, lifecycle_transitions, system_revisions
from tests.factories import (
    SCREENING_URN,
    complete_details,
    minimal_details,
    sign_current_assessments,
)


def _assessed(container, world, system_id):
    """The signed assessments the assessments gate asks for (tested in test_assessments)."""
    sign_current_assessments(
        container,
        world["city-assessor@example.org"],
        world["city-approver@example.org"],
        system_id,
    )


S = LifecycleStage


@pytest.fixture
def editor(world):
    return world["city-editor@example.org"]


@pytest.fixture
def admin(world):
    return world["city-admin@example.org"]


def _counts(container) -> dict[str, Any]:
    """Rows that a refused operation must not leave behind."""
    with container.engines.write.connect() as conn:
        counts: dict[str, Any] = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (ai_systems, system_revisions, lifecycle_transitions, ledger_entries)
        }
        counts["ledger_head"] = tuple(conn.execute(select(ledger_head)).one())
    return counts


def _ledger_actions(container, admin, system_id: int) -> list[str]:
    page = container.ledger.list(
        admin, LedgerFilter(entity_type="ai_system", entity_id=str(system_id)), limit=100
    )
    return [e.action for e in page.items]  # newest first


# -- revisions and diffs ----------------------------------------------------------------


def test_history_lists_revisions_newest_first_with_exactly_the_changed_fields(
    container, world, editor
):
    reg = container.register
    first = complete_details()
    system = reg.create(editor, world.city.id, first)
    second = replace(first, purpose="Rank claims by urgency.", contact_point="desk@city.example")
    reg.update(editor, system.id, second, note="Clarified the purpose")
    third = replace(second, name="Claim urgency ranking")
    reg.update(editor, system.id, third)

    history = reg.history(editor, system.id)

    assert [r.revision.number for r in history.revisions] == [3, 2, 1]
    newest, middle, oldest = history.revisions
    assert [c.field for c in newest.changes] == ["name"]
    assert (newest.changes[0].before, newest.changes[0].after) == (
        "Benefit fraud risk scoring",
        "Claim urgency ranking",
    )
    assert [c.field for c in middle.changes] == ["purpose", "contact_point"]
    assert middle.changes[1].label == "Contact point"
    assert middle.changes[1].before == "ai-register@welfare.example"
    assert middle.revision.note == "Clarified the purpose"
    assert list(middle.revision.changed) == ["purpose", "contact_point"]
    # The first revision shows the whole record as new.
    assert [c.field for c in oldest.changes] == list(DETAIL_FIELDS)
    assert all(c.before is None for c in oldest.changes)
    assert history.system.revision == 3
    assert [t.to_stage for t in history.transitions] == [S.PRE_DESIGN]


def test_saving_an_unchanged_record_adds_no_revision_and_no_ledger_entry(container, world, editor):
    system = container.register.create(editor, world.city.id, complete_details())
    before = _counts(container)
    saved = container.register.update(editor, system.id, complete_details())
    assert saved.revision == 1
    assert _counts(container) == before


def test_transitions_are_listed_newest_first_with_reasons(container, world, editor):
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details(), S.DEVELOPMENT)
    reg.transition(editor, system.id, S.TESTING, "Unit and bias tests")
    _assessed(container, world, system.id)
    reg.transition(editor, system.id, S.DEPLOYMENT, "Tests passed")
    transitions = reg.history(editor, system.id).transitions
    assert [(t.from_stage, t.to_stage, t.reason) for t in transitions] == [
        (S.TESTING, S.DEPLOYMENT, "Tests passed"),
        (S.DEVELOPMENT, S.TESTING, "Unit and bias tests"),
        (None, S.DEVELOPMENT, "Registered"),
    ]
    assert transitions[0].actor == "city-editor@example.org"


# -- significant modifications (coe-fc:16.2.g) ----------------------------------------


def test_changing_a_significant_field_flags_a_significant_modification(
    container, world, editor, admin
):
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details())
    assert system.significant_modification_at is None

    updated = reg.update(
        editor, system.id, complete_details(intended_use="Also used for triage of complaints.")
    )

    assert updated.significant_modification_at is not None
    rev = reg.history(editor, system.id).revisions[0].revision
    assert rev.significant
    assert "intended_use" in rev.significant_reason
    assert _ledger_actions(container, admin, system.id)[:2] == [
        LedgerAction.SIGNIFICANT_MODIFICATION.value,
        LedgerAction.UPDATE.value,
    ]


def test_changing_only_the_contact_point_is_not_significant(container, world, editor, admin):
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details())
    updated = reg.update(editor, system.id, complete_details(contact_point="new@city.example"))
    assert updated.revision == 2
    assert updated.significant_modification_at is None
    rev = reg.history(editor, system.id).revisions[0].revision
    assert not rev.significant
    assert rev.significant_reason == ""
    assert LedgerAction.SIGNIFICANT_MODIFICATION.value not in _ledger_actions(
        container, admin, system.id
    )


def test_an_editor_can_call_an_insignificant_looking_edit_significant(container, world, editor):
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details())
    reg.update(
        editor,
        system.id,
        complete_details(vendor="New vendor"),
        significant_reason="Vendor swapped the underlying model",
    )
    rev = reg.history(editor, system.id).revisions[0].revision
    assert rev.significant
    assert rev.significant_reason == "Vendor swapped the underlying model"


def test_flagging_by_hand_records_a_reason_and_a_revision_without_changes(
    container, world, editor, admin
):
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details())
    with pytest.raises(Invalid) as exc:
        reg.flag_significant(editor, system.id, "   ")
    assert set(exc.value.field_messages()) == {"reason"}

    flagged = reg.flag_significant(editor, system.id, "Retrained on 2025 claims")

    assert flagged.revision == 2
    assert flagged.significant_modification_at is not None
    views = reg.history(editor, system.id).revisions
    assert views[0].changes == []
    assert views[0].revision.significant_reason == "Retrained on 2025 claims"
    assert _ledger_actions(container, admin, system.id)[0] == "significant_modification"


# -- concurrent edits ----------------------------------------------------------------------


def test_an_edit_on_a_stale_revision_is_refused_and_changes_nothing(container, world, editor):
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details())
    reg.update(editor, system.id, complete_details(vendor="First editor"), expected_revision=1)
    before = _counts(container)

    with pytest.raises(Conflict) as exc:
        reg.update(editor, system.id, complete_details(vendor="Second editor"), expected_revision=1)

    assert "revision 2" in exc.value.message
    assert _counts(container) == before
    current = reg.get(editor, system.id).system
    assert (current.revision, current.details.vendor) == (2, "First editor")


# -- lifecycle transitions and gates --------------------------------------------------------


def test_a_transition_outside_the_graph_is_refused_naming_the_allowed_stages(
    container, world, editor
):
    system = container.register.create(editor, world.city.id, complete_details())
    before = _counts(container)
    with pytest.raises(Invalid) as exc:
        container.register.transition(editor, system.id, S.USE, "Skip ahead")
    message = exc.value.message
    assert "Pre-design" in message
    assert "Use" in message
    assert "Allowed next stages: Design, Procurement, Decommissioning." in message
    assert set(exc.value.field_messages()) == {"to_stage"}
    assert _counts(container) == before


def test_a_transition_needs_a_reason(container, world, editor):
    system = container.register.create(editor, world.city.id, complete_details())
    with pytest.raises(Invalid) as exc:
        container.register.transition(editor, system.id, S.DESIGN, "  ")
    assert set(exc.value.field_messages()) == {"reason"}


def test_the_gate_blocks_deployment_and_names_the_missing_fields(container, world, editor):
    details = complete_details(legal_basis="", contest_information="  ")
    system = container.register.create(editor, world.city.id, details, S.TESTING)
    _assessed(container, world, system.id)
    before = _counts(container)

    with pytest.raises(Invalid) as exc:
        container.register.transition(editor, system.id, S.DEPLOYMENT, "Go live")

    assert set(exc.value.field_messages()) == {"legal_basis", "contest_information"}
    assert "coe-fc:14.2.b" in exc.value.message
    assert "Legal basis must be filled in" in exc.value.message
    assert _counts(container) == before
    view = container.register.get(editor, system.id)
    assert view.system.lifecycle_stage is S.TESTING
    # The record page shows the same obstacle before anyone tries.
    assert {f.field for f in view.gate_failures[S.DEPLOYMENT]} == {
        "legal_basis",
        "contest_information",
    }
    assert S.EVALUATION not in view.gate_failures


def test_once_the_record_is_complete_the_gate_opens(container, world, editor):
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details(legal_basis=""), S.TESTING)
    _assessed(container, world, system.id)
    with pytest.raises(Invalid):
        reg.transition(editor, system.id, S.DEPLOYMENT, "Go live")
    reg.update(editor, system.id, complete_details())
    moved = reg.transition(editor, system.id, S.DEPLOYMENT, "Go live")
    assert moved.lifecycle_stage is S.DEPLOYMENT


@pytest.mark.parametrize("stage", [S.USE, S.DEPLOYMENT])
def test_registering_straight_into_a_live_stage_with_an_incomplete_record_leaves_nothing(
    container, world, editor, stage
):
    before = _counts(container)
    with pytest.raises(Invalid) as exc:
        container.register.create(
            editor, world.city.id, complete_details(human_oversight=""), stage
        )
    assert set(exc.value.field_messages()) == {"human_oversight"}
    assert _counts(container) == before
    assert container.register.list(editor).total == 0


def test_registering_straight_into_operation_with_an_incomplete_record_is_refused(
    container, world, editor
):
    before = _counts(container)
    with pytest.raises(Invalid) as exc:
        container.register.create(
            editor, world.city.id, complete_details(contest_information=""), S.OPERATION
        )
    assert "contest_information" in exc.value.field_messages()
    assert _counts(container) == before


@pytest.mark.parametrize("stage", [S.SALE, S.DECOMMISSIONING])
def test_a_system_cannot_be_registered_in_a_final_stage(container, world, editor, stage):
    before = _counts(container)
    with pytest.raises(Invalid) as exc:
        container.register.create(editor, world.city.id, complete_details(), stage)
    assert set(exc.value.field_messages()) == {"lifecycle_stage"}
    assert _counts(container) == before


@dataclass(frozen=True)
class NoSaleWithoutContract:
    """A gate as a later issue would attach one."""

    name: str = "sale-contract"
    provision: str = "coe-fc:16.2.b"
    on_record: bool = True

    def guards(self, target: LifecycleStage) -> bool:
        return target is S.SALE

    def check(self, details: SystemDetails, ctx: GateContext) -> list[GateFailure]:
        assert ctx.facts["system_id"]  # the service tells the gate which system it is
        if "contract" in details.risks_and_safeguards:
            return []
        return [GateFailure(self.name, "A sale contract must be on file.", self.provision)]


def test_a_custom_gate_given_to_the_service_is_enforced(container, world, editor):
    gates = default_gates()
    gates.register(NoSaleWithoutContract())
    reg = RegisterService(container.register.uow_factory, gates=gates)
    system = reg.create(editor, world.city.id, complete_details(), S.DEVELOPMENT)

    with pytest.raises(Invalid) as exc:
        reg.transition(editor, system.id, S.SALE, "Sold to the region")
    assert "A sale contract must be on file." in exc.value.message
    assert "coe-fc:16.2.b" in exc.value.message
    assert reg.get(editor, system.id).gate_failures[S.SALE][0].gate == "sale-contract"
    # The default service does not know the gate.
    assert container.register.get(editor, system.id).gate_failures == {}

    reg.update(editor, system.id, complete_details(risks_and_safeguards="contract no. 7"))
    assert reg.transition(editor, system.id, S.SALE, "Sold").lifecycle_stage is S.SALE


# -- publication and deletion ---------------------------------------------------------------


def test_publication_requires_a_purpose_and_a_contact_point(container, world, editor, admin):
    details = complete_details(purpose="", contact_point="   ")
    system = container.register.create(editor, world.city.id, details)
    before = _counts(container)
    with pytest.raises(Invalid) as exc:
        container.register.set_publication(admin, system.id, PublicationState.PUBLISHED)
    assert set(exc.value.field_messages()) == {"purpose", "contact_point"}
    assert _counts(container) == before
    assert container.register.get(admin, system.id).system.publication_state is (
        PublicationState.DRAFT
    )
    with pytest.raises(NotFound):
        container.public_register.get(system.id)


def test_a_published_system_can_be_archived_and_published_again(container, world, admin):
    reg = container.register
    system = reg.create(admin, world.city.id, complete_details())
    published = reg.set_publication(admin, system.id, PublicationState.PUBLISHED)
    first_published_at = published.published_at
    assert first_published_at is not None
    reg.set_publication(admin, system.id, PublicationState.ARCHIVED)
    again = reg.set_publication(admin, system.id, PublicationState.PUBLISHED)
    assert again.published_at == first_published_at


def test_a_draft_cannot_jump_to_archived(container, world, admin):
    system = container.register.create(admin, world.city.id, complete_details())
    with pytest.raises(Invalid) as exc:
        container.register.set_publication(admin, system.id, PublicationState.ARCHIVED)
    assert set(exc.value.field_messages()) == {"publication_state"}


@pytest.mark.parametrize("then", ["stay", "archive", "withdraw"])
def test_a_system_that_was_ever_published_cannot_be_deleted(container, world, admin, then):
    reg = container.register
    system = reg.create(admin, world.city.id, complete_details())
    reg.set_publication(admin, system.id, PublicationState.PUBLISHED)
    if then == "archive":
        reg.set_publication(admin, system.id, PublicationState.ARCHIVED)
    elif then == "withdraw":
        reg.set_publication(admin, system.id, PublicationState.DRAFT)
    before = _counts(container)
    with pytest.raises(Conflict) as exc:
        reg.delete(admin, system.id)
    assert "archive" in exc.value.message
    assert _counts(container) == before
    assert reg.get(admin, system.id).system.id == system.id


def test_deleting_a_draft_removes_it_and_keeps_a_ledger_entry(container, world, editor, admin):
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details("Abandoned idea"))
    reg.transition(editor, system.id, S.DESIGN, "Start design")

    reg.delete(admin, system.id)

    with pytest.raises(NotFound):
        reg.get(admin, system.id)
    entries = container.ledger.list(
        admin, LedgerFilter(entity_type="ai_system", entity_id=str(system.id)), limit=100
    ).items
    assert [e.action for e in entries] == ["delete", "transition", "create"]
    deleted = entries[0]
    assert deleted.actor == "city-admin@example.org"
    assert deleted.before is not None
    assert deleted.before["details"]["name"] == "Abandoned idea"
    assert deleted.before["lifecycle_stage"] == "design"
    assert container.ledger.verify().ok


# -- invalid input ------------------------------------------------------------------------------


def test_invalid_details_leave_the_database_unchanged(container, world, editor):
    reg = container.register
    before = _counts(container)
    with pytest.raises(Invalid) as exc:
        reg.create(editor, world.city.id, minimal_details(name=""))
    assert exc.value.field_messages() == {"name": "Name is required."}
    assert _counts(container) == before

    system = reg.create(editor, world.city.id, complete_details())
    before = _counts(container)
    with pytest.raises(Invalid) as exc:
        reg.update(editor, system.id, complete_details(name="   ", purpose="Changed"))
    assert set(exc.value.field_messages()) == {"name"}
    assert _counts(container) == before
    current = reg.get(editor, system.id).system
    assert (current.revision, current.details.name) == (1, "Benefit fraud risk scoring")


def test_a_too_long_reason_is_refused_with_its_field(container, world, editor):
    system = container.register.create(editor, world.city.id, complete_details())
    with pytest.raises(Invalid) as exc:
        container.register.transition(editor, system.id, S.DESIGN, "x" * 2001)
    assert set(exc.value.field_messages()) == {"reason"}


def test_an_edit_cannot_empty_what_the_live_stage_requires(container, world):
    editor = world["city-editor@example.org"]
    system = container.register.create(
        editor, world.city.id, complete_details(), LifecycleStage.USE
    )
    with pytest.raises(Invalid) as exc:
        container.register.update(
            editor, system.id, complete_details(contest_information="  "), system.revision
        )
    assert "contest_information" in exc.value.field_messages()
    assert container.register.get(editor, system.id).system.revision == system.revision


def test_an_edit_cannot_empty_the_contact_point_of_a_published_system(container, world):
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details())
    container.register.set_publication(
        world["city-approver@example.org"], system.id, PublicationState.PUBLISHED
    )
    with pytest.raises(Invalid) as exc:
        container.register.update(editor, system.id, complete_details(contact_point=""))
    assert "contact_point" in exc.value.field_messages()


def _draft_with_records(container, world):
    """A draft that has an assessment started on it and two incidents recorded."""
    from ombud.incidents.domain import IncidentDraft, Severity
    from ombud.remedies.domain import Category

    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Pilot never shipped")
    )
    container.assessments.start(world["city-assessor@example.org"], system.id, SCREENING_URN)
    for title in ("Wrong fee information", "Wrong deadline information"):
        container.incidents.record(
            world["city-editor@example.org"],
            system.id,
            IncidentDraft(
                title=title,
                category=Category.DECISION_ERROR,
                harm="Residents were told something wrong in the pilot.",
                severity=Severity.MODERATE,
            ),
        )
    return system


DELETE_BLOCKED = "This draft has 1 assessment and 2 incidents"


def test_a_draft_with_an_assessment_or_incidents_is_not_deleted_and_says_why(
    container, world, admin
):
    system = _draft_with_records(container, world)
    before = _counts(container)
    with pytest.raises(Conflict) as exc:
        container.register.delete(admin, system.id)
    assert exc.value.message.startswith(DELETE_BLOCKED), exc.value.message
    assert _counts(container) == before
    assert container.register.get(admin, system.id).system.id == system.id


def test_deleting_a_draft_with_records_answers_409_on_the_page_and_the_api(container, world, admin):
    from fastapi.testclient import TestClient

    from ombud.app import create_app
    from tests.web_helpers import login

    system = _draft_with_records(container, world)
    token = container.accounts.create_token(admin, "tests").token
    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        answer = client.delete(
            f"/api/v1/systems/{system.id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 409, answer.text
        assert DELETE_BLOCKED in answer.text
        csrf = login(client, "city-admin@example.org")
        page = client.post(
            f"/systems/{system.id}/delete", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert page.status_code == 409, page.text
        assert DELETE_BLOCKED in page.text
    assert container.register.get(admin, system.id).system.id == system.id

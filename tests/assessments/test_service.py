"""The assessment workflow: answer, submit, four-eyes sign-off, red lines, staleness."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ombud.assessments.domain import AssessmentStatus, RedLineDecisionKind
from ombud.assessments.loader import load_templates
from ombud.assessments.service import AssessmentsService
from ombud.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from ombud.kernel.ledger.tables import ledger_entries
from ombud.kernel.service import utcnow
from ombud.register.domain.systems import RiskLevel
from tests.factories import complete_details

TEMPLATES = load_templates(directory=Path(__file__).parents[1] / "data" / "templates")
AIA = "urn:ombud:template:aia-test"
SCREENING = "urn:ombud:template:red-line-screening"
FULL = {
    "decision": "yes",
    "automation_detail": "Claims are rejected automatically.",
    "reversibility": "hardly",
    "scale": 4,
}


@pytest.fixture
def svc(container):
    return AssessmentsService(container.accounts.uow_factory, TEMPLATES)


@pytest.fixture
def system(container, world):
    return container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details()
    )


def _signed_screening(svc, world, system_id, practices=("none_of_these",)):
    a = svc.start(world["city-assessor@example.org"], system_id, SCREENING)
    svc.save_answers(world["city-assessor@example.org"], a.id, {"practices": list(practices)})
    svc.submit(world["city-assessor@example.org"], a.id)
    return a


def test_answers_are_validated_and_nothing_is_lost(svc, world, system):
    assessor = world["city-assessor@example.org"]
    a = svc.start(assessor, system.id, AIA)
    svc.save_answers(assessor, a.id, {"decision": "partly"})
    with pytest.raises(Invalid) as exc:
        svc.save_answers(assessor, a.id, {"scale": 9, "decision": "no"})
    assert exc.value.field_messages() == {"scale": "At most 4."}
    view = svc.get(assessor, a.id)
    assert view.assessment.answers == {"decision": "partly"}  # the bad save changed nothing
    with pytest.raises(Conflict):
        svc.save_answers(assessor, a.id, {"scale": 2}, expected_revision=1)
    svc.save_answers(assessor, a.id, {"scale": 2}, expected_revision=view.assessment.revision)
    assert svc.get(assessor, a.id).score.raw == 4


def test_roles_and_organisations(svc, world, system):
    with pytest.raises(Forbidden):
        svc.start(world["city-viewer@example.org"], system.id, AIA)
    with pytest.raises(NotFound):
        svc.start(world["agency-assessor@example.org"], system.id, AIA)
    a = svc.start(world["city-assessor@example.org"], system.id, AIA)
    assert svc.get(world["oversight-viewer@example.org"], a.id).assessment.id == a.id
    with pytest.raises(NotFound):
        svc.get(world["agency-admin@example.org"], a.id)


def test_submit_needs_the_required_answers(svc, world, system):
    assessor = world["city-assessor@example.org"]
    a = svc.start(assessor, system.id, AIA)
    svc.save_answers(assessor, a.id, {"decision": "yes"})
    with pytest.raises(Invalid) as exc:
        svc.submit(assessor, a.id)
    assert "automation_detail" in exc.value.field_messages()
    svc.save_answers(assessor, a.id, FULL)
    assert svc.submit(assessor, a.id).status is AssessmentStatus.SUBMITTED


def test_four_eyes_screening_first_and_content_hash_on_the_ledger(svc, container, world, system):
    assessor = world["city-assessor@example.org"]
    approver = world["city-approver@example.org"]
    a = svc.start(assessor, system.id, AIA)
    svc.save_answers(assessor, a.id, FULL)
    svc.submit(assessor, a.id)
    with pytest.raises(Conflict) as exc:
        svc.sign(approver, a.id)
    assert "red-line screening" in exc.value.message
    screening = _signed_screening(svc, world, system.id)
    svc.sign(approver, screening.id)
    # an approver who answered cannot sign
    svc.save_answers(approver, a.id, {"scale": 3})
    svc.submit(approver, a.id)
    with pytest.raises(Forbidden) as exc:
        svc.sign(approver, a.id)
    assert "Four eyes" in exc.value.message
    other = world["city-admin@example.org"]
    digest = svc.sign(other, a.id, review_date=date.today() + timedelta(days=365))
    view = svc.get(other, a.id)
    assert view.assessment.status is AssessmentStatus.SIGNED
    assert view.assessment.content_hash == digest
    with container.engines.read.connect() as conn:
        afters = [
            r.after
            for r in conn.execute(
                select(ledger_entries.c.after).where(ledger_entries.c.action == "sign_off")
            )
        ]
    assert any(x.get("content_hash") == digest for x in afters)
    assert container.ledger.verify().ok
    with pytest.raises(Conflict):
        svc.save_answers(assessor, a.id, {"scale": 1})
    # a signed level sets the system's risk level (level_3 is not a named risk level: kept)
    assert container.register.get(other, system.id).system.risk_level is RiskLevel.UNASSESSED


def test_a_red_line_hit_needs_a_decision_and_a_ban_makes_the_system_unacceptable(
    svc, container, world, system
):
    approver = world["city-approver@example.org"]
    screening = _signed_screening(svc, world, system.id, ["political_surveillance"])
    assert [h.rule.id for h in svc.get(approver, screening.id).red_lines] == [
        "political_surveillance"
    ]
    with pytest.raises(Conflict) as exc:
        svc.sign(approver, screening.id)
    assert "political_surveillance" in exc.value.message
    with pytest.raises(Invalid) as exc:
        svc.decide_red_line(
            approver,
            screening.id,
            "political_surveillance",
            RedLineDecisionKind.MORATORIUM,
            "Pending a law.",
        )
    assert "until" in exc.value.field_messages()
    with pytest.raises(Forbidden):
        svc.decide_red_line(
            world["city-assessor@example.org"],
            screening.id,
            "political_surveillance",
            RedLineDecisionKind.BAN,
            "No.",
        )
    svc.decide_red_line(
        approver,
        screening.id,
        "political_surveillance",
        RedLineDecisionKind.BAN,
        "Incompatible with freedom of assembly.",
        review_date=date.today() + timedelta(days=365),
    )
    svc.sign(approver, screening.id)
    assert container.register.get(approver, system.id).system.risk_level is RiskLevel.UNACCEPTABLE
    facts = container.compliance.evidence_facts
    with container.accounts.uow_factory(readonly=True) as uow:
        held = facts(uow, [system.id])[system.id]
    assert held["red_line_decisions"] == frozenset({"political_surveillance"})
    assert SCREENING in held["signed_assessments"]


def test_a_significant_modification_makes_signed_assessments_stale(svc, container, world, system):
    approver = world["city-approver@example.org"]
    screening = _signed_screening(svc, world, system.id)
    svc.sign(approver, screening.id)
    assert not svc.get(approver, screening.id).stale
    container.register.update(
        world["city-editor@example.org"],
        system.id,
        complete_details(purpose="Now also ranks housing claims."),
    )
    view = svc.get(approver, screening.id)
    assert view.stale
    assert "Significant modification" in view.stale_reason
    due = svc.due(approver)
    assert any(d.assessment_id == screening.id and d.why.startswith("stale") for d in due)


def test_a_live_system_without_current_assessments_is_due(svc, container, world):
    from ombud.register.domain.lifecycle import LifecycleStage

    running = container.register.create(
        world["city-editor@example.org"],
        world.city.id,
        complete_details("Already running"),
        LifecycleStage.USE,
    )
    due = [d for d in svc.due(world["city-viewer@example.org"]) if d.system_id == running.id]
    assert len(due) == 1
    assert due[0].assessment_id is None
    assert "without a current" in due[0].why
    assert due[0].system == "Already running"
    assert svc.due(world["agency-viewer@example.org"]) == []


def test_a_passed_review_date_makes_an_assessment_stale(container, world, system):
    approver = world["city-approver@example.org"]
    svc = AssessmentsService(container.accounts.uow_factory, TEMPLATES)
    screening = _signed_screening(svc, world, system.id)
    svc.sign(approver, screening.id, review_date=date.today() + timedelta(days=30))
    later = AssessmentsService(
        container.accounts.uow_factory, TEMPLATES, clock=lambda: utcnow() + timedelta(days=31)
    )
    view = later.get(approver, screening.id)
    assert view.stale
    assert "review date" in view.stale_reason


def test_the_template_names_who_signs_off(container, world, system):
    from dataclasses import replace

    admins_only = {
        key: replace(t, signoff_roles=("admin",)) if t.urn == SCREENING else t
        for key, t in TEMPLATES.items()
    }
    svc = AssessmentsService(container.accounts.uow_factory, admins_only)
    a = _signed_screening(svc, world, system.id)
    with pytest.raises(Forbidden) as exc:
        svc.sign(world["city-approver@example.org"], a.id)
    assert "signed off by: admin" in exc.value.message
    svc.sign(world["city-admin@example.org"], a.id)

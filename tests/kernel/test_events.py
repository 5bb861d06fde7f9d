"""Domain events run inside the unit of work that raised them: their consequences and
ledger entries land with the change, or nothing does."""

from __future__ import annotations

import pytest

from ombud.register.domain.events import SystemChangedMaterially
from ombud.register.domain.lifecycle import LifecycleStage as S
from tests.factories import complete_details, sign_current_assessments


class Refused(Exception):
    pass


def test_a_significant_modification_marks_assessments_stale_through_the_event(container, world):
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details(), S.DEVELOPMENT)
    sign_current_assessments(
        container, world["city-assessor@example.org"], world["city-approver@example.org"], system.id
    )
    heard: list[SystemChangedMaterially] = []
    container.register.events.subscribe(SystemChangedMaterially, lambda uow, e: heard.append(e))

    container.register.flag_significant(editor, system.id, "Retrained on 2026 data")

    (event,) = heard
    assert (event.system_id, event.organisation_id) == (system.id, world.city.id)
    assert "Retrained on 2026 data" in event.reason
    assessments = container.assessments.for_system(editor, system.id)
    assert assessments
    assert all(a.stale_reason for a in assessments)


def test_a_handler_that_fails_aborts_the_whole_change(container, world):
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details(), S.DEVELOPMENT)
    before = container.register.get(editor, system.id).system
    entries = container.ledger.verify().checked

    def refuse(uow, event):
        raise Refused("no")

    container.register.events.subscribe(SystemChangedMaterially, refuse)
    with pytest.raises(Refused):
        container.register.flag_significant(editor, system.id, "Retrained")

    after = container.register.get(editor, system.id).system
    assert after.revision == before.revision
    assert after.significant_modification_at == before.significant_modification_at
    assert container.ledger.verify().checked == entries

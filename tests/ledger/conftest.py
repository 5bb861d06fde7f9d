"""The fixture of the ledger tests: a ledger with register work in it."""

from __future__ import annotations

import pytest

from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState
from tests.factories import complete_details
from tests.ledger.intruder import last_seq


@pytest.fixture
def busy_ledger(container, world) -> dict[str, int]:
    """A ledger with register work in it: create, update, transition, publish.

    Returns the sequence numbers of those entries (after the world's own entries).
    """
    editor = world["city-editor@example.org"]
    approver = world["city-approver@example.org"]
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details(), LifecycleStage.DEVELOPMENT)
    seqs = {"create": last_seq(container)}
    reg.update(editor, system.id, complete_details(vendor="Acme Analytics"))
    seqs["update"] = last_seq(container)
    reg.transition(editor, system.id, LifecycleStage.TESTING, "Ready for tests")
    seqs["transition"] = last_seq(container)
    reg.set_publication(approver, system.id, PublicationState.PUBLISHED)
    seqs["publish"] = last_seq(container)
    seqs["last"] = seqs["publish"]
    assert seqs["create"] > 1
    return seqs

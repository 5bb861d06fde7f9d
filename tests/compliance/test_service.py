"""The compliance matrix on the demo data, per system and per organisation, with access rules."""

from __future__ import annotations

import pytest

from ombud.compliance.applicability import Outcome
from ombud.compliance.domain import Status
from ombud.compliance.service import ComplianceFilter
from ombud.instruments.domain import Topic
from ombud.kernel.access import SYSTEM_PRINCIPAL
from ombud.kernel.errors import Forbidden, NotFound
from ombud.register.ports import SystemFilter

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(container):
    container.demo.load()
    return container


def _system(c, email, text):
    actor = c.accounts.principal_for_email(email)
    page = c.register.list(actor, SystemFilter(text=text), 0, 5)
    assert page.items, text
    return actor, page.items[0].system


def test_the_loitering_munition_goes_to_ipu_148_and_out_of_the_convention(demo):
    actor, munition = _system(demo, "gustav.wallin@defence.example", "Kestrel")
    result = demo.compliance.for_system(actor, munition.id)
    coe = result.applicability["coe-fc"]
    assert coe.outcome is Outcome.OUT_OF_SCOPE
    assert "Article 3.4: matters relating to national defence" in coe.explanation
    assert result.applicability["ipu-148"].applies
    assert "autonomy in critical functions" in result.applicability["ipu-148"].explanation
    statuses = {r.requirement.id: r for r in result.results}
    assert statuses["contest-information"].status is Status.NOT_APPLICABLE
    weapons = [r for r in result.results if "ipu-148" in r.requirement.instruments]
    assert weapons
    assert all(
        r.status is not Status.NOT_APPLICABLE
        for r in weapons
        if all(p.startswith("ipu-148") for p in r.requirement.provisions)
    )


def test_a_system_without_contest_information_fails_coe_fc_14_2_b(demo):
    actor, checker = _system(demo, "karin.ek@lindholm.example", "Building-permit")
    assert not checker.details.contest_information
    result = demo.compliance.for_system(actor, checker.id)
    row = next(r for r in result.results if r.requirement.id == "contest-information")
    assert row.status is Status.NOT_MET
    assert "coe-fc:14.2.b" in row.requirement.provisions
    assert "How to contest a decision" in row.reason


def test_filters_by_instrument_and_topic(demo):
    actor, system = _system(demo, "per.dahl@benefitsagency.example", "RISK-V")
    only_ipu = demo.compliance.for_system(actor, system.id, ComplianceFilter("ipu-149"))
    assert only_ipu.results
    assert all("ipu-149" in r.requirement.instruments for r in only_ipu.results)
    remedies = demo.compliance.for_system(actor, system.id, ComplianceFilter(topic=Topic.REMEDIES))
    assert remedies.results
    assert all(Topic.REMEDIES in r.requirement.topics for r in remedies.results)
    with pytest.raises(NotFound):
        demo.compliance.for_system(actor, system.id, ComplianceFilter("coe-xx"))


def test_organisation_matrix_and_oversight(demo):
    agency = demo.accounts.get_organisation("benefits-agency")
    overseer = demo.accounts.principal_for_email("daniel.okafor@aidpa.example")
    matrix = demo.compliance.for_organisation(overseer, agency.id)
    assert len(matrix.systems) == 5
    assert sum(matrix.counts.values()) == 5 * len(matrix.by_requirement)
    assert matrix.counts[Status.MET] > 0
    assert matrix.counts[Status.NOT_MET] > 0
    outsider = demo.accounts.principal_for_email("camille.durand@talentbridge.example")
    with pytest.raises(Forbidden):
        demo.compliance.for_organisation(outsider, agency.id)
    with pytest.raises(NotFound):
        demo.compliance.for_system(outsider, matrix.systems[0].system.id)
    with pytest.raises(NotFound):
        demo.compliance.for_system(SYSTEM_PRINCIPAL, matrix.systems[0].system.id)

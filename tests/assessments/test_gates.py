"""The assessments gate the assessments area registers with the register: no deployment
or use without current, signed assessments, and none under a red-line ban (coe-fc:16)."""

from __future__ import annotations

from dataclasses import replace

from ombud.kernel.module import contributions
from ombud.modules import MODULES
from ombud.register.domain.gates import GateContext, GateRegistry
from ombud.register.domain.lifecycle import LifecycleStage as S
from tests.factories import complete_details


def default_gates() -> GateRegistry:
    """The gates as the application registers them (each area's module)."""
    return GateRegistry([g for gates in contributions(MODULES, "gates") for g in gates])


def test_the_application_registers_the_assessments_gate(container):
    assert [g.name for g in container.register.gates] == ["record-complete", "assessments-current"]


def test_default_gates_require_current_assessments_for_deployment_and_use():
    gates = default_gates()
    assert [g.name for g in gates] == ["record-complete", "assessments-current"]
    none = gates.check(complete_details(), S.DEPLOYMENT, GateContext())
    assert {f.gate for f in none} == {"assessments-current"}
    assert len(none) == 2  # red-line screening and impact assessment
    both = GateContext(
        facts={
            "current_assessments": frozenset(
                {"urn:ombud:template:red-line-screening", "urn:ombud:template:hudera"}
            )
        }
    )
    assert gates.check(complete_details(), S.USE, both) == []
    assert gates.check(complete_details(), S.TESTING, GateContext()) == []
    banned = GateContext(facts={**both.facts, "red_line_blocks": ("A red-line ban is in force",)})
    (failure,) = gates.check(complete_details(), S.DEPLOYMENT, banned)
    assert failure.provision == "coe-fc:16.4"


def test_evidence_gates_are_skipped_for_record_only_checks():
    gates = default_gates()
    assert gates.check(complete_details(), S.USE, GateContext(), record_only=True) == []
    bare = replace(complete_details(), legal_basis="")
    assert {f.gate for f in gates.check(bare, S.USE, GateContext(), record_only=True)} == {
        "record-complete"
    }

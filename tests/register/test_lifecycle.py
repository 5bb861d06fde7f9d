"""The lifecycle graph (unga-78-265 preamble stages) and the gates on its transitions."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ombud.register.domain.gates import (
    RECORD_COMPLETE_GATE,
    GateContext,
    GateFailure,
    GateRegistry,
    default_gates,
)
from ombud.register.domain.lifecycle import TRANSITIONS, LifecycleStage, allowed_targets, is_allowed
from ombud.register.domain.systems import SystemDetails
from tests.factories import complete_details

S = LifecycleStage

# The preamble of unga-78-265, word for word: "pre-design, design, development,
# evaluation, testing, deployment, use, sale, procurement, operation and decommissioning".
PREAMBLE_STAGES = (
    "pre-design, design, development, evaluation, testing, deployment, use, sale, "
    "procurement, operation, decommissioning"
)

# The designed graph, written out independently of the code under test. Every stage
# but decommissioning may also go to decommissioning.
EXPECTED_EDGES: dict[LifecycleStage, set[LifecycleStage]] = {
    S.PRE_DESIGN: {S.DESIGN, S.PROCUREMENT},
    S.DESIGN: {S.PRE_DESIGN, S.DEVELOPMENT},
    S.DEVELOPMENT: {S.DESIGN, S.EVALUATION, S.TESTING, S.SALE},
    S.EVALUATION: {S.DEVELOPMENT, S.TESTING, S.DEPLOYMENT, S.SALE},
    S.TESTING: {S.DEVELOPMENT, S.EVALUATION, S.DEPLOYMENT, S.SALE},
    S.PROCUREMENT: {S.EVALUATION, S.TESTING, S.DEPLOYMENT},
    S.DEPLOYMENT: {S.TESTING, S.USE, S.OPERATION},
    S.USE: {S.OPERATION, S.EVALUATION, S.TESTING, S.DEVELOPMENT, S.SALE},
    S.OPERATION: {S.USE, S.EVALUATION, S.TESTING, S.DEVELOPMENT, S.SALE},
    S.SALE: set(),
    S.DECOMMISSIONING: set(),
}
EXPECTED = {
    stage: targets | ({S.DECOMMISSIONING} if stage is not S.DECOMMISSIONING else set())
    for stage, targets in EXPECTED_EDGES.items()
}

GATED_FIELDS = ("purpose", "legal_basis", "human_oversight", "contest_information")
GATED_STAGES = {S.DEPLOYMENT, S.USE}


def reachable_from(starts: set[LifecycleStage]) -> set[LifecycleStage]:
    seen = set(starts)
    queue = deque(starts)
    while queue:
        for nxt in TRANSITIONS[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


# -- the stages ---------------------------------------------------------------------


def test_stages_are_exactly_the_eleven_of_the_unga_78_265_preamble():
    expected = [s.strip().replace("-", "_") for s in PREAMBLE_STAGES.split(",")]
    assert len(expected) == 11
    assert sorted(s.value for s in LifecycleStage) == sorted(expected)


def test_stage_labels_read_like_the_preamble():
    assert S.PRE_DESIGN.label == "Pre-design"
    assert S.DECOMMISSIONING.label == "Decommissioning"


# -- the graph ----------------------------------------------------------------------


def test_transition_graph_is_the_designed_one():
    assert set(TRANSITIONS) == set(LifecycleStage)
    for stage in LifecycleStage:
        assert set(TRANSITIONS[stage]) == EXPECTED[stage], stage


@pytest.mark.parametrize("stage", sorted(set(S) - {S.DECOMMISSIONING}, key=list(S).index))
def test_decommissioning_is_reachable_from_every_non_final_stage(stage):
    assert is_allowed(stage, S.DECOMMISSIONING)
    assert S.DECOMMISSIONING in allowed_targets(stage)


def test_sale_and_decommissioning_are_dead_ends_but_sale_can_be_decommissioned():
    assert allowed_targets(S.DECOMMISSIONING) == frozenset()
    assert allowed_targets(S.SALE) == frozenset({S.DECOMMISSIONING})
    for target in LifecycleStage:
        assert not is_allowed(S.DECOMMISSIONING, target)
        assert is_allowed(S.SALE, target) == (target is S.DECOMMISSIONING)


def test_every_stage_is_reachable_from_pre_design_or_procurement():
    assert reachable_from({S.PRE_DESIGN, S.PROCUREMENT}) == set(LifecycleStage)


def test_live_stages_can_loop_back_to_evaluation_and_testing():
    # coe-fc:16.2.d: risk management applies iteratively throughout the lifecycle.
    for live in (S.USE, S.OPERATION):
        assert is_allowed(live, S.EVALUATION)
        assert is_allowed(live, S.TESTING)


@given(
    start=st.sampled_from(list(LifecycleStage)),
    picks=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40),
    probes=st.lists(st.sampled_from(list(LifecycleStage)), min_size=1, max_size=40),
)
def test_random_walks_agree_with_the_graph(start, picks, probes):
    """Walk the graph at random; at every step is_allowed must agree with the design."""
    current = start
    for i, pick in enumerate(picks):
        probe = probes[i % len(probes)]
        assert is_allowed(current, probe) == (probe in EXPECTED[current])
        targets = sorted(allowed_targets(current), key=list(S).index)
        assert set(targets) == EXPECTED[current]
        if not targets:
            assert current is S.DECOMMISSIONING
            break
        nxt = targets[pick % len(targets)]
        assert is_allowed(current, nxt)
        current = nxt
    # Wherever a walk ends, the system can still be decommissioned (or already is).
    assert current is S.DECOMMISSIONING or is_allowed(current, S.DECOMMISSIONING)


# -- the record-complete gate -------------------------------------------------------


def record_gates() -> GateRegistry:
    """The record gate alone (the assessments gate is tested below)."""
    return GateRegistry([RECORD_COMPLETE_GATE])


def test_a_complete_record_passes_every_gate_into_every_stage():
    gates = record_gates()
    for target in LifecycleStage:
        assert gates.check(complete_details(), target, GateContext()) == []


@pytest.mark.parametrize("blank", ["", "   ", "\t\n "], ids=["empty", "spaces", "whitespace"])
@pytest.mark.parametrize("field_name", GATED_FIELDS)
def test_record_complete_gate_blocks_deployment_and_use_for_each_blank_field(field_name, blank):
    details = replace(complete_details(), **{field_name: blank})
    gates = record_gates()
    for target in LifecycleStage:
        failures = gates.check(details, target, GateContext())
        if target in GATED_STAGES:
            assert len(failures) == 1, target
            (failure,) = failures
            assert failure.field == field_name
            assert failure.gate == "record-complete"
            assert failure.provision == "coe-fc:14.2.b"
            assert "must be filled in" in failure.message
        else:
            assert failures == [], target


def test_record_complete_gate_names_every_missing_field_at_once():
    details = SystemDetails(name="Bare record")
    failures = RECORD_COMPLETE_GATE.check(details, GateContext())
    assert [f.field for f in failures] == list(GATED_FIELDS)
    messages = " ".join(f.message for f in failures)
    for label in ("Purpose", "Legal basis", "Human oversight", "How to contest a decision"):
        assert label in messages


# -- the gate registry --------------------------------------------------------------


@dataclass(frozen=True)
class NeedsSignedAssessment:
    """A gate as a later area would write one: it reads facts the service loads."""

    name: str = "assessment-signed"
    provision: str = "coe-fc:16.2.b"
    on_record: bool = False

    def guards(self, target: LifecycleStage) -> bool:
        return target in {S.DEPLOYMENT, S.SALE}

    def check(self, details: SystemDetails, ctx: GateContext) -> list[GateFailure]:
        if ctx.facts.get("assessment_signed"):
            return []
        return [GateFailure(self.name, "An impact assessment must be signed.", self.provision)]


def test_gate_registry_refuses_two_gates_with_the_same_name():
    registry = record_gates()
    with pytest.raises(ValueError, match="record-complete"):
        registry.register(RECORD_COMPLETE_GATE)
    registry.register(NeedsSignedAssessment())
    with pytest.raises(ValueError, match="assessment-signed"):
        registry.register(NeedsSignedAssessment())
    assert [g.name for g in registry] == ["record-complete", "assessment-signed"]


def test_an_empty_registry_blocks_nothing():
    bare = SystemDetails(name="Bare record")
    assert GateRegistry().check(bare, S.DEPLOYMENT, GateContext()) == []
    assert default_gates().check(bare, S.DEPLOYMENT, GateContext()) != []


def test_a_registered_custom_gate_is_consulted_for_the_stages_it_guards():
    registry = record_gates()
    registry.register(NeedsSignedAssessment())
    details = complete_details()

    failures = registry.check(details, S.SALE, GateContext())
    assert [(f.gate, f.provision) for f in failures] == [("assessment-signed", "coe-fc:16.2.b")]
    assert registry.check(details, S.TESTING, GateContext()) == []
    signed = GateContext(facts={"assessment_signed": True})
    assert registry.check(details, S.SALE, signed) == []


def test_custom_gate_failures_add_to_the_record_complete_ones():
    registry = record_gates()
    registry.register(NeedsSignedAssessment())
    details = replace(complete_details(), legal_basis="")
    failures = registry.check(details, S.DEPLOYMENT, GateContext())
    assert {f.gate for f in failures} == {"record-complete", "assessment-signed"}
    # USE is guarded by record-complete only.
    assert {f.gate for f in registry.check(details, S.USE, GateContext())} == {"record-complete"}

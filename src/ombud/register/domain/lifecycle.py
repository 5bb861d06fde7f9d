"""The lifecycle of an AI system and the gates on its transitions.

The stages are those named in the preamble of unga-78-265 (for the non-military
domain): "pre-design, design, development, evaluation, testing, deployment, use,
sale, procurement, operation and decommissioning". coe-fc:16.2.d asks risk
management to "apply iteratively throughout the activities within the lifecycle",
so the graph has loops back from use and operation to evaluation and testing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class LifecycleStage(enum.StrEnum):
    PRE_DESIGN = "pre_design"
    DESIGN = "design"
    DEVELOPMENT = "development"
    EVALUATION = "evaluation"
    TESTING = "testing"
    DEPLOYMENT = "deployment"
    USE = "use"
    SALE = "sale"
    PROCUREMENT = "procurement"
    OPERATION = "operation"
    DECOMMISSIONING = "decommissioning"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


S = LifecycleStage

# The explicit graph of allowed transitions. Decommissioning is added from every
# stage below. Procurement is the path of a system bought rather than built; sale
# is the path of a provider handing a system over to others.
_EDGES: dict[LifecycleStage, frozenset[LifecycleStage]] = {
    S.PRE_DESIGN: frozenset({S.DESIGN, S.PROCUREMENT}),
    S.DESIGN: frozenset({S.PRE_DESIGN, S.DEVELOPMENT}),
    S.DEVELOPMENT: frozenset({S.DESIGN, S.EVALUATION, S.TESTING, S.SALE}),
    S.EVALUATION: frozenset({S.DEVELOPMENT, S.TESTING, S.DEPLOYMENT, S.SALE}),
    S.TESTING: frozenset({S.DEVELOPMENT, S.EVALUATION, S.DEPLOYMENT, S.SALE}),
    S.PROCUREMENT: frozenset({S.EVALUATION, S.TESTING, S.DEPLOYMENT}),
    S.DEPLOYMENT: frozenset({S.TESTING, S.USE, S.OPERATION}),
    S.USE: frozenset({S.OPERATION, S.EVALUATION, S.TESTING, S.DEVELOPMENT, S.SALE}),
    S.OPERATION: frozenset({S.USE, S.EVALUATION, S.TESTING, S.DEVELOPMENT, S.SALE}),
    S.SALE: frozenset(),
    S.DECOMMISSIONING: frozenset(),
}

TRANSITIONS: Mapping[LifecycleStage, frozenset[LifecycleStage]] = {
    stage: (targets | {S.DECOMMISSIONING}) if stage is not S.DECOMMISSIONING else targets
    for stage, targets in _EDGES.items()
}

# Stages a system may be registered in: new work starts at pre-design, design or
# procurement; systems already running are registered where they are.
INITIAL_STAGES: frozenset[LifecycleStage] = frozenset(set(S) - {S.DECOMMISSIONING, S.SALE})

# Stages where the system affects people; gates guard the way in.
LIVE_STAGES: frozenset[LifecycleStage] = frozenset({S.DEPLOYMENT, S.USE, S.OPERATION})


def allowed_targets(stage: LifecycleStage) -> frozenset[LifecycleStage]:
    return TRANSITIONS[stage]


def is_allowed(source: LifecycleStage, target: LifecycleStage) -> bool:
    return target in TRANSITIONS[source]

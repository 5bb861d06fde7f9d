"""The lifecycle of an AI system and the gates on its transitions.

The stages are those named in the preamble of unga-78-265 (for the non-military
domain): "pre-design, design, development, evaluation, testing, deployment, use,
sale, procurement, operation and decommissioning". coe-fc:16.2.d asks risk
management to "apply iteratively throughout the activities within the lifecycle",
so the graph has loops back from use and operation to evaluation and testing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ombud.register.domain.systems import SystemDetails


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


@dataclass(frozen=True)
class GateContext:
    """What a gate may look at besides the record: facts loaded by the service.

    Later areas (assessments, audits) put their facts here under their own key,
    e.g. ``facts["assessments"]``, and register gates that read them.
    """

    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GateFailure:
    gate: str
    message: str
    provision: str  # the provision ID that motivates the gate
    field: str | None = None


class Gate(Protocol):
    """A condition that must hold before a system enters some stages."""

    @property
    def name(self) -> str: ...

    @property
    def provision(self) -> str: ...

    @property
    def on_record(self) -> bool:
        """True when the gate reads only the record itself: it then also holds for a
        system registered straight into a stage or edited while there. Gates that
        need evidence (signed assessments) guard transitions only."""
        ...

    def guards(self, target: LifecycleStage) -> bool: ...

    def check(self, details: SystemDetails, ctx: GateContext) -> list[GateFailure]: ...


@dataclass(frozen=True)
class RequiredFieldsGate:
    """The record must say what people need to know before the system affects them.

    coe-fc:14.2.a/b: documentation and information sufficient to contest;
    coe-fc:8: transparency and oversight; coe-fc:16.2.a: context and intended use.
    """

    name: str
    provision: str
    targets: frozenset[LifecycleStage]
    required: tuple[tuple[str, str], ...]  # (field, label)

    @property
    def on_record(self) -> bool:
        return True

    def guards(self, target: LifecycleStage) -> bool:
        return target in self.targets

    def check(self, details: SystemDetails, ctx: GateContext) -> list[GateFailure]:
        out = []
        for fname, label in self.required:
            if not str(getattr(details, fname)).strip():
                out.append(
                    GateFailure(
                        gate=self.name,
                        message=f"{label} must be filled in before deployment or use.",
                        provision=self.provision,
                        field=fname,
                    )
                )
        return out


RECORD_COMPLETE_GATE = RequiredFieldsGate(
    name="record-complete",
    provision="coe-fc:14.2.b",
    targets=frozenset({S.DEPLOYMENT, S.USE}),
    required=(
        ("purpose", "Purpose"),
        ("legal_basis", "Legal basis"),
        ("human_oversight", "Human oversight"),
        ("contest_information", "How to contest a decision"),
    ),
)


class GateRegistry:
    """The gates in force. Later areas register theirs at start-up."""

    def __init__(self, gates: Iterable[Gate] = ()) -> None:
        self._gates: list[Gate] = list(gates)

    def register(self, gate: Gate) -> None:
        if any(g.name == gate.name for g in self._gates):
            raise ValueError(f"gate {gate.name!r} is already registered")
        self._gates.append(gate)

    def __iter__(self) -> Iterator[Gate]:
        return iter(self._gates)

    def check(
        self,
        details: SystemDetails,
        target: LifecycleStage,
        ctx: GateContext,
        record_only: bool = False,
    ) -> list[GateFailure]:
        failures: list[GateFailure] = []
        for gate in self._gates:
            if gate.guards(target) and (gate.on_record or not record_only):
                failures.extend(gate.check(details, ctx))
        return failures


@dataclass(frozen=True)
class AssessmentsGate:
    """No deployment or use without current, signed assessments (coe-fc:16.2.g, 16.4).

    Reads ``ctx.facts["current_assessments"]`` (URNs of signed, not stale assessments)
    and ``ctx.facts["red_line_blocks"]`` (bans and moratoria in force).
    """

    name: str
    provision: str
    targets: frozenset[LifecycleStage]
    required: tuple[tuple[str, str], ...]  # (template URN, title)

    @property
    def on_record(self) -> bool:
        return False

    def guards(self, target: LifecycleStage) -> bool:
        return target in self.targets

    def check(self, details: SystemDetails, ctx: GateContext) -> list[GateFailure]:
        current = ctx.facts.get("current_assessments", frozenset())
        out = [
            GateFailure(
                self.name,
                f"A current, signed {title} is required (missing or stale).",
                self.provision,
            )
            for urn, title in self.required
            if urn not in current
        ]
        out.extend(
            GateFailure(self.name, block, "coe-fc:16.4")
            for block in ctx.facts.get("red_line_blocks", ())
        )
        return out


ASSESSMENTS_GATE = AssessmentsGate(
    name="assessments-current",
    provision="coe-fc:16.2.g",
    targets=frozenset({S.DEPLOYMENT, S.USE}),
    required=(
        ("urn:ombud:template:red-line-screening", "red-line screening"),
        ("urn:ombud:template:hudera", "human rights, democracy and rule of law impact assessment"),
    ),
)


def default_gates() -> GateRegistry:
    return GateRegistry([RECORD_COMPLETE_GATE, ASSESSMENTS_GATE])

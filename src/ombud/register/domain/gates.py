"""Gates: what a system needs before it moves to a stage (e.g. a complete record, signed
assessments before deployment or use; coe-fc:16)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ombud.register.domain.lifecycle import LifecycleStage, S
from ombud.register.domain.systems import SystemDetails


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


def default_gates() -> GateRegistry:
    """The register's own gates; other areas register theirs (their module's ``gates``)."""
    return GateRegistry([RECORD_COMPLETE_GATE])


GATES = (RECORD_COMPLETE_GATE,)  # the register's own; other areas register theirs

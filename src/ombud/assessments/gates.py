"""The assessments gate, registered with the register: no deployment or use without
current, signed assessments and with no red-line ban or moratorium in force
(coe-fc:16.2.g, coe-fc:16.4); and the facts it reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ombud.assessments.domain import RedLineDecisionKind, current_templates
from ombud.kernel.ports import UnitOfWork
from ombud.register.domain.gates import GateContext, GateFailure
from ombud.register.domain.lifecycle import LifecycleStage, S
from ombud.register.domain.systems import AISystem, SystemDetails


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


def gate_facts(uow: UnitOfWork, system: AISystem, now: datetime) -> dict[str, Any]:
    """Facts the gate reads: current signed assessments and red-line decisions in force."""
    current = current_templates(uow.assessments.for_system(system.id), now)
    blocks = tuple(
        f"A red-line {d.kind.value.replace('_', ' ')} decided by {d.decided_by} is in force"
        + (f" until {d.until:%Y-%m-%d}" if d.until else "")
        + f": {d.reason}"
        for d in uow.assessments.decisions(system.id)
        if d.kind is RedLineDecisionKind.BAN
        or (d.kind is RedLineDecisionKind.MORATORIUM and (d.until is None or d.until > now))
    )
    return {"current_assessments": current, "red_line_blocks": blocks}


GATES = (ASSESSMENTS_GATE,)

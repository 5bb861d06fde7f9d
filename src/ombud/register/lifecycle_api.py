"""The lifecycle graph and its gates, as data (public: it is the rule, not a record).

Stages are those of the unga-78-265 preamble; coe-fc:16.2.d asks risk management to
apply "iteratively throughout the activities within the lifecycle".
"""

from __future__ import annotations

from fastapi import APIRouter

from ombud.kernel.web.deps import ContainerDep
from ombud.register.domain.lifecycle import INITIAL_STAGES, LIVE_STAGES, TRANSITIONS, LifecycleStage
from ombud.register.schemas import GateOut, LifecycleOut, StageOut

router = APIRouter(tags=["lifecycle"])

_ORDER = list(LifecycleStage)


@router.get(
    "/lifecycle",
    summary="Lifecycle stages, transitions and gates",
    description="The stages (unga-78-265 preamble), which stage may follow which, and the "
    "gates guarding the way into some stages, each with the provision that motivates it.",
)
def lifecycle(c: ContainerDep) -> LifecycleOut:
    return LifecycleOut(
        stages=[
            StageOut(value=s, label=s.label, initial=s in INITIAL_STAGES, live=s in LIVE_STAGES)
            for s in _ORDER
        ],
        transitions={s.value: sorted(TRANSITIONS[s], key=_ORDER.index) for s in _ORDER},
        gates=[
            GateOut(name=g.name, provision=g.provision, guards=[s for s in _ORDER if g.guards(s)])
            for g in c.register.gates
        ],
    )

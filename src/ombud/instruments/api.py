"""The instruments catalogue and compliance matrices as JSON.

/instruments, /instruments/{id}, /provisions/{id}, /requirements are public
(the texts are public); compliance needs a token and the right to read the
organisation's records (an oversight body reads those in its jurisdiction).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ombud.instruments.domain import Instrument, Provision, Topic
from ombud.instruments.schemas import (
    InstrumentId,
    InstrumentList,
    InstrumentOut,
    InstrumentSummaryOut,
    ProvisionId,
    ProvisionList,
    ProvisionOut,
    RequirementList,
    RequirementOut,
)
from ombud.kernel.web.api import errors
from ombud.kernel.web.deps import ContainerDep

public_router = APIRouter(tags=["instruments"])


def _provision(p: Provision) -> ProvisionOut:
    return ProvisionOut.model_validate(
        {
            **{f: getattr(p, f) for f in ("id", "instrument", "label", "heading", "group", "text")},
            "kind": p.kind.value,
            "addressees": [a.value for a in p.addressees],
            "topics": [t.value for t in p.topics],
            "stages": [s.value for s in p.stages],
            "refs": list(p.refs),
        }
    )


def _instrument(i: Instrument, full: bool) -> InstrumentSummaryOut:
    base = {f: getattr(i, f) for f in ("id", "title", "short_title", "body", "date", "source_file")}
    base.update(status=i.status.value, binding=i.binding.value)
    if not full:
        return InstrumentSummaryOut.model_validate(base)
    return InstrumentOut.model_validate(
        {**base, "summary": i.summary, "provisions": [_provision(p) for p in i.provisions]}
    )


@public_router.get("/instruments", summary="The instruments, with whether each binds")
def list_instruments(c: ContainerDep) -> InstrumentList:
    """Every instrument in the catalogue with its status and binding nature (a treaty binds
    a Party once ratified; resolutions recommend)."""
    return InstrumentList(items=[_instrument(i, False) for i in c.instruments.instruments()])


@public_router.get(
    "/instruments/{instrument_id}",
    summary="One instrument with every provision, verbatim",
    responses=errors(404),
)
def get_instrument(instrument_id: InstrumentId, c: ContainerDep) -> InstrumentSummaryOut:
    """The instrument and all its provisions, quoted verbatim as printed, with kind,
    addressees, topics, lifecycle stages and cross-references."""
    return _instrument(c.instruments.instrument(instrument_id), True)


@public_router.get(
    "/provisions/{provision_id}",
    summary="One provision, e.g. coe-fc:16.2.g",
    responses=errors(404),
)
def get_provision(provision_id: ProvisionId, c: ContainerDep) -> ProvisionOut:
    """One provision by its ID in the scheme of the instruments' README."""
    return _provision(c.instruments.provision(provision_id))


@public_router.get("/provisions", summary="Search provisions", responses=errors(422))
def search_provisions(
    c: ContainerDep,
    q: Annotated[str, Query(max_length=200)] = "",
    topic: Topic | None = None,
    instrument: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,40}$")] = None,
) -> ProvisionList:
    """Provisions containing every word of `q`, optionally on one topic or instrument."""
    found = [_provision(p) for p in c.instruments.search(q, topic, instrument)]
    return ProvisionList(items=found, total=len(found))


@public_router.get("/requirements", summary="Requirements, each citing its provisions")
def list_requirements(c: ContainerDep) -> RequirementList:
    """The requirements an organisation can meet, each citing its provisions and saying
    what evidence satisfies it."""
    return RequirementList(items=[RequirementOut.of(r) for r in c.instruments.requirements])

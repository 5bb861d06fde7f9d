"""The instruments, provision by provision (public, no sign-in).

/instruments lists them; /instruments/{id} shows one with an anchor per
provision (/instruments/coe-fc#16.2.g), cross-references as links, topic filter
and full-text search; /instruments/search searches them all.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ombud.instruments.domain import Topic
from ombud.kernel.web.deps import ContainerDep
from ombud.kernel.web.forms import QueryChoice, QueryText, query_enum
from ombud.kernel.web.templating import render

router = APIRouter()


@router.get("/instruments", response_class=HTMLResponse)
def instruments(request: Request, c: ContainerDep) -> Response:
    return render(request, "instruments/index.html", {"stats": c.instruments.stats()})


@router.get("/instruments/search", response_class=HTMLResponse)
def search(
    request: Request,
    c: ContainerDep,
    q: QueryText = "",
    topic: QueryChoice = "",
    instrument: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    chosen = query_enum(topic, Topic, "topic")
    found = c.instruments.search(q, chosen, instrument or None) if (q or chosen) else []
    return render(
        request,
        "instruments/search.html",
        {
            "q": q,
            "topic": chosen,
            "instrument": instrument,
            "found": found,
            "instruments": c.instruments.instruments(),
        },
    )


@router.get("/instruments/{instrument_id}", response_class=HTMLResponse)
def instrument(
    request: Request,
    instrument_id: str,
    c: ContainerDep,
    topic: QueryChoice = "",
    q: QueryText = "",
) -> Response:
    found = c.instruments.instrument(instrument_id)
    chosen = query_enum(topic, Topic, "topic")
    shown = found.provisions
    if chosen or q:
        keep = {p.id for p in c.instruments.search(q, chosen, found.id)}
        shown = tuple(p for p in found.provisions if p.id in keep)
    requirements = {p.id: c.instruments.requirements_citing(p.id) for p in shown}
    return render(
        request,
        "instruments/instrument.html",
        {
            "i": found,
            "shown": shown,
            "topic": chosen,
            "q": q,
            "requirements": requirements,
            "topics": sorted(
                {t for p in found.provisions for t in p.topics}, key=lambda t: t.value
            ),
            "cited_by": {p.id: c.instruments.catalogue.cited_by(p.id) for p in shown},
        },
    )

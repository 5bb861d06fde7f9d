"""The API schemas of instruments, provisions and requirements."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel

from ombud.compliance.domain import Requirement
from ombud.kernel.web.schemas import DomainOut

InstrumentId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}$")]


ProvisionId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,40}:[a-z0-9.]{1,40}$")]


class ProvisionOut(DomainOut):
    id: str
    instrument: str
    label: str
    heading: str
    group: str
    text: str
    kind: str
    addressees: list[str]
    topics: list[str]
    stages: list[str]
    refs: list[str]


class InstrumentSummaryOut(DomainOut):
    id: str
    title: str
    short_title: str
    body: str
    date: str
    status: str
    binding: str
    source_file: str


class InstrumentOut(InstrumentSummaryOut):
    summary: str
    provisions: list[ProvisionOut]


class EvidenceOut(BaseModel):
    kind: str
    description: str
    fields: list[str]
    template: str


class RequirementOut(BaseModel):
    id: str
    title: str
    statement: str
    provisions: list[str]
    topics: list[str]
    evidence: list[EvidenceOut]

    @classmethod
    def of(cls, r: Requirement) -> RequirementOut:
        return cls(
            id=r.id,
            title=r.title,
            statement=r.statement,
            provisions=list(r.provisions),
            topics=[t.value for t in r.topics],
            evidence=[
                EvidenceOut(
                    kind=e.kind.value,
                    description=e.description,
                    fields=list(e.fields),
                    template=e.template,
                )
                for e in r.evidence
            ],
        )


class InstrumentList(BaseModel):
    items: list[InstrumentSummaryOut]


class ProvisionList(BaseModel):
    items: list[ProvisionOut]
    total: int


class RequirementList(BaseModel):
    items: list[RequirementOut]

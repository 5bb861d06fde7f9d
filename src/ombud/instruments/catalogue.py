"""Loads the instruments catalogue (resources/instruments/*.yaml) with its schema.

One YAML file per instrument. The schema refuses a malformed file with the
file, line and field; cross-references must resolve; the application refuses
to start on an invalid catalogue rather than serve a half-loaded one.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ombud.instruments.domain import (
    PROVISION_ID_RE,
    Addressee,
    BindingNature,
    Catalogue,
    Instrument,
    InstrumentStatus,
    Provision,
    ProvisionKind,
    Topic,
)
from ombud.kernel.errors import FieldProblem
from ombud.kernel.yaml_schema import SchemaError, validate
from ombud.register.domain.lifecycle import LifecycleStage

ProvisionId = Annotated[str, StringConstraints(pattern=PROVISION_ID_RE.pattern)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProvisionModel(_Strict):
    id: ProvisionId
    label: str = ""
    heading: str = ""
    group: str = ""
    text: NonEmpty = Field(description="Verbatim, as printed in the source (OCR artefacts kept).")
    kind: ProvisionKind
    addressees: list[Addressee] = []
    topics: list[Topic] = []
    stages: list[LifecycleStage] = []
    refs: list[ProvisionId] = []


class InstrumentModel(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    title: NonEmpty
    short_title: NonEmpty
    body: NonEmpty
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    status: InstrumentStatus
    binding: BindingNature
    source_file: NonEmpty
    summary: str = ""
    groups: list[str] = []
    provisions: list[ProvisionModel] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        seen: set[str] = set()
        for i, p in enumerate(self.provisions):
            if not p.id.startswith(self.id + ":"):
                raise ValueError(f"provisions[{i}].id {p.id!r} does not start with {self.id}:")
            if p.id in seen:
                raise ValueError(f"provisions[{i}].id {p.id!r} appears twice")
            seen.add(p.id)
            if p.group and self.groups and p.group not in self.groups:
                raise ValueError(f"provisions[{i}].group {p.group!r} is not one of groups")
        return self

    def to_domain(self) -> Instrument:
        return Instrument(
            id=self.id,
            title=self.title,
            short_title=self.short_title,
            body=self.body,
            date=self.date,
            status=self.status,
            binding=self.binding,
            source_file=self.source_file,
            summary=self.summary,
            groups=tuple(self.groups),
            provisions=tuple(
                Provision(
                    id=p.id,
                    instrument=self.id,
                    text=p.text,
                    kind=p.kind,
                    label=p.label,
                    heading=p.heading,
                    group=p.group,
                    addressees=tuple(p.addressees),
                    topics=tuple(p.topics),
                    stages=tuple(p.stages),
                    refs=tuple(p.refs),
                )
                for p in self.provisions
            ),
        )


def catalogue_dir() -> Path:
    return Path(str(resources.files("ombud.resources").joinpath("instruments")))


def load_instrument(path: Path) -> Instrument:
    return validate(InstrumentModel, path).to_domain()


def load_catalogue(directory: Path | None = None) -> Catalogue:
    """Every instrument file, validated; refuses a catalogue with dangling references."""
    directory = directory or catalogue_dir()
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise SchemaError(f"No instrument files in {directory}.")
    catalogue = Catalogue.of(load_instrument(f) for f in files)
    dangling = catalogue.dangling_refs()
    if dangling:
        problems = [
            FieldProblem(
                ("file", p.split(":")[0] + ".yaml", "line", 0, "refs"),
                f"{p} refers to {r}, which is not in the catalogue",
            )
            for p, r in dangling
        ]
        raise SchemaError(
            f"{len(dangling)} cross-references do not resolve, first: "
            f"{dangling[0][0]} -> {dangling[0][1]}",
            problems,
        )
    return catalogue

"""The instruments catalogue, read-only: browse, search, statistics and OSCAL export."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

from ombud.compliance.domain import Requirement
from ombud.instruments.domain import Catalogue, Instrument, Provision, Topic
from ombud.kernel.errors import Invalid, NotFound

SEARCH_MAX = 200


class OscalWriter(Protocol):
    def catalog(self, instrument: Instrument, catalogue: Catalogue) -> dict[str, Any]: ...

    def profile(
        self, requirements: tuple[Requirement, ...], catalogue: Catalogue
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class InstrumentStats:
    instrument: Instrument
    total: int
    by_kind: dict[str, int]


class InstrumentsService:
    def __init__(
        self,
        catalogue: Catalogue,
        requirements: tuple[Requirement, ...],
        oscal: OscalWriter,
    ) -> None:
        self.catalogue = catalogue
        self.requirements = requirements
        self.oscal = oscal

    def instruments(self) -> tuple[Instrument, ...]:
        return self.catalogue.instruments

    def instrument(self, instrument_id: str) -> Instrument:
        found = self.catalogue.instrument(instrument_id)
        if found is None:
            known = ", ".join(i.id for i in self.catalogue.instruments)
            raise NotFound(f"No instrument '{instrument_id}'. Known: {known}.")
        return found

    def provision(self, provision_id: str) -> Provision:
        found = self.catalogue.provision(provision_id)
        if found is None:
            raise NotFound(
                f"No provision '{provision_id}' in the catalogue "
                "(IDs look like coe-fc:16.2.g or unga-78-265:op6.c)."
            )
        return found

    def lookup(self, ref: str) -> tuple[Instrument, list[Provision]]:
        """An instrument ('coe-fc') or a provision with its sub-provisions ('coe-fc:16')."""
        if ":" not in ref:
            instrument = self.instrument(ref)
            return instrument, list(instrument.provisions)
        provision = self.provision(ref)
        prefix = provision.id + "."
        subtree = [p for p in self.catalogue.by_id.values() if p.id.startswith(prefix)]
        return self.instrument(provision.instrument), [provision, *subtree]

    def search(
        self, text: str, topic: Topic | None = None, instrument: str | None = None
    ) -> list[Provision]:
        """Provisions containing every word of ``text`` (and the topic, if given)."""
        text = text.strip()
        if len(text) > SEARCH_MAX:
            raise Invalid.from_fields({"q": f"Search at most {SEARCH_MAX} characters."}, "query")
        if instrument is not None:
            self.instrument(instrument)
        found = self.catalogue.search(text, topic)
        return [p for p in found if instrument is None or p.instrument == instrument]

    def stats(self) -> list[InstrumentStats]:
        return [
            InstrumentStats(i, len(i.provisions), dict(Counter(p.kind.value for p in i.provisions)))
            for i in self.catalogue.instruments
        ]

    def requirements_citing(self, provision_id: str) -> list[Requirement]:
        return [r for r in self.requirements if provision_id in r.provisions]

    def oscal_catalog(self, instrument_id: str) -> dict[str, Any]:
        return self.oscal.catalog(self.instrument(instrument_id), self.catalogue)

    def oscal_profile(self) -> dict[str, Any]:
        return self.oscal.profile(self.requirements, self.catalogue)

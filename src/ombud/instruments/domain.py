"""The instruments catalogue: instruments, their provisions, and requirements.

Every requirement ombud asks of an organisation cites the provisions it comes
from, by ID in the scheme of shared/instruments/README.md (``coe-fc:16.2.g``,
``unga-78-265:op6.c``, ``ipu-148:pp2``), and quotes them verbatim.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ombud.register.domain.lifecycle import LifecycleStage

PROVISION_ID_RE = re.compile(r"^(?P<instrument>[a-z0-9-]+):(?P<ref>[a-z0-9]+(?:\.[a-z0-9]+)*)$")


class InstrumentStatus(enum.StrEnum):
    TREATY = "treaty"  # a convention (the catalogue's text is the March 2024 draft)
    GA_RESOLUTION = "ga_resolution"
    PARLIAMENTARY_RESOLUTION = "parliamentary_resolution"
    NEWS = "news"


class BindingNature(enum.StrEnum):
    """Whether the text binds: a treaty binds a Party once ratified; resolutions recommend."""

    BINDING_ONCE_RATIFIED = "binding_once_ratified"
    NON_BINDING = "non_binding"
    INFORMATIONAL = "informational"

    @property
    def label(self) -> str:
        return {
            "binding_once_ratified": "Binding on a Party once it has ratified",
            "non_binding": "Recommends; not legally binding",
            "informational": "Informs; not a normative text",
        }[self.value]


class ProvisionKind(enum.StrEnum):
    OBLIGATION = "obligation"
    RECOMMENDATION = "recommendation"
    PRINCIPLE = "principle"
    DEFINITION = "definition"
    SCOPE = "scope"  # scope or exemption
    INSTITUTIONAL = "institutional"
    RECITAL = "recital"
    HEADING = "heading"  # an article title whose content is in its paragraphs
    STATEMENT = "statement"  # a statement reported in a news item


class Addressee(enum.StrEnum):
    PARTIES = "parties"  # parties to a treaty, states
    PUBLIC_AUTHORITIES = "public_authorities"
    PRIVATE_ACTORS = "private_actors"
    DEVELOPERS_DEPLOYERS = "developers_deployers"
    PARLIAMENTS = "parliaments"
    INTERNATIONAL_COMMUNITY = "international_community"


class Topic(enum.StrEnum):
    """The controlled vocabulary of topics (issue 4), plus human rights and democracy,
    which the texts name as their very object (coe-fc:1, ipu-149)."""

    TRANSPARENCY = "transparency"
    OVERSIGHT = "oversight"
    ACCOUNTABILITY = "accountability"
    EQUALITY = "equality"
    PRIVACY = "privacy"
    RELIABILITY = "reliability"
    SAFE_INNOVATION = "safe_innovation"
    REMEDIES = "remedies"
    PROCEDURAL_SAFEGUARDS = "procedural_safeguards"
    RISK_MANAGEMENT = "risk_management"
    RED_LINES = "red_lines"
    PERSONS_WITH_DISABILITIES = "persons_with_disabilities"
    CHILDREN = "children"
    PUBLIC_CONSULTATION = "public_consultation"
    DIGITAL_LITERACY = "digital_literacy"
    CONTENT_PROVENANCE = "content_provenance"
    CYBERSECURITY = "cybersecurity"
    WEAPONS = "weapons"
    TERRORISM = "terrorism"
    LABOUR = "labour"
    MULTILINGUALISM = "multilingualism"
    DATA = "data"
    INTERNATIONAL_COOPERATION = "international_cooperation"
    REPORTING = "reporting"
    HUMAN_RIGHTS = "human_rights"
    DEMOCRACY = "democracy"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Provision:
    id: str
    instrument: str
    text: str
    kind: ProvisionKind
    label: str = ""  # as printed: "Article 16", "(g)", "6."; the quoted text stays as printed
    heading: str = ""
    group: str = ""  # chapter or part, for browsing and OSCAL groups
    addressees: tuple[Addressee, ...] = ()
    topics: tuple[Topic, ...] = ()
    stages: tuple[LifecycleStage, ...] = ()
    refs: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        """The part after the colon: ``16.2.g``; used as the page anchor."""
        return self.id.split(":", 1)[1]

    @property
    def parent_id(self) -> str | None:
        ref = self.ref
        if "." not in ref:
            return None
        return f"{self.instrument}:{ref.rsplit('.', 1)[0]}"


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    short_title: str
    body: str
    date: str
    status: InstrumentStatus
    binding: BindingNature
    source_file: str
    summary: str
    provisions: tuple[Provision, ...]
    groups: tuple[str, ...] = ()

    def provision(self, provision_id: str) -> Provision | None:
        return next((p for p in self.provisions if p.id == provision_id), None)


@dataclass(frozen=True)
class Catalogue:
    """All instruments, indexed. Built once at start-up; refuses dangling references."""

    instruments: tuple[Instrument, ...]
    by_id: Mapping[str, Provision] = field(default_factory=dict)

    @classmethod
    def of(cls, instruments: Iterable[Instrument]) -> Catalogue:
        items = tuple(instruments)
        index = {p.id: p for i in items for p in i.provisions}
        return cls(items, index)

    def instrument(self, instrument_id: str) -> Instrument | None:
        return next((i for i in self.instruments if i.id == instrument_id), None)

    def provision(self, provision_id: str) -> Provision | None:
        return self.by_id.get(provision_id)

    def children(self, provision_id: str) -> list[Provision]:
        return [p for p in self.by_id.values() if p.parent_id == provision_id]

    def cited_by(self, provision_id: str) -> list[Provision]:
        """Provisions whose cross-references point here."""
        return [p for p in self.by_id.values() if provision_id in p.refs]

    def dangling_refs(self) -> list[tuple[str, str]]:
        """(provision, reference) pairs whose reference names no provision."""
        return [(p.id, r) for p in self.by_id.values() for r in p.refs if r not in self.by_id]

    def search(self, text: str, topic: Topic | None = None) -> list[Provision]:
        """Provisions whose text, heading or ID contains every word of ``text``."""
        words = [w.lower() for w in re.findall(r"\w+", text)]
        out = []
        for p in self.by_id.values():
            if topic is not None and topic not in p.topics:
                continue
            hay = f"{p.id} {p.heading} {p.text}".lower()
            if all(w in hay for w in words):
                out.append(p)
        return out


def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())

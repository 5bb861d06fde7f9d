"""OSCAL export: an instrument as an OSCAL catalog, the requirements as an OSCAL profile.

Catalog: groups for the chapters (or preamble/operative parts), controls for the
provisions, nested as printed (article > paragraph > sub-paragraph), each with its
verbatim text as the statement part. Profile: imports the cited controls of each
instrument and adds each requirement to the controls it cites as a guidance part.
Identifiers are deterministic (uuid5) so an export is reproducible.
Validated in the tests with compliance-trestle, OSCAL's own Python library.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from typing import Any

from ombud.compliance.domain import Requirement
from ombud.instruments.domain import Catalogue, Instrument, Provision

OSCAL_VERSION = "1.1.2"
NAMESPACE = uuid.UUID("6f1d2a3c-1d43-5a6e-9a70-0b5d0e2f6c11")
PROPS_NS = "https://github.com/ombud/ns/oscal"
# A fixed modification time: the catalogue changes by release, not by export.
CATALOGUE_MODIFIED = "2024-12-05T00:00:00+00:00"


def control_id(provision_id: str) -> str:
    """coe-fc:16.2.g -> coe-fc-16.2.g (an OSCAL token: letters, digits, . - _)."""
    return provision_id.replace(":", "-")


def _token(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug if slug and slug[0].isalpha() else f"g-{slug or 'group'}"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _title(p: Provision) -> str:
    if p.heading:
        return p.heading
    if p.label:
        return f"{p.instrument} {p.label}".strip()
    return p.id


def _control(p: Provision, children: dict[str, list[Provision]]) -> dict[str, Any]:
    props: list[dict[str, Any]] = []
    if p.label:
        props.append({"name": "label", "value": p.label})
    props.append({"name": "kind", "ns": PROPS_NS, "value": p.kind.value})
    props.extend({"name": "topic", "ns": PROPS_NS, "value": t.value} for t in p.topics)
    props.extend({"name": "addressee", "ns": PROPS_NS, "value": a.value} for a in p.addressees)
    props.extend({"name": "lifecycle-stage", "ns": PROPS_NS, "value": s.value} for s in p.stages)
    control: dict[str, Any] = {
        "id": control_id(p.id),
        "title": _title(p),
        "props": props,
        "parts": [{"id": f"{control_id(p.id)}_smt", "name": "statement", "prose": p.text}],
    }
    if p.refs:
        control["links"] = [{"href": f"#{control_id(r)}", "rel": "related"} for r in p.refs]
    nested = [_control(c, children) for c in children.get(p.id, [])]
    if nested:
        control["controls"] = nested
    return control


class OscalExporter:
    def catalog(self, instrument: Instrument, catalogue: Catalogue) -> dict[str, Any]:
        ids = {p.id for p in instrument.provisions}
        children: dict[str, list[Provision]] = defaultdict(list)
        roots: list[Provision] = []
        for p in instrument.provisions:
            parent = p.parent_id
            if parent in ids:
                children[parent].append(p)
            else:
                roots.append(p)
        groups: dict[str, list[dict[str, Any]]] = {}
        for p in roots:
            groups.setdefault(p.group or "Provisions", []).append(_control(p, children))
        return {
            "catalog": {
                "uuid": _uuid("catalog", instrument.id),
                "metadata": {
                    "title": instrument.title,
                    "published": f"{instrument.date}T00:00:00+00:00",
                    "last-modified": CATALOGUE_MODIFIED,
                    "version": instrument.date,
                    "oscal-version": OSCAL_VERSION,
                    "props": [
                        {"name": "status", "ns": PROPS_NS, "value": instrument.status.value},
                        {"name": "binding", "ns": PROPS_NS, "value": instrument.binding.value},
                    ],
                    "parties": [
                        {
                            "uuid": _uuid("party", instrument.body),
                            "type": "organization",
                            "name": instrument.body,
                        }
                    ],
                    "remarks": instrument.binding.label,
                },
                "groups": [
                    {"id": _token(title), "title": title, "controls": controls}
                    for title, controls in groups.items()
                ],
            }
        }

    def profile(
        self, requirements: tuple[Requirement, ...], catalogue: Catalogue
    ) -> dict[str, Any]:
        cited: dict[str, list[str]] = defaultdict(list)
        alters: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in requirements:
            for pid in r.provisions:
                instrument = pid.split(":", 1)[0]
                if control_id(pid) not in cited[instrument]:
                    cited[instrument].append(control_id(pid))
                alters[control_id(pid)].append(
                    {
                        "id": f"{control_id(pid)}_req_{r.id}",
                        "name": "guidance",
                        "title": r.title,
                        "props": [{"name": "requirement-id", "ns": PROPS_NS, "value": r.id}],
                        "prose": r.statement
                        + " Evidence: "
                        + "; ".join(e.description for e in r.evidence)
                        + ".",
                    }
                )
        return {
            "profile": {
                "uuid": _uuid("profile", "requirements"),
                "metadata": {
                    "title": "ombud requirements",
                    "last-modified": CATALOGUE_MODIFIED,
                    "version": "1",
                    "oscal-version": OSCAL_VERSION,
                    "remarks": "Requirements an organisation can meet, each citing the "
                    "provisions it comes from.",
                },
                "imports": [
                    {
                        "href": f"{instrument}.oscal.json",
                        "include-controls": [{"with-ids": ids}],
                    }
                    for instrument, ids in cited.items()
                ],
                "merge": {"as-is": True},
                "modify": {
                    "alters": [
                        {"control-id": cid, "adds": [{"position": "ending", "parts": parts}]}
                        for cid, parts in alters.items()
                    ]
                },
            }
        }

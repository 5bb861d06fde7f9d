"""How the ledger checks this area's records (kernel/ledger): what the entries vouch
for (RecordSpec) and where the current record is stored (RecordSource)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ledger.record_check import RecordSpec
from ombud.kernel.ledger.records import RecordSource
from ombud.register.domain.systems import DETAIL_FIELDS, SystemDetails
from ombud.register.tables import ai_systems

A = LedgerAction


def _system(m: Mapping[str, Any]) -> dict[str, Any]:
    details = SystemDetails.from_snapshot({f: m[f] for f in DETAIL_FIELDS})
    return {
        "details": details.snapshot(),
        "lifecycle_stage": m["lifecycle_stage"],
        "publication_state": m["publication_state"],
        "risk_level": m["risk_level"],
        "revision": m["revision"],
    }


LEDGER_RECORDS: tuple[RecordSpec, ...] = (
    RecordSpec(
        "ai_system",
        ("details", "lifecycle_stage", "publication_state", "revision"),
        unchecked="risk level: a signed assessment or a red-line decision sets it without "
        "recording the new level on the system's entries",
    ),
)

RECORD_SOURCES: dict[str, RecordSource] = {
    "ai_system": RecordSource(ai_systems, (ai_systems.c.id,), _system),
}

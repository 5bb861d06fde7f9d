"""How the ledger checks this area's records (kernel/ledger): what the entries vouch
for (RecordSpec) and where the current record is stored (RecordSource)."""

from __future__ import annotations

from ombud.incidents.tables import incidents
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ledger.record_check import RecordSpec
from ombud.kernel.ledger.records import RecordSource, picked

A = LedgerAction


LEDGER_RECORDS: tuple[RecordSpec, ...] = (
    RecordSpec(
        "incident", ("title", "category", "severity", "status", "people_affected", "case_id")
    ),
)

RECORD_SOURCES: dict[str, RecordSource] = {
    "incident": RecordSource(
        incidents,
        (incidents.c.id,),
        *picked("title", "category", "severity", "status", "people_affected", "case_id"),
    ),
}

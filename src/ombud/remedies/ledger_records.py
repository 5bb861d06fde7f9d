"""How the ledger checks this area's records (kernel/ledger): what the entries vouch
for (RecordSpec) and where the current record is stored (RecordSource)."""

from __future__ import annotations

from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ledger.record_check import RecordSpec
from ombud.kernel.ledger.records import RecordSource, picked
from ombud.remedies.tables import cases

A = LedgerAction


LEDGER_RECORDS: tuple[RecordSpec, ...] = (
    RecordSpec(
        "case",
        ("kind", "category", "system_id", "state"),
        implied={A.CREATE: {"state": "received"}},
        forgotten_by={"message_from": ("state",)},
        unchecked="state after a reporter's reply, until its next change (the reply may "
        "move it from need_info to under_review without recording that); assignee, "
        "texts and contact (kept off the ledger)",
    ),
)

RECORD_SOURCES: dict[str, RecordSource] = {
    "case": RecordSource(cases, (cases.c.id,), *picked("kind", "category", "system_id", "state")),
}

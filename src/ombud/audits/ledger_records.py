"""How the ledger checks this area's records (kernel/ledger): what the entries vouch
for (RecordSpec) and where the current record is stored (RecordSource)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ombud.audits.tables import audit_runs, findings
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ledger.record_check import RecordSpec
from ombud.kernel.ledger.records import RecordSource, picked

A = LedgerAction


def _audit_run(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "system_id": m["system_id"],
        "purpose": m["purpose"],
        "data": m["data_name"],
        "state": m["state"],
        "data_sha256": m["data_sha256"],
        "rows": m["data_rows"],
        "engine": m["engine"],
        "published": bool(m["published"]),
    }


LEDGER_RECORDS: tuple[RecordSpec, ...] = (
    RecordSpec(
        "audit_run",
        ("system_id", "purpose", "data", "state", "data_sha256", "rows", "engine", "published"),
        implied={A.CREATE: {"published": False}},
        unchecked="state while queued or running (recorded when the audit ends)",
    ),
    RecordSpec(
        "finding",
        ("title", "state"),
        implied={A.CREATE: {"state": "open"}},
        unchecked="the audit it was last seen in",
    ),
)

RECORD_SOURCES: dict[str, RecordSource] = {
    "audit_run": RecordSource(
        audit_runs,
        (audit_runs.c.id,),
        _audit_run,
        (
            "system_id",
            "purpose",
            "data_name",
            "state",
            "data_sha256",
            "data_rows",
            "engine",
            "published",
        ),
    ),
    "finding": RecordSource(findings, (findings.c.id,), *picked("title", "state")),
}

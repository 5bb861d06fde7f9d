"""How the ledger checks this area's records (kernel/ledger): what the entries vouch
for (RecordSpec) and where the current record is stored (RecordSource)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ombud.assessments.tables import assessments
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ledger.record_check import RecordSpec
from ombud.kernel.ledger.records import RecordSource

A = LedgerAction


def _assessment(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "system_id": m["system_id"],
        "template": f"{m['template_urn']}:{m['template_version']}",
        "answers": m["answers"],
        "status": m["status"],
        "content_hash": m["content_hash"],
    }


LEDGER_RECORDS: tuple[RecordSpec, ...] = (
    RecordSpec(
        "assessment",
        ("system_id", "template", "answers", "status", "content_hash"),
        implied={A.CREATE: {"status": "draft"}, A.SIGN_OFF: {"status": "signed"}},
        unchecked="level (not recorded when answers are saved) and staleness",
    ),
)

RECORD_SOURCES: dict[str, RecordSource] = {
    "assessment": RecordSource(
        assessments,
        (assessments.c.id,),
        _assessment,
        ("system_id", "template_urn", "template_version", "answers", "status", "content_hash"),
    ),
}

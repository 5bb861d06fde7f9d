"""How the audits area plugs into ombud (see kernel/module.py).

Bias and discrimination audits and monitoring (coe-fc:10, unga-78-265:op6.h).
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliGroup, Module

MODULE = Module(
    name="audits",
    kept_records="ombud.audits.register_links:kept_records",
    record_specs="ombud.audits.ledger_records:LEDGER_RECORDS",
    record_sources="ombud.audits.ledger_records:RECORD_SOURCES",
    tables=("ombud.audits.tables",),
    repositories="ombud.audits.repository:REPOSITORIES",
    pages=("ombud.audits.pages:router",),
    api=(ApiRoutes("ombud.audits.api:router", "token"),),
    cli=(
        CliGroup(
            "audit",
            "ombud.audits.cli:audit_app",
            "Bias and discrimination audits of a model's decisions (coe-fc:10, ipu-149).",
        ),
    ),
)

"""How the incidents area plugs into ombud (see kernel/module.py).

The incident log (unga-78-265:op6.c, ipa-cis-2024).
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliGroup, Module

MODULE = Module(
    name="incidents",
    kept_records="ombud.incidents.register_links:kept_records",
    record_specs="ombud.incidents.ledger_records:LEDGER_RECORDS",
    record_sources="ombud.incidents.ledger_records:RECORD_SOURCES",
    tables=("ombud.incidents.tables",),
    repositories="ombud.incidents.repository:REPOSITORIES",
    pages=("ombud.incidents.pages:router",),
    api=(ApiRoutes("ombud.incidents.api:router", "token"),),
    cli=(
        CliGroup(
            "incidents",
            "ombud.incidents.cli:incidents_app",
            "Confirmed incidents (unga-78-265:op6.c).",
        ),
    ),
)

"""How the assessments area plugs into ombud (see kernel/module.py).

Risk and impact assessments (coe-fc:16) and red-line decisions.
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliGroup, Module

MODULE = Module(
    name="assessments",
    gates="ombud.assessments.gates:GATES",
    gate_facts="ombud.assessments.gates:gate_facts",
    kept_records="ombud.assessments.register_links:kept_records",
    subscriptions="ombud.assessments.events:SUBSCRIPTIONS",
    record_specs="ombud.assessments.ledger_records:LEDGER_RECORDS",
    record_sources="ombud.assessments.ledger_records:RECORD_SOURCES",
    tables=("ombud.assessments.tables",),
    repositories="ombud.assessments.repository:REPOSITORIES",
    pages=("ombud.assessments.pages:router",),
    api=(ApiRoutes("ombud.assessments.api:router", "token"),),
    cli=(
        CliGroup(
            "assess", "ombud.assessments.cli:assess_app", "Risk and impact assessments (coe-fc:16)."
        ),
    ),
)

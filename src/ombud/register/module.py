"""How the register area plugs into ombud (see kernel/module.py).

The register of AI systems: records, lifecycle, publication (coe-fc:8, coe-fc:16).
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliGroup, Module

MODULE = Module(
    name="register",
    gates="ombud.register.domain.gates:GATES",
    template_globals="ombud.register.labels:TEMPLATE_GLOBALS",
    labels="ombud.register.labels:LABELS",
    record_specs="ombud.register.ledger_records:LEDGER_RECORDS",
    record_sources="ombud.register.ledger_records:RECORD_SOURCES",
    tables=("ombud.register.tables",),
    repositories="ombud.register.repository:REPOSITORIES",
    pages=(
        "ombud.register.pages:router",
        "ombud.register.public:router",
    ),
    api=(
        ApiRoutes("ombud.register.public_api:router", "public", first=True),
        ApiRoutes("ombud.register.api:router", "token"),
        ApiRoutes("ombud.register.lifecycle_api:router", "public"),
    ),
    cli=(CliGroup("systems", "ombud.register.cli:systems_app", "AI systems in the register."),),
)

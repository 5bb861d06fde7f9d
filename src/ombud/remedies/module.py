"""How the remedies area plugs into ombud (see kernel/module.py).

Reports, complaints and requests for human review (coe-fc:14, coe-fc:15).
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliGroup, Module

MODULE = Module(
    name="remedies",
    record_specs="ombud.remedies.ledger_records:LEDGER_RECORDS",
    record_sources="ombud.remedies.ledger_records:RECORD_SOURCES",
    tables=("ombud.remedies.tables",),
    repositories="ombud.remedies.repository:REPOSITORIES",
    pages=(
        "ombud.remedies.public:router",
        "ombud.remedies.pages:router",
    ),
    api=(
        ApiRoutes("ombud.remedies.api:public_router", "public", first=True),
        ApiRoutes("ombud.remedies.api:router", "token"),
    ),
    cli=(CliGroup("cases", "ombud.remedies.cli:cases_app", "Reports, complaints, human reviews."),),
)

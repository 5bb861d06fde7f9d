"""How the accounts area plugs into ombud (see kernel/module.py).

Accounts, organisations, members, jurisdiction, sign-in and API tokens.
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliGroup, Module

MODULE = Module(
    name="accounts",
    record_specs="ombud.accounts.ledger_records:LEDGER_RECORDS",
    record_sources="ombud.accounts.ledger_records:RECORD_SOURCES",
    tables=("ombud.accounts.tables",),
    repositories="ombud.accounts.repository:REPOSITORIES",
    pages=(
        "ombud.accounts.pages:router",
        "ombud.accounts.admin:router",
    ),
    api=(
        ApiRoutes("ombud.accounts.api:router", "token"),
        ApiRoutes("ombud.accounts.api:auth_router", "sign-in"),
    ),
    cli=(
        CliGroup("user", "ombud.accounts.cli:user_app", "Accounts."),
        CliGroup("org", "ombud.accounts.cli:org_app", "Organisations, members and jurisdiction."),
    ),
)

"""How the compliance area plugs into ombud (see kernel/module.py).

Requirements traced to provisions and their status from the evidence on record.
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliCommand, Module

MODULE = Module(
    name="compliance",
    open_pages=("ombud.compliance.pages:router",),
    api=(ApiRoutes("ombud.compliance.api:router", "token"),),
    cli=(
        CliCommand(
            "compliance",
            "ombud.compliance.cli:compliance",
            "The compliance matrix of a system (coe-fc:16).",
        ),
    ),
)

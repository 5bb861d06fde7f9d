"""How the instruments area plugs into ombud (see kernel/module.py).

The catalogue of provisions of the 2024 instruments, quoted verbatim.
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliGroup, Module

MODULE = Module(
    name="instruments",
    template_globals="ombud.instruments.labels:TEMPLATE_GLOBALS",
    open_pages=("ombud.instruments.public:router",),
    api=(ApiRoutes("ombud.instruments.api:public_router", "public", responses=(422,)),),
    cli=(
        CliGroup(
            "instruments",
            "ombud.instruments.cli:instruments_app",
            "The instruments catalogue: provisions, search, OSCAL export.",
        ),
    ),
)

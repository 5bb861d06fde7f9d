"""How the ledger area plugs into ombud (see kernel/module.py).

The hash-chained ledger as people use it: the entries an actor may read, the chain and
record check, checkpoints (coe-fc:26). The chain itself, its keys and storage are the
kernel's (kernel/ledger), as every area writes to it.
"""

from __future__ import annotations

from ombud.kernel.module import ApiRoutes, CliGroup, Module

MODULE = Module(
    name="ledger",
    pages=("ombud.ledger.pages:router",),
    api=(ApiRoutes("ombud.ledger.api:router", "token"),),
    cli=(CliGroup("ledger", "ombud.ledger.cli:ledger_app", "The hash-chained audit ledger."),),
)

"""How the notices area plugs into ombud (see kernel/module.py).

The public AI notice of a system (coe-fc:15.2).
"""

from __future__ import annotations

from ombud.kernel.module import Module

MODULE = Module(
    name="notices",
    pages=("ombud.notices.pages:router",),
)

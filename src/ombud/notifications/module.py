"""How the notifications area plugs into ombud (see kernel/module.py).

E-mail through the outbox.
"""

from __future__ import annotations

from ombud.kernel.module import CliGroup, Module

MODULE = Module(
    name="notifications",
    tables=("ombud.notifications.tables",),
    repositories="ombud.notifications.repository:REPOSITORIES",
    cli=(
        CliGroup("mail", "ombud.notifications.cli:mail_app", "E-mail notifications (the outbox)."),
    ),
)

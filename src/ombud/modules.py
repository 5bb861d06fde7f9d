"""The areas of ombud, in dependency order: the one list the application, the API, the
CLI, the unit of work and the test database iterate (kernel/module.py says what an area
contributes). Adding an area is adding its module here."""

from __future__ import annotations

from ombud.accounts.module import MODULE as ACCOUNTS
from ombud.assessments.module import MODULE as ASSESSMENTS
from ombud.audits.module import MODULE as AUDITS
from ombud.compliance.module import MODULE as COMPLIANCE
from ombud.incidents.module import MODULE as INCIDENTS
from ombud.instruments.module import MODULE as INSTRUMENTS
from ombud.kernel.module import Module
from ombud.ledger.module import MODULE as LEDGER
from ombud.notices.module import MODULE as NOTICES
from ombud.notifications.module import MODULE as NOTIFICATIONS
from ombud.register.module import MODULE as REGISTER
from ombud.remedies.module import MODULE as REMEDIES

MODULES: tuple[Module, ...] = (
    LEDGER,
    NOTIFICATIONS,
    ACCOUNTS,
    REGISTER,
    INSTRUMENTS,
    COMPLIANCE,
    ASSESSMENTS,
    AUDITS,
    REMEDIES,
    INCIDENTS,
    NOTICES,
)

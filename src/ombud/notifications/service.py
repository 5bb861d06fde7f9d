"""Sending the e-mail outbox: claim due messages, send, mark sent or retry later.

Messages are queued by the services in the same transaction as the change they
report, so a crash never sends news of a change that was rolled back, and never
loses news of one that was committed. Delivery is at least once: a crash after
the SMTP server took a message and before it was marked sent sends it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ombud.kernel.access import Principal
from ombud.kernel.ports import Clock, UnitOfWorkFactory
from ombud.kernel.service import Service, require_superuser, utcnow
from ombud.notifications.domain import Mail, OutboxItem, next_attempt
from ombud.notifications.ports import Mailer

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class SendResult:
    sent: int
    failed: int
    disabled: bool = False


class NotificationService(Service):
    def __init__(
        self, uow_factory: UnitOfWorkFactory, mailer: Mailer | None, clock: Clock = utcnow
    ) -> None:
        super().__init__(uow_factory, clock)
        self.mailer = mailer

    @property
    def enabled(self) -> bool:
        return self.mailer is not None

    def send_pending(self, limit: int = 100) -> SendResult:
        """Send what is due; without an SMTP server set, messages stay queued."""
        if self.mailer is None:
            return SendResult(0, 0, disabled=True)
        with self.uow_factory() as uow:
            items = uow.outbox.claim_due(self.clock(), limit, LEASE)
            uow.commit()
        if not items:
            return SendResult(0, 0)
        results = self.mailer.send([Mail(i.recipient, i.subject, i.body) for i in items])
        now = self.clock()
        failed = 0
        with self.uow_factory() as uow:
            for item, error in zip(items, results, strict=True):
                if error is None:
                    uow.outbox.mark_sent(item.id, now)
                else:
                    failed += 1
                    uow.outbox.mark_failed(item.id, error, next_attempt(now, item.attempts + 1))
            uow.commit()
        return SendResult(len(items) - failed, failed)

    def recent(
        self, actor: Principal, pending_only: bool = False, limit: int = 50
    ) -> list[OutboxItem]:
        """The outbox, newest first (platform administrators: it holds addresses)."""
        require_superuser(actor, "read the e-mail outbox")
        with self.uow_factory(readonly=True) as uow:
            return uow.outbox.recent(pending_only, min(max(limit, 1), 500))

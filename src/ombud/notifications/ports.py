"""What the notification service needs: the outbox and a mailer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from ombud.notifications.domain import Mail, OutboxItem


class OutboxRepository(Protocol):
    def add(self, mail: Mail, at: datetime) -> None: ...
    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]: ...
    def mark_sent(self, item_id: int, at: datetime) -> None: ...
    def mark_failed(self, item_id: int, error: str, retry_at: datetime) -> None: ...
    def recent(self, pending_only: bool, limit: int) -> list[OutboxItem]: ...


class Mailer(Protocol):
    def send(self, mails: list[Mail]) -> list[str | None]: ...

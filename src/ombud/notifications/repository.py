"""SQL repository of the e-mail outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ombud.kernel.module import RepositoryFactory
from ombud.notifications.domain import MAX_ATTEMPTS, Mail, OutboxItem
from ombud.notifications.tables import outbox


def _item(m: Any) -> OutboxItem:
    return OutboxItem(**{k: m[k] for k in OutboxItem.__dataclass_fields__})


_INSERT = insert(outbox)  # values bound at execution (see adapters/db/cases.py)


class SqlOutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, mail: Mail, at: datetime) -> None:
        self.conn.execute(
            _INSERT,
            {
                "recipient": mail.recipient,
                "subject": mail.subject,
                "body": mail.body,
                "created_at": at,
                "next_attempt_at": at,
                "attempts": 0,
                "last_error": "",
            },
        )

    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        """Due messages, leased to the caller: their next attempt moves past the lease,
        so another sender does not take them while this one sends."""
        rows = self.conn.execute(
            select(outbox)
            .where(
                outbox.c.sent_at.is_(None),
                outbox.c.next_attempt_at <= now,
                outbox.c.attempts < MAX_ATTEMPTS,
            )
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        items = [_item(r._mapping) for r in rows]
        if items:
            self.conn.execute(
                update(outbox)
                .where(outbox.c.id.in_([i.id for i in items]))
                .values(next_attempt_at=now + lease)
            )
        return items

    def mark_sent(self, item_id: int, at: datetime) -> None:
        self.conn.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(sent_at=at, attempts=outbox.c.attempts + 1, last_error="")
        )

    def mark_failed(self, item_id: int, error: str, retry_at: datetime) -> None:
        self.conn.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(
                attempts=outbox.c.attempts + 1, last_error=error[:2000], next_attempt_at=retry_at
            )
        )

    def recent(self, pending_only: bool, limit: int) -> list[OutboxItem]:
        q = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if pending_only:
            q = q.where(outbox.c.sent_at.is_(None))
        return [_item(r._mapping) for r in self.conn.execute(q)]


# The unit of work's attributes this area provides (kernel/module.py: RepositoryFactory).
REPOSITORIES: dict[str, RepositoryFactory] = {
    "outbox": lambda conn, dialect: SqlOutboxRepository(conn),
}

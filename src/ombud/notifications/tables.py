"""The outbox table."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from ombud.kernel.db.metadata import BigId, metadata

# E-mail to send (a transactional outbox: written with the change it reports,
# sent afterwards, retried; a crash between the two loses nothing).
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("recipient", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", DateTime, nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
    sqlite_autoincrement=True,
)

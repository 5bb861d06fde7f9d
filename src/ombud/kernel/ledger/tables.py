"""The ledger's tables: the hash-chained entries and the head."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
)

from ombud.kernel.db.metadata import BigId, metadata

# The ledger refers to entities by type and id, never by foreign key: a deleted
# system's entries must stay.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("at", DateTime, nullable=False),
    Column("actor_id", BigInteger, nullable=True),
    Column("actor", String(320), nullable=False),
    Column("action", String(40), nullable=False),
    Column("entity_type", String(40), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("organisation_id", BigInteger, nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # HMAC-SHA256 of ``hash`` under the installation key (kept outside the database).
    Column("mac", String(64), nullable=True),
    Index("ix_ledger_entries_org", "organisation_id", "id"),
    Index("ix_ledger_entries_entity", "entity_type", "entity_id"),
    sqlite_autoincrement=True,
)

# One row: the newest entry's sequence number and hash. Appending locks it, so
# concurrent writers chain one after another; verify compares against it.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("mac", String(64), nullable=True),
)

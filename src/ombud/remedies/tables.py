"""Cases and their messages and attachments (coe-fc:14, coe-fc:15, unga-78-265:op6.c/k)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from ombud.kernel.db.metadata import BigId, metadata

cases = Table(
    "cases",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("system_id", BigId, ForeignKey("ai_systems.id", ondelete="RESTRICT"), nullable=False),
    Column("organisation_id", BigId, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("category", String(30), nullable=False),
    Column("description", Text, nullable=False),
    Column("contact", String(320), nullable=False, default=""),
    Column("decision_reference", String(200), nullable=False, default=""),
    Column("removal_requested", Boolean, nullable=False, default=False),
    Column("state", String(20), nullable=False),
    Column("tracking_code", String(20), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("deadline", DateTime, nullable=True),
    Column("assigned_to", BigId, nullable=True),
    Column("original_decider", String(320), nullable=False, default=""),
    Column("outcome", Text, nullable=False, default=""),
    Column("escalated_at", DateTime, nullable=True),
    Index("ix_cases_org_state", "organisation_id", "state"),
    sqlite_autoincrement=True,
)


case_messages = Table(
    "case_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("author", String(320), nullable=False),
    Column("text", Text, nullable=False),
    Column("internal", Boolean, nullable=False, default=False),
    # On whose behalf: the case's organisation or the oversight body it was escalated
    # to (named to the person); NULL for the reporter. No foreign key, as cases.
    Column("organisation_id", BigId, nullable=True),
    Index("ix_case_messages_case", "case_id"),
    sqlite_autoincrement=True,
)


# Files a member of the public attaches to a report (type- and size-limited).
case_attachments = Table(
    "case_attachments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
    Index("ix_case_attachments_case", "case_id"),
    sqlite_autoincrement=True,
)

"""The incident log's table (unga-78-265:op6.c, ipa-cis-2024)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from ombud.kernel.db.metadata import BigId, metadata

# Confirmed incidents (unga-78-265:op6.c, ipa-cis-2024): harm, severity, cause, fix.
incidents = Table(
    "incidents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("system_id", BigId, ForeignKey("ai_systems.id", ondelete="RESTRICT"), nullable=False),
    Column("organisation_id", BigId, nullable=False),
    Column("case_id", BigId, ForeignKey("cases.id", ondelete="SET NULL"), nullable=True),
    Column("title", String(200), nullable=False),
    Column("category", String(30), nullable=False),
    Column("harm", Text, nullable=False, default=""),
    Column("severity", String(12), nullable=False),
    Column("people_affected", Integer, nullable=True),
    Column("root_cause", Text, nullable=False, default=""),
    Column("corrective_action", Text, nullable=False, default=""),
    Column("public_summary", Text, nullable=False, default=""),
    Column("occurred_at", DateTime, nullable=True),
    Column("recorded_at", DateTime, nullable=False),
    Column("recorded_by", String(320), nullable=False),
    Column("status", String(12), nullable=False, default="open"),
    Column("resolved_at", DateTime, nullable=True),
    Column("external", JSON, nullable=False, default=dict),  # ids in AIID / AVID, source
    Index("ix_incidents_org", "organisation_id"),
    Index("ix_incidents_system", "system_id"),
    sqlite_autoincrement=True,
)

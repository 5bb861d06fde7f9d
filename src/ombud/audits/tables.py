"""Audit runs (a job and, when done, its result) and the findings opened from them
(coe-fc:10, unga-78-265:op6.h)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from ombud.kernel.db.metadata import BigId, metadata

# One audit run: a job (queued, running, done, failed) and, when done, its result.
audit_runs = Table(
    "audit_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("organisation_id", BigId, nullable=False),
    Column("system_id", BigId, ForeignKey("ai_systems.id", ondelete="RESTRICT"), nullable=False),
    Column("purpose", String(20), nullable=False),  # pre_deployment or monitoring
    Column("state", String(12), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("message", String(300), nullable=False, default=""),
    Column("parameters", JSON, nullable=False),
    Column("data_name", String(300), nullable=False),
    Column("data_sha256", String(64), nullable=True),
    Column("data_rows", BigInteger, nullable=True),
    Column("engine", String(120), nullable=False, default=""),
    Column("result", JSON, nullable=True),
    Column("error", Text, nullable=False, default=""),
    Column("requested_by", String(320), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("started_at", DateTime, nullable=True),
    Column("finished_at", DateTime, nullable=True),
    Column("lease_until", DateTime, nullable=True),  # a worker holds it until then
    Column("attempts", Integer, nullable=False, default=0),
    Column("published", Boolean, nullable=False, default=False),
    Index("ix_audit_runs_system", "system_id"),
    Index("ix_audit_runs_state", "state"),
    sqlite_autoincrement=True,
)


# Findings opened on a system, e.g. by a monitoring alert rule.
findings = Table(
    "findings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("system_id", BigId, ForeignKey("ai_systems.id", ondelete="RESTRICT"), nullable=False),
    Column("organisation_id", BigId, nullable=False),
    Column("audit_run_id", BigId, ForeignKey("audit_runs.id", ondelete="SET NULL"), nullable=True),
    Column("source", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("state", String(12), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("resolved_at", DateTime, nullable=True),
    Column("resolved_by", String(320), nullable=False, default=""),
    Column("resolution", Text, nullable=False, default=""),
    Index("ix_findings_system", "system_id"),
    sqlite_autoincrement=True,
)


# An audit cited in an assessment (e.g. the pre-deployment testing record).
assessment_audits = Table(
    "assessment_audits",
    metadata,
    Column(
        "assessment_id",
        BigId,
        ForeignKey("assessments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "audit_run_id",
        BigId,
        ForeignKey("audit_runs.id", ondelete="RESTRICT"),
        primary_key=True,
    ),
    Column("cited_by", String(320), nullable=False),
    Column("cited_at", DateTime, nullable=False),
)

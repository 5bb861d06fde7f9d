"""Impact assessments, their authors, comments, red-line decisions, evidence files and
cited audits (coe-fc:16)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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

assessments = Table(
    "assessments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("system_id", BigId, ForeignKey("ai_systems.id", ondelete="RESTRICT"), nullable=False),
    Column("organisation_id", BigId, nullable=False),
    Column("template_urn", String(200), nullable=False),
    Column("template_version", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("level", String(40), nullable=True),
    Column("created_by", BigId, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("submitted_at", DateTime, nullable=True),
    Column("signed_at", DateTime, nullable=True),
    Column("signed_by", String(320), nullable=True),
    Column("content_hash", String(64), nullable=True),
    Column("system_revision", Integer, nullable=True),  # the record revision it was signed on
    Column("review_date", DateTime, nullable=True),
    Column("stale_at", DateTime, nullable=True),
    Column("stale_reason", Text, nullable=True),
    Index("ix_assessments_system", "system_id", "template_urn"),
    sqlite_autoincrement=True,
)


assessment_authors = Table(
    "assessment_authors",
    metadata,
    Column(
        "assessment_id",
        BigId,
        ForeignKey("assessments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", BigId, primary_key=True),
)


assessment_comments = Table(
    "assessment_comments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "assessment_id", BigId, ForeignKey("assessments.id", ondelete="CASCADE"), nullable=False
    ),
    Column("at", DateTime, nullable=False),
    Column("actor", String(320), nullable=False),
    Column("text", Text, nullable=False),
    Index("ix_assessment_comments_assessment", "assessment_id"),
    sqlite_autoincrement=True,
)


red_line_decisions = Table(
    "red_line_decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("system_id", BigId, ForeignKey("ai_systems.id", ondelete="RESTRICT"), nullable=False),
    Column(
        "assessment_id",
        BigId,
        ForeignKey("assessments.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("rule_id", String(80), nullable=False),
    Column("provision", String(80), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("until", DateTime, nullable=True),
    Column("legal_basis", Text, nullable=False, default=""),
    Column("reason", Text, nullable=False),
    Column("decided_by", String(320), nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Column("review_date", DateTime, nullable=True),
    Index("ix_red_line_decisions_system", "system_id"),
    sqlite_autoincrement=True,
)


# Evidence files attached to assessments (kept in the database: one backup, one
# transaction, nothing on disk to lose).
evidence_files = Table(
    "evidence_files",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "assessment_id", BigId, ForeignKey("assessments.id", ondelete="RESTRICT"), nullable=False
    ),
    Column("name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("uploaded_by", String(320), nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
    Index("ix_evidence_files_assessment", "assessment_id"),
    sqlite_autoincrement=True,
)

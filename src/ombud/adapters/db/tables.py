"""Database tables (SQLAlchemy Core). Migrations in migrations/ create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)

from ombud.kernel.db.metadata import BigId, metadata

organisations = Table(
    "organisations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("slug", String(64), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("country", String(2), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    # Languages of the public AI notices, comma-separated codes (coe-fc:15.2).
    Column("notice_languages", String(60), nullable=False, default="en"),
    sqlite_autoincrement=True,
)

jurisdictions = Table(
    "jurisdictions",
    metadata,
    Column(
        "oversight_id",
        BigId,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "organisation_id",
        BigId,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("password_hash", String(255), nullable=False),
    Column("is_superuser", Boolean, nullable=False, default=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    # False while an invited account waits for its owner to set a password.
    Column("claimed", Boolean, nullable=False, default=True, server_default=true()),
    sqlite_autoincrement=True,
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        BigId,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("role", String(20), nullable=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_web_sessions_user_id", "user_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=True),
    Column("revoked_at", DateTime, nullable=True),
    Column("last_used_at", DateTime, nullable=True),
    Index("ix_api_tokens_user_id", "user_id"),
    sqlite_autoincrement=True,
)

ai_systems = Table(
    "ai_systems",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "organisation_id",
        BigId,
        ForeignKey("organisations.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("name", String(200), nullable=False),
    Column("purpose", Text, nullable=False, default=""),
    Column("intended_use", Text, nullable=False, default=""),
    Column("deployment_context", Text, nullable=False, default=""),
    Column("sector", String(40), nullable=False),
    Column("legal_basis", Text, nullable=False, default=""),
    Column("decisions", Text, nullable=False, default=""),
    Column("decision_role", String(40), nullable=False),
    Column("effect_on_people", Text, nullable=False, default=""),
    Column("human_oversight", Text, nullable=False, default=""),
    Column("affected_groups", JSON, nullable=False),
    Column("affects_children", Boolean, nullable=False, default=False),
    Column("affects_persons_with_disabilities", Boolean, nullable=False, default=False),
    Column("data_sources", JSON, nullable=False),
    Column("model_technique", String(500), nullable=False, default=""),
    Column("provider", String(500), nullable=False, default=""),
    Column("vendor", String(500), nullable=False, default=""),
    Column("sourcing", String(40), nullable=False),
    Column("scope_exemption", String(40), nullable=False),
    Column("scope_justification", Text, nullable=False, default=""),
    Column("military_use", Boolean, nullable=False, default=False),
    Column("autonomy_in_critical_functions", Boolean, nullable=False, default=False),
    Column("risks_and_safeguards", Text, nullable=False, default=""),
    Column("contact_point", String(500), nullable=False, default=""),
    Column("contest_information", Text, nullable=False, default=""),
    Column("interaction_notice", Text, nullable=False, default=""),
    Column("lifecycle_stage", String(40), nullable=False),
    Column("publication_state", String(20), nullable=False),
    Column("risk_level", String(20), nullable=False),
    Column("revision", Integer, nullable=False, default=1),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("published_at", DateTime, nullable=True),
    Column("significant_modification_at", DateTime, nullable=True),
    # Lower-cased name, purpose and organisation name: what public text search reads.
    Column("search_text", Text, nullable=False, default=""),
    Index("ix_ai_systems_org_updated", "organisation_id", "updated_at"),
    Index("ix_ai_systems_pub_updated", "publication_state", "updated_at"),
    Index("ix_ai_systems_pub_sector", "publication_state", "sector", "lifecycle_stage"),
    sqlite_autoincrement=True,
)

system_revisions = Table(
    "system_revisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("system_id", BigId, ForeignKey("ai_systems.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor_id", BigId, nullable=True),
    Column("actor", String(320), nullable=False),
    Column("snapshot", JSON, nullable=False),
    Column("changed", JSON, nullable=False),
    Column("significant", Boolean, nullable=False, default=False),
    Column("significant_reason", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    UniqueConstraint("system_id", "number", name="uq_system_revisions_system_number"),
    sqlite_autoincrement=True,
)

lifecycle_transitions = Table(
    "lifecycle_transitions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("system_id", BigId, ForeignKey("ai_systems.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor_id", BigId, nullable=True),
    Column("actor", String(320), nullable=False),
    Column("from_stage", String(40), nullable=True),
    Column("to_stage", String(40), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Index("ix_lifecycle_transitions_system_id", "system_id"),
    sqlite_autoincrement=True,
)


# Single-use, expiring set-password links (an invitation, or a reset by a
# platform administrator); only the sha256 of the token is stored.
password_links = Table(
    "password_links",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("purpose", String(20), nullable=False),
    Column(
        "organisation_id",
        BigId,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("created_by", String(320), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("used_at", DateTime, nullable=True),
    Index("ix_password_links_user", "user_id"),
    sqlite_autoincrement=True,
)

# Failed sign-ins per address (sha256 of the normalised address, known account
# or not): each failure beyond a few pushes ``not_before`` further out.
sign_in_throttle = Table(
    "sign_in_throttle",
    metadata,
    Column("email_hash", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("not_before", DateTime, nullable=True),
    Column("updated_at", DateTime, nullable=False),
)

"""Organisations, jurisdiction, users, memberships, sessions, API tokens, set-password links
and the sign-in throttle."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
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

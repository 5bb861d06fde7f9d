"""hardening: invitation links, sign-in throttle, ledger MACs, ids never reused

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 18:20:00

- ``users.claimed``: an account created by an invitation stays unclaimed until
  its owner sets a password through the single-use link (no inviter ever
  holds a credential).
- ``password_links``: single-use, expiring set-password links (only the
  sha256 of the token is stored).
- ``sign_in_throttle``: failed sign-ins slow down per address (known or not)
  instead of locking the account.
- ``ledger_entries.mac`` / ``ledger_head.mac``: HMAC under the installation
  key, which lives outside the database.
- ``case_messages.organisation_id``: on whose behalf a note or message was
  written (the case's organisation or the oversight body it was escalated
  to), so the person is told who wrote; filled in for earlier messages from
  the author's membership.
- SQLite: every table with an integer id becomes AUTOINCREMENT, so the id of
  a deleted record is never handed out again (PostgreSQL's sequences already
  never reuse one). The sequence starts above the highest id the ledger has
  ever named for that kind of record, so ids deleted before this migration
  are not reused either.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Tables whose integer id is exposed (in URLs, the API and the ledger), with the
# ledger's entity type for each where it has one.
ID_TABLES: dict[str, str | None] = {
    "organisations": "organisation",
    "users": "user",
    "api_tokens": "api_token",
    "ai_systems": "ai_system",
    "system_revisions": None,
    "lifecycle_transitions": None,
    "ledger_entries": None,
    "assessments": "assessment",
    "assessment_comments": None,
    "red_line_decisions": None,
    "evidence_files": None,
    "cases": "case",
    "case_messages": None,
    "case_attachments": None,
    "incidents": "incident",
    "audit_runs": "audit_run",
    "findings": "finding",
    "outbox": None,
    "password_links": None,
}

_SQLITE_FTS_TRIGGERS = [
    "CREATE TRIGGER ai_systems_fts_ai AFTER INSERT ON ai_systems BEGIN "
    "INSERT INTO ai_systems_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER ai_systems_fts_ad AFTER DELETE ON ai_systems BEGIN "
    "INSERT INTO ai_systems_fts(ai_systems_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER ai_systems_fts_au AFTER UPDATE OF search_text ON ai_systems BEGIN "
    "INSERT INTO ai_systems_fts(ai_systems_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO ai_systems_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("claimed", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.create_table(
        "password_links",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("organisation_id", BigId, nullable=True),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_password_links_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_links_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_password_links_user", "password_links", ["user_id"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email_hash", name=op.f("pk_sign_in_throttle")),
    )
    op.add_column("ledger_entries", sa.Column("mac", sa.String(length=64), nullable=True))
    op.add_column("ledger_head", sa.Column("mac", sa.String(length=64), nullable=True))
    op.add_column("case_messages", sa.Column("organisation_id", BigId, nullable=True))
    _case_message_senders()
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_autoincrement(True)
    else:
        _postgres_sequences_above_ledger()


def _case_message_senders() -> None:
    """Earlier messages: written for the case's organisation if the author is a member
    of it, else for the overseeing body of the organisation the author is a member of."""
    op.execute(
        "UPDATE case_messages SET organisation_id = (SELECT MIN(c.organisation_id) "
        "FROM cases c JOIN memberships m ON m.organisation_id = c.organisation_id "
        "JOIN users u ON u.id = m.user_id WHERE c.id = case_messages.case_id "
        "AND lower(u.email) = lower(case_messages.author)) "
        "WHERE author <> 'reporter'"
    )
    op.execute(
        "UPDATE case_messages SET organisation_id = (SELECT MIN(j.oversight_id) "
        "FROM cases c JOIN jurisdictions j ON j.organisation_id = c.organisation_id "
        "JOIN memberships m ON m.organisation_id = j.oversight_id "
        "JOIN users u ON u.id = m.user_id WHERE c.id = case_messages.case_id "
        "AND lower(u.email) = lower(case_messages.author)) "
        "WHERE author <> 'reporter' AND organisation_id IS NULL"
    )


def _highest_id_ever(table: str, entity_type: str | None) -> int:
    """The highest id the table holds or the ledger has ever named for it."""
    bind = op.get_bind()
    most: sa.Select[Any] = sa.select(sa.func.coalesce(sa.func.max(sa.column("id")), 0)).select_from(
        sa.table(table)
    )
    highest: int = int(bind.execute(most).scalar_one() or 0)
    if entity_type is not None:
        named = bind.execute(
            sa.text("SELECT entity_id FROM ledger_entries WHERE entity_type = :t").bindparams(
                t=entity_type
            )
        ).scalars()
        for value in named:
            text = str(value)
            if text.isascii() and text.isdigit() and len(text) < 19:
                highest = max(highest, int(text))
    return highest


def _postgres_sequences_above_ledger() -> None:
    bind = op.get_bind()
    for table, entity_type in ID_TABLES.items():
        if entity_type is None:
            continue  # the sequence is already above every id the table ever held
        highest = _highest_id_ever(table, entity_type)
        if highest:
            # never lower a sequence: ids it handed out may have been deleted unrecorded
            bind.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence(:t, 'id'), GREATEST(:h, "
                    "(SELECT COALESCE(last_value, 0) FROM pg_sequences "
                    "WHERE schemaname = current_schema() AND sequencename = :s)))"
                ).bindparams(t=table, h=highest, s=f"{table}_id_seq")
            )


def _sqlite_autoincrement(on: bool) -> None:
    """Rebuild each id table with (or without) AUTOINCREMENT.

    Runs with foreign keys off (``migrate.upgrade`` turns them off around the
    migration on SQLite): dropping the old copy of a parent table must not
    cascade into its children.
    """
    bind = op.get_bind()
    for table, entity_type in ID_TABLES.items():
        if table == "password_links":
            continue  # created with AUTOINCREMENT above
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": on}
        ):
            pass
        if not on:
            continue
        highest = _highest_id_ever(table, entity_type)
        if highest:
            bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = :n").bindparams(n=table))
            bind.execute(
                sa.text("INSERT INTO sqlite_sequence(name, seq) VALUES (:n, :s)").bindparams(
                    n=table, s=highest
                )
            )
    # The rebuild of ai_systems dropped the triggers that keep its text index.
    for name in ("ai_systems_fts_ai", "ai_systems_fts_ad", "ai_systems_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for stmt in _SQLITE_FTS_TRIGGERS:
        op.execute(stmt)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_autoincrement(False)
    with op.batch_alter_table("case_messages") as batch_op:
        batch_op.drop_column("organisation_id")
    op.drop_column("ledger_head", "mac")
    op.drop_column("ledger_entries", "mac")
    op.drop_table("sign_in_throttle")
    op.drop_index("ix_password_links_user", table_name="password_links")
    op.drop_table("password_links")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("claimed")

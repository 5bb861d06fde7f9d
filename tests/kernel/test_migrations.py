"""Migrations on an empty database: upgrade -> downgrade -> upgrade, then real use.

Each test makes its own database (a new SQLite file, or a new PostgreSQL
database on 127.0.0.1 dropped afterwards), so nothing is shared with the
migrated databases of the other tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from ombud.bootstrap import Container, bootstrap
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.kernel.db.metadata import metadata
from ombud.kernel.ledger.tables import ledger_head
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState
from ombud.register.ports import SystemFilter
from tests.conftest import PASSWORD, PG_ADMIN_URL, make_settings
from tests.factories import complete_details

# What the migration adds beyond tables.py: the text-search index of each database.
SEARCH_INDEX_OBJECTS = ("ai_systems_fts", "ix_ai_systems_search_trgm")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"ombud_mig_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def fresh(empty_database_url: str, tmp_path: Path) -> Iterator[Container]:
    c = bootstrap(make_settings(empty_database_url, tmp_path), fast_password_hashing=True)
    yield c
    c.close()


def _tables(c: Container) -> set[str]:
    return set(inspect(c.engines.write).get_table_names())


def test_upgrade_downgrade_upgrade_leaves_a_working_register(fresh):
    assert fresh.migrations.current() is None
    assert _tables(fresh) == set()

    fresh.migrations.upgrade()
    assert fresh.migrations.current() == fresh.migrations.head()
    assert {"ai_systems", "ledger_entries", "ledger_head", "users"} <= _tables(fresh)
    assert fresh.ledger.verify().ok

    fresh.migrations.downgrade("base")
    assert fresh.migrations.current() is None
    assert _tables(fresh) == {"alembic_version"}

    fresh.migrations.upgrade()
    assert fresh.migrations.current() == fresh.migrations.head()

    # The database works: accounts, the register, the ledger and public text search.
    acc = fresh.accounts
    org = acc.create_organisation(
        SYSTEM_PRINCIPAL, "Municipality of Östervik", OrganisationKind.PUBLIC_AUTHORITY
    )
    acc.create_user(SYSTEM_PRINCIPAL, "admin@ostervik.example", PASSWORD)
    acc.set_role(SYSTEM_PRINCIPAL, org.id, "admin@ostervik.example", Role.ADMIN)
    admin = acc.principal_for_email("admin@ostervik.example")
    reg = fresh.register
    details = complete_details(
        "Snow clearance route optimiser", purpose="Plans snow clearance routes each night."
    )
    published = reg.create(admin, org.id, details, LifecycleStage.DEVELOPMENT)
    reg.set_publication(admin, published.id, PublicationState.PUBLISHED)
    draft = reg.create(admin, org.id, complete_details("Snow clearance complaints sorter"))

    def found(text: str) -> set[int]:
        page = fresh.public_register.search(SystemFilter(text=text), limit=50)
        return {i.system.id for i in page.items}

    assert found("clearance") == {published.id}
    assert found("learanc") == {published.id}  # trigram: part of a word
    assert found("ROUTE optimiser") == {published.id}
    assert found("östervik") == {published.id}  # the organisation's name is searched too
    assert found("clearance banana") == set()
    assert draft.id not in found("complaints sorter")

    reg.update(admin, published.id, complete_details("Winter road planner", purpose="Plans."))
    assert found("clearance") == set()
    assert found("winter road") == {published.id}
    assert fresh.ledger.verify().ok


def test_migrations_create_exactly_the_tables_the_code_uses(fresh):
    fresh.migrations.upgrade()
    with fresh.engines.write.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = [
            d
            for d in compare_metadata(ctx, metadata)
            if not any(name in str(d) for name in SEARCH_INDEX_OBJECTS)
        ]
    assert differences == []


def test_a_second_upgrade_is_harmless(fresh):
    fresh.migrations.upgrade()
    fresh.migrations.upgrade()
    assert fresh.migrations.current() == fresh.migrations.head()
    with fresh.engines.write.connect() as conn:
        assert [tuple(r)[:3] for r in conn.execute(select(ledger_head))] == [(1, 0, "0" * 64)]


def test_ids_of_deleted_records_are_never_reused(fresh):
    """A deleted system's id is not handed to the next one: the ledger keeps one
    history per id (SQLite AUTOINCREMENT; PostgreSQL sequences)."""
    fresh.migrations.upgrade()
    root = SYSTEM_PRINCIPAL
    org = fresh.accounts.create_organisation(root, "City", OrganisationKind.PUBLIC_AUTHORITY)
    fresh.accounts.create_user(root, "a@example.org", PASSWORD)
    fresh.accounts.set_role(root, org.id, "a@example.org", Role.ADMIN)
    admin = fresh.accounts.principal_for_email("a@example.org")
    first = fresh.register.create(admin, org.id, complete_details("First"))
    fresh.register.delete(admin, first.id)
    second = fresh.register.create(admin, org.id, complete_details("Second"))
    assert second.id > first.id


def test_upgrade_keeps_ids_deleted_before_it_retired(fresh):
    """An id freed before ids were protected is not reused after the upgrade: the
    sequence starts above the highest id the ledger has named."""
    from sqlalchemy import text

    fresh.migrations.upgrade("0006")
    with fresh.engines.write.begin() as conn:  # system 7 was created and deleted back then
        conn.execute(
            text(
                "INSERT INTO ledger_entries (seq, at, actor, action, entity_type, entity_id, "
                "prev_hash, hash) VALUES (1, '2026-01-01', 'a', 'delete', 'ai_system', '7', "
                ":z, :z)"
            ),
            {"z": "0" * 64},
        )
        conn.execute(text("UPDATE ledger_head SET seq = 1"))
    fresh.migrations.upgrade()
    root = SYSTEM_PRINCIPAL
    org = fresh.accounts.create_organisation(root, "City", OrganisationKind.PUBLIC_AUTHORITY)
    fresh.accounts.create_user(root, "a@example.org", PASSWORD)
    fresh.accounts.set_role(root, org.id, "a@example.org", Role.ADMIN)
    admin = fresh.accounts.principal_for_email("a@example.org")
    after = fresh.register.create(admin, org.id, complete_details("After"))
    assert after.id > 7


def test_upgrade_names_who_wrote_earlier_case_messages(fresh):
    """Messages from before ``case_messages.organisation_id`` get the organisation
    their author wrote for: the case's own, or the oversight body it was escalated to."""
    from sqlalchemy import text

    from ombud.remedies.domain import CaseKind, CaseState, Category, PublicReport

    fresh.migrations.upgrade()
    root = SYSTEM_PRINCIPAL
    city = fresh.accounts.create_organisation(root, "City", OrganisationKind.PUBLIC_AUTHORITY)
    body = fresh.accounts.create_organisation(root, "Authority", OrganisationKind.OVERSIGHT_BODY)
    fresh.accounts.grant_jurisdiction(root, body.slug, city.slug)
    for email, org in (("h@example.org", city), ("o@example.org", body)):
        fresh.accounts.create_user(root, email, PASSWORD)
        fresh.accounts.set_role(root, org.id, email, Role.ADMIN)
    handler = fresh.accounts.principal_for_email("h@example.org")
    officer = fresh.accounts.principal_for_email("o@example.org")
    system = fresh.register.create(handler, city.id, complete_details("Chatbot"))
    fresh.register.set_publication(handler, system.id, PublicationState.PUBLISHED)
    receipt = fresh.remedies.submit(
        PublicReport(system.id, CaseKind.COMPLAINT, Category.PRIVACY, "Shared my data.")
    )
    fresh.remedies.add_information(receipt.tracking_code, receipt.secret, "More.")
    case_id = fresh.remedies.cases(handler).items[0].id
    fresh.remedies.move(handler, case_id, CaseState.ESCALATED, "Passed on.")
    fresh.remedies.note(officer, case_id, "Looking into it.", internal=False)

    fresh.migrations.downgrade("0006")  # the column goes, the messages stay
    fresh.migrations.upgrade()
    with fresh.engines.write.connect() as conn:
        rows = conn.execute(
            text("SELECT author, organisation_id FROM case_messages ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("reporter", None),
        ("h@example.org", city.id),
        ("o@example.org", body.id),
    ]
    senders = [
        m["from"] for m in fresh.remedies.follow(receipt.tracking_code, receipt.secret)["messages"]
    ]
    assert senders == ["you", "City", "Authority (oversight body)"]

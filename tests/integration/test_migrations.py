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

from ombud.adapters.db.tables import ledger_head, metadata
from ombud.bootstrap import Container, bootstrap
from ombud.domain.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.domain.lifecycle import LifecycleStage
from ombud.domain.ports import SystemFilter
from ombud.domain.systems import PublicationState
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
        assert [tuple(r) for r in conn.execute(select(ledger_head))] == [(1, 0, "0" * 64)]

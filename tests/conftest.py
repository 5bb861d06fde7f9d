"""Shared fixtures: the same tests run on SQLite and on PostgreSQL.

``container`` is parametrised over both databases. PostgreSQL tests create
their own database on 127.0.0.1:5432 (one per xdist worker), migrate it once
and empty it between tests; SQLite tests copy a migrated template file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from ombud.api import create_api
from ombud.bootstrap import Container, bootstrap
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Principal, Role
from ombud.kernel.config import Environment, Settings
from ombud.kernel.db.metadata import metadata
from ombud.kernel.module import import_tables
from ombud.kernel.web.deps import RateLimits
from ombud.modules import MODULES

# Two xdist workers share two cores with PostgreSQL and Chromium: input
# generation can be slow under that load, which says nothing about the code.
settings.register_profile("ombud", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ombud")

PG_ADMIN_URL = os.environ.get("OMBUD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TEST_SECRET = "test-secret-" + "x" * 40
PASSWORD = "correct horse battery"

# Every area's tables (from the modules ombud is made of), emptied between tests; the
# ledger head is reset instead (TRUNCATE ... CASCADE takes care of foreign keys).
import_tables(MODULES)
_TABLES = tuple(t.name for t in reversed(metadata.sorted_tables) if t.name != "ledger_head")


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": Environment.TEST,
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "cookie_secure": False,
        "public_rate_limit": "off",
        "login_rate_limit": "off",
        "public_min_fill_seconds": 0,
        "audit_workers": 0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite database to copy for each test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "ombud.db"
    c = bootstrap(make_settings(f"sqlite:///{path}", path.parent), fast_password_hashing=True)
    c.migrations.upgrade()
    c.close()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of our own on the local PostgreSQL, dropped at the end."""
    name = f"ombud_t_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - make test starts it
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    c = bootstrap(make_settings(url, Path("/tmp")), fast_password_hashing=True)
    c.migrations.upgrade()
    c.close()
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _empty_pg(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE " + ", ".join(_TABLES) + " RESTART IDENTITY CASCADE")
        conn.execute("UPDATE ledger_head SET seq = 0, hash = %s WHERE id = 1", ("0" * 64,))


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "ombud.db"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = bootstrap(settings, fast_password_hashing=True)
    yield c
    c.close()


class World:
    """A small world of organisations and people, one per role, for tests."""

    def __init__(self, c: Container) -> None:
        self.c = c
        root = SYSTEM_PRINCIPAL
        acc = c.accounts
        self.city = acc.create_organisation(
            root, "City of Lindholm", OrganisationKind.PUBLIC_AUTHORITY
        )
        self.agency = acc.create_organisation(
            root, "National Welfare Agency", OrganisationKind.PUBLIC_AUTHORITY
        )
        self.oversight = acc.create_organisation(
            root, "AI Supervisory Authority", OrganisationKind.OVERSIGHT_BODY
        )
        self.parliament = acc.create_organisation(
            root, "Committee on Digital Affairs", OrganisationKind.PARLIAMENT
        )
        acc.grant_jurisdiction(root, self.oversight.slug, self.city.slug)
        self.users: dict[str, Principal] = {}
        for org, prefix in ((self.city, "city"), (self.agency, "agency")):
            for role in Role:
                self.add_user(f"{prefix}-{role.value}@example.org", org.id, role)
        self.add_user("oversight-viewer@example.org", self.oversight.id, Role.VIEWER)
        self.add_user("oversight-admin@example.org", self.oversight.id, Role.ADMIN)
        self.add_user("parliament-viewer@example.org", self.parliament.id, Role.VIEWER)

    def add_user(self, email: str, org_id: int, role: Role) -> Principal:
        user = self.c.accounts.create_user(SYSTEM_PRINCIPAL, email, PASSWORD, email.split("@")[0])
        self.c.accounts.set_role(SYSTEM_PRINCIPAL, org_id, email, role)
        principal = self.c.accounts.principal_for_user(user.id)
        self.users[email] = principal
        return principal

    def __getitem__(self, email: str) -> Principal:
        return self.users[email]


@pytest.fixture
def world(container: Container) -> World:
    return World(container)


# -- web: the full app and the API sub-app over the parametrised container ------------


@pytest.fixture
def api(container: Container) -> Iterator[TestClient]:
    """The JSON API v1 on its own; paths without the /api/v1 prefix."""
    with TestClient(create_api(container, RateLimits()), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def as_user(container: Container, world: World) -> Callable[[str], dict[str, str]]:
    """Authorization headers with a fresh personal API token of a world user."""

    def headers(email: str) -> dict[str, str]:
        token = container.accounts.create_token(world[email], "tests").token
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def app_client(container: Container) -> Iterator[TestClient]:
    """The whole web app (pages, public register, API under /api/v1)."""
    from ombud.app import create_app

    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        yield client

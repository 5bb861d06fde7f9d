"""Web fixtures: the full app and the API sub-app over the parametrised container."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from ombud.bootstrap import Container
from ombud.web.api.v1 import create_api
from ombud.web.deps import RateLimits
from tests.conftest import World


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
    from ombud.web.app import create_app

    with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
        yield client

"""The JSON API v1, a FastAPI sub-application mounted at /api/v1.

Every route is a thin call to a service on the container: the services check
roles, validate, and write each change with its ledger entry in one transaction.
Errors take one shape, {"error": {"code", "message", "fields"}} (web/errors.py).
"""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute

from ombud.bootstrap import Container
from ombud.kernel.module import load
from ombud.kernel.web.api import bearer_scheme, errors
from ombud.kernel.web.deps import RateLimits, refuse_control_characters
from ombud.kernel.web.errors import install_api_handlers
from ombud.modules import MODULES

DESCRIPTION = """\
The AI-system register of ombud as JSON: record AI systems, move them through
their lifecycle (gates cite the provisions of the Council of Europe Framework
Convention on AI, e.g. coe-fc:14.2.b), publish them to the public register
(coe-fc:8), flag significant modifications (coe-fc:16.2.g) and read the
hash-chained audit ledger (coe-fc:26).

Authenticate with a personal API token: `Authorization: Bearer ombud_...`
(POST /auth/token). `/lifecycle` and `/public/...` need no token.

Errors: `{"error": {"code": ..., "message": ..., "fields": [{"loc": [...], "msg": ...}]}}`.
Lists: `{"items", "total", "offset", "limit", "next_offset"}`. Times: ISO 8601, UTC, "Z".
"""


def _operation_id(route: APIRoute) -> str:
    # The handler's name: stable, readable ids for generated clients.
    return route.name


def create_api(container: Container, rate_limits: RateLimits) -> FastAPI:
    """The API app; ``rate_limits`` is shared with the pages (one count per address)."""
    api = FastAPI(
        title="ombud API",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=_operation_id,
        # No NUL or other control characters in any path, query or body text: 422.
        dependencies=[Depends(refuse_control_characters)],
    )
    api.state.container = container
    api.state.rate_limits = rate_limits
    install_api_handlers(api)

    # Routes are matched in order: the public intake first, as it takes the heaviest
    # traffic (every route before it is tried on every report).
    routes = [r for m in MODULES for r in m.api]
    for r in (r for r in routes if r.first):
        api.include_router(load(r.router))
    # Routers behind a token: the bearer scheme documents it, ApiPrincipal enforces it.
    token = [Depends(bearer_scheme)]
    for r in (r for r in routes if not r.first and r.access == "token"):
        api.include_router(load(r.router), dependencies=token, responses=errors(401, 403, 422))
    for r in (r for r in routes if not r.first and r.access != "token"):
        api.include_router(load(r.router), responses=errors(*r.responses))
    return api


__all__ = ["create_api"]

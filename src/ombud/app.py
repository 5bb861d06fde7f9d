"""The ASGI application: pages, the public register and the JSON API v1."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from ombud import __version__
from ombud.api import create_api
from ombud.bootstrap import Container, bootstrap
from ombud.kernel.module import load
from ombud.kernel.web import home
from ombud.kernel.web.background import Periodic, lifespan_with
from ombud.kernel.web.deps import (
    RateLimits,
    bound_path_ids,
    csrf_protect,
    refuse_control_characters,
)
from ombud.kernel.web.errors import (
    UnhandledErrorMiddleware,
    install_page_handlers,
    unexpected_page_error,
)
from ombud.kernel.web.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from ombud.kernel.web.templating import install_area_templates
from ombud.modules import MODULES

# Audit data may be large: these paths get their own body limit.
AUDIT_UPLOAD_PATH = re.compile(r"^(/api/v1)?/systems/\d+/audits(/upload)?$")

STATIC = Path(__file__).parent / "kernel" / "web" / "static"


def create_app(container: Container | None = None) -> FastAPI:
    """Build the app; without a container, wire one from the OMBUD_* settings."""
    container = container or bootstrap()
    container.settings.check_safe()
    logging.basicConfig(level=logging.INFO)
    c = container

    def jobs() -> list[Periodic]:
        found = []
        if c.notifications.enabled:
            found.append(
                Periodic("mail", c.notifications.send_pending, c.settings.mail_interval_seconds)
            )
        found += [
            Periodic(f"audits-{n}", c.audit_runs.run_pending, 1.0)
            for n in range(c.settings.audit_workers)
        ]
        if c.settings.ledger_checkpoint_seconds:  # signed heads outside the database
            found.append(
                Periodic(
                    "ledger-checkpoint",
                    c.ledger.checkpoint_if_moved,
                    c.settings.ledger_checkpoint_seconds,
                )
            )
        return found

    app = FastAPI(
        title="ombud",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        debug=False,
        lifespan=lifespan_with(jobs),
        # Every page: no control characters in what was sent, no id beyond 64 bits.
        dependencies=[Depends(refuse_control_characters), Depends(bound_path_ids)],
    )
    app.state.container = container
    app.state.rate_limits = RateLimits()
    install_page_handlers(app)
    install_area_templates(MODULES)

    # The API first: routes are matched in order, and the public intake takes the most
    # requests (behind the page routes, each report was matched against all of them).
    api = create_api(container, app.state.rate_limits)
    app.mount("/api/v1", api)

    csrf = [Depends(csrf_protect)]
    app.include_router(home.router)
    for m in MODULES:
        for path in m.pages:
            app.include_router(load(path), dependencies=csrf)
        for path in m.open_pages:
            app.include_router(load(path))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # The last added runs first: security headers wrap every answer, the 413 and the
    # 500 included; an unexpected error ends inside and keeps the connection.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=container.settings.max_body_bytes,
        overrides=[(AUDIT_UPLOAD_PATH, container.settings.audit_upload_max_bytes)],
    )
    app.add_middleware(UnhandledErrorMiddleware, respond=unexpected_page_error)
    app.add_middleware(SecurityHeadersMiddleware, hsts=container.settings.secure_cookies)
    return app

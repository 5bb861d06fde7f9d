"""FastAPI dependencies: the container, who is signed in, CSRF, rate limits and the
checks every request's text passes."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ombud.accounts.service import SessionInfo
from ombud.bootstrap import Container
from ombud.kernel.access import Principal
from ombud.kernel.errors import (
    FieldProblem,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from ombud.kernel.safe_load import ID_MAX, text_problem, text_problems
from ombud.kernel.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    anonymous_csrf_token,
    tokens_match,
)


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def session_info(request: Request, c: ContainerDep) -> SessionInfo | None:
    """The signed-in session, or None. Cached on the request for the page's lifetime."""
    if hasattr(request.state, "session_info"):
        cached: SessionInfo | None = request.state.session_info
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    info: SessionInfo | None = None
    request.state.session_error = None
    if token:
        try:
            info = c.accounts.session(token)
        except Unauthenticated as exc:
            request.state.session_error = exc.message
    request.state.session_info = info
    return info


OptionalSession = Annotated[SessionInfo | None, Depends(session_info)]


class LoginRequired(Exception):
    """Raised by page dependencies; the page error handler redirects to sign-in."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def require_session(request: Request, info: OptionalSession) -> SessionInfo:
    if info is None:
        raise LoginRequired(
            getattr(request.state, "session_error", None) or "Please sign in to continue."
        )
    return info


SessionDep = Annotated[SessionInfo, Depends(require_session)]


def page_principal(info: SessionDep) -> Principal:
    return info.principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def expected_csrf(request: Request, c: Container, info: SessionInfo | None) -> str:
    if info is not None:
        return info.csrf_token
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return anonymous_csrf_token(c.settings.resolved_secret_key(), cookie) if cookie else ""


async def csrf_protect(request: Request, c: ContainerDep, info: OptionalSession) -> None:
    """Every unsafe request to a page must carry the form's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    given = request.headers.get(CSRF_HEADER, "")
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD, "")
            given = value if isinstance(value, str) else ""
    if not tokens_match(expected_csrf(request, c, info), given):
        if info is None and getattr(request.state, "session_error", None):
            raise LoginRequired(request.state.session_error)
        raise Forbidden(
            "The form's security token is missing or out of date (CSRF check). "
            "Reload the page and submit it again; nothing was changed."
        )


class RateLimits:
    """In-process moving-window limits per client address (the `limits` library)."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, rule: str, scope: str, key: str) -> None:
        if rule == "off":
            return
        item: RateLimitItem = parse(rule)
        if not self._limiter.hit(item, scope, key):
            reset = self._limiter.get_window_stats(item, scope, key).reset_time
            raise TooManyRequests(
                f"Too many requests from your address (limit {rule}); wait a little and retry.",
                retry_after=math.ceil(reset - time.time()),
            )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def api_principal(request: Request, c: ContainerDep) -> Principal:
    """Bearer-token authentication for /api/v1."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "Send a personal API token as 'Authorization: Bearer ombud_...' "
            "(create one under Account > API tokens)."
        )
    return c.accounts.principal_for_token(token.strip())


ApiPrincipal = Annotated[Principal, Depends(api_principal)]


# -- what every request's text passes ---------------------------------------------


def _located(problems: list[FieldProblem]) -> Invalid:
    first = problems[0]
    where = ".".join(str(p) for p in first.loc[1:]) or str(first.loc[0])
    return Invalid(f"Invalid input in {where}: {first.message}", problems)


async def refuse_control_characters(request: Request) -> None:
    """Refuse NUL and other control characters (ombud.kernel.safe_load.text_problem) in the
    path, the query string, form fields and JSON bodies, naming the field: one check
    for every page and API route, before any handler or service sees the text."""
    problems: list[FieldProblem] = []
    for name, value in request.path_params.items():
        if isinstance(value, str) and (bad := text_problem(value)):
            problems.append(FieldProblem(("path", name), bad))
    for name, value in request.query_params.multi_items():
        if bad := text_problem(name) or text_problem(value):
            problems.append(FieldProblem(("query", name), bad))
    content_type = request.headers.get("content-type", "")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            for name, item in form.multi_items():
                # A file's content is checked by type, its name cleaned where it is kept.
                if isinstance(item, str) and (bad := text_problem(name) or text_problem(item)):
                    problems.append(FieldProblem(("body", name), bad))
        elif "json" in content_type:
            body = await _json_body(request)
            problems.extend(text_problems(body, ("body",)))
    if problems:
        raise _located(problems)


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()  # parsed (and kept) by FastAPI before this runs
    except ValueError:
        return None  # the route's own parsing reports malformed JSON


def bound_path_ids(request: Request) -> None:
    """A page address with a number larger than any id (64 bits) names nothing: 404,
    rather than an overflow in the database driver."""
    for value in request.path_params.values():
        if isinstance(value, int) and value > ID_MAX:
            raise NotFound("There is nothing at this address.")
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isdigit()
            and (len(value) > len(str(ID_MAX)) or int(value) > ID_MAX)
        ):
            raise NotFound("There is nothing at this address.")

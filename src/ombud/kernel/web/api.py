"""What the API routers share: paging parameters, the bearer scheme, error responses
and rate limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPBearer

from ombud.kernel.safe_load import ID_MAX
from ombud.kernel.service import MAX_PAGE_SIZE
from ombud.kernel.web.deps import RateLimits, client_address
from ombud.kernel.web.schemas import ORG_REF_PATTERN, ErrorOut

T = TypeVar("T")

# Documents the bearer scheme in the OpenAPI document; deps.api_principal does the
# actual authentication (and refuses a missing or bad token with 401).
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="PersonalToken",
    description="A personal API token: 'Authorization: Bearer ombud_...' "
    "(POST /auth/token or Account > API tokens).",
)


# Path and query parameters naming a record: bounded like the database columns.
PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
PathOrgRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=ORG_REF_PATTERN,
        description="The organisation's id or short name (slug).",
    ),
]
QueryId = Annotated[int | None, Query(ge=1, le=ID_MAX)]

Responses = dict[int | str, dict[str, Any]]

_ERRORS = {
    401: "Missing, unknown, revoked or expired API token.",
    403: "Your role does not allow this.",
    404: "Not found, or not visible to you.",
    409: "Conflicts with the current state of the record.",
    422: "Invalid input; `fields` names each field that is wrong.",
    429: "Too many requests from your address.",
}


def errors(*codes: int) -> Responses:
    """OpenAPI entries for error responses, all with the one error body."""
    return {code: {"model": ErrorOut, "description": _ERRORS[code]} for code in codes}


@dataclass(frozen=True)
class Paging:
    offset: int
    limit: int


def paging(
    offset: Annotated[int, Query(ge=0, le=ID_MAX, description="Items to skip.")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page (1-{MAX_PAGE_SIZE}).")
    ] = 20,
) -> Paging:
    return Paging(offset, limit)


PagingDep = Annotated[Paging, Depends(paging)]


def window(items: Sequence[T], paging: Paging) -> list[T]:
    """One page of a list a service returns whole (short lists: tokens, members, history)."""
    return list(items[paging.offset : paging.offset + paging.limit])


def rate_limit(request: Request, rule: str, scope: str) -> None:
    """Count one request from the client's address; 429 (TooManyRequests) over the limit."""
    limits: RateLimits = request.app.state.rate_limits
    limits.hit(rule, scope, client_address(request))

"""Pydantic building blocks every area's API schemas share: UTC instants, record ids,
request models that refuse unknown fields, pages and RFC 9457-style error bodies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ombud.kernel.safe_load import ID_MAX
from ombud.kernel.service import MAX_PAGE_SIZE

T = TypeVar("T")


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
"""A UTC instant, serialised as ISO 8601 ending in "Z"."""


# Ids are BIGINT in the database: a larger number is refused (422) rather than
# reaching the database and failing there (ID_MAX, from safe_load).
RecordId = Annotated[int, Field(ge=1, le=ID_MAX)]


# An organisation by id or short name (slug); all-digit references are ids.
ORG_REF_PATTERN = r"^(?:[0-9]{1,18}|[A-Za-z0-9-]*[A-Za-z-][A-Za-z0-9-]*)$"


OrgRef = Annotated[str, Field(min_length=1, max_length=64, pattern=ORG_REF_PATTERN)]


class DomainOut(BaseModel):
    """A response read straight off a domain dataclass of the same field names."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def from_domain(cls, obj: object) -> Self:
        return cls.model_validate(obj)


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are refused, naming the field."""

    model_config = ConfigDict(extra="forbid")


class PageOut(BaseModel, Generic[T]):
    """One page of a list. ``next_offset`` is null on the last page."""

    items: list[T]
    total: int = Field(description="Number of items matching the filters, over all pages.")
    offset: int
    limit: int = Field(le=MAX_PAGE_SIZE)
    next_offset: int | None = Field(description="Offset of the next page; null on the last one.")

    @classmethod
    def of(cls, items: Sequence[T], total: int, offset: int, limit: int) -> Self:
        nxt = offset + limit if offset + limit < total else None
        return cls(items=list(items), total=total, offset=offset, limit=limit, next_offset=nxt)


class FieldErrorOut(BaseModel):
    loc: list[str | int] = Field(description='Where the problem is, e.g. ["body", "name"].')
    msg: str


class ErrorDetailOut(BaseModel):
    code: str = Field(
        description="invalid, not_found, forbidden, unauthenticated, conflict, rate_limited, ..."
    )
    message: str
    fields: list[FieldErrorOut] | None = None


class ErrorOut(BaseModel):
    """Every error of the API has this shape."""

    error: ErrorDetailOut

"""Ports every area shares: paging and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar


class Clock(Protocol):
    def __call__(self) -> datetime: ...


T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class PageResult(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int
    exact: bool = True  # False when ``total`` is a lower bound (a capped count)

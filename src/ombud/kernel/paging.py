"""Paging: which slice of a list was asked for, and what came back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

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

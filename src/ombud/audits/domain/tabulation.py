"""What the engine counts: confusion matrices per group and grouping, proxy tables,
the data files read and the engine that read them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ombud.audits.domain.metrics import Confusion, Value

# -- what the engine counts ---------------------------------------------------------


@dataclass(frozen=True)
class GroupCounts:
    """Counts of one group: its attribute values (None: NULL), confusion, score statistics."""

    values: tuple[Value, ...]
    confusion: Confusion
    score_sum: float | None = None
    # Positives and negatives per score bin, ascending; None without a score.
    positives: tuple[int, ...] | None = None
    negatives: tuple[int, ...] | None = None


@dataclass(frozen=True)
class GroupingCounts:
    attributes: tuple[str, ...]
    groups: tuple[GroupCounts, ...]


@dataclass(frozen=True)
class ProxyTable:
    """A contingency table: categories of a non-protected column x values of an attribute."""

    column: str
    attribute: str
    method: str  # "categories" or "deciles"
    table: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class DataFile:
    path: str
    bytes: int
    sha256: str | None


@dataclass(frozen=True)
class EngineInfo:
    name: str
    version: str
    libraries: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Tabulation:
    """What an engine hands back after its pass over the data."""

    files: tuple[DataFile, ...]
    format: str
    rows_scanned: int
    overall: GroupCounts
    groupings: tuple[GroupingCounts, ...]
    engine: EngineInfo
    seconds: float = 0.0
    proxies: tuple[ProxyTable, ...] = ()
    score_bins: int | None = None
    score_range: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return self.overall.confusion.n


@dataclass(frozen=True)
class BootstrapInterval:
    difference: tuple[float, float] | None
    ratio: tuple[float, float] | None

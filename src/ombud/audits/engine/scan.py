"""The one pass: a joint confusion histogram over all protected attributes at once.

Every record batch is reduced to one small integer key per row,

    key = ((((a1 * r2 + a2) * r3 + a3) * 2 + label) * 2 + prediction) * B + score_bin

where a1, a2, a3 are the batch's dictionary codes of the attribute values
(r2, r3 their numbers of codes) and B is 1 without a score. One
``numpy.bincount`` of the keys counts every (attribute values, label,
prediction, score bin) cell of the batch; its non-empty cells are mapped to
global codes and added to the joint table. Each single attribute and each
intersection is then a sum over the joint table (a few hundred cells), never
another pass over the data. Memory is bounded by one batch plus the table.

Strings are never materialised: Parquet string columns are read as
dictionaries (codes into the column chunk's dictionary page), and the key is
built in place in a reused buffer of the narrowest unsigned type that holds it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from ombud.audits.domain.metrics import Value
from ombud.audits.engine.arrays import floats, numbers, single, valid
from ombud.kernel.errors import Invalid

DENSE_LIMIT = 1 << 24  # above this many keys per batch, count by sorting instead
MAX_VALUES = 100_000  # distinct values of one protected attribute
MAX_CELLS_SCORE = 16_384  # joint cells when every cell keeps a score histogram
MAX_PROXY_CATEGORIES = 1_000


def _normalise(value: Any) -> Value:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)  # dates, decimals, bytes: named by their text


class Vocabulary:
    """Global codes for the values of one column, shared by every batch."""

    def __init__(self, column: str, limit: int) -> None:
        self.column = column
        self.limit = limit
        self.values: list[Value] = []
        self._index: dict[Value, int] = {}
        self._last: tuple[pa.Array, np.ndarray] | None = None

    def code(self, value: Value) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
        return found

    def map(self, dictionary: pa.Array) -> np.ndarray:
        """Global codes of a batch dictionary's entries, with the NULL code appended."""
        last = self._last
        if last is not None and (last[0] is dictionary or last[0].equals(dictionary)):
            return last[1]
        codes = [self.code(_normalise(v)) for v in dictionary.to_pylist()]
        codes.append(self.code(None))
        mapping = np.asarray(codes, dtype=np.int64)
        self._last = (dictionary, mapping)
        return mapping

    @property
    def overflowing(self) -> bool:
        return len(self.values) > self.limit


def dictionary_codes(array: pa.Array) -> tuple[np.ndarray, int, pa.Array]:
    """(codes as unsigned integers, number of codes incl. NULL's, dictionary) of a column."""
    array = single(array)
    if not pa.types.is_dictionary(array.type):
        array = array.dictionary_encode()  # (pyarrow.compute loads only when needed)
    dictionary = array.dictionary
    size = len(dictionary)
    indices = array.indices
    codes = numbers(indices)
    unsigned = np.dtype(f"u{codes.dtype.itemsize}")
    present = valid(indices)
    if present is not None:  # NULL: the slot after the last
        codes = np.where(present, codes, size).astype(np.int64 if size >= 1 << 31 else np.int32)
        size += 1
        unsigned = np.dtype(f"u{codes.dtype.itemsize}")
    return codes.view(unsigned), max(size, 1), dictionary


def key_dtype(span: int) -> np.dtype[Any]:
    if span <= 1 << 16:
        return np.dtype(np.uint16)
    if span <= 1 << 32:
        return np.dtype(np.uint32)
    return np.dtype(np.uint64)


@dataclass
class JointTable:
    """Counts per joint cell (a tuple of global attribute codes) x ``width`` sub-cells."""

    width: int
    with_sums: bool
    cells: list[tuple[int, ...]] = field(default_factory=list)
    index: dict[tuple[int, ...], int] = field(default_factory=dict)
    counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    sums: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.counts = np.zeros((16, self.width), np.int64)
        self.sums = np.zeros(16)

    def rows(self, cells: Sequence[tuple[int, ...]]) -> np.ndarray:
        found = []
        for cell in cells:
            row = self.index.get(cell)
            if row is None:
                row = self.index[cell] = len(self.cells)
                self.cells.append(cell)
            found.append(row)
        if len(self.cells) > len(self.counts):
            grow = max(len(self.cells), 2 * len(self.counts))
            counts = np.zeros((grow, self.width), np.int64)
            counts[: len(self.counts)] = self.counts
            sums = np.zeros(grow)
            sums[: len(self.sums)] = self.sums
            self.counts, self.sums = counts, sums
        return np.asarray(found, dtype=np.int64)

    def used(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self.cells)
        return self.counts[:n], self.sums[:n]


class Grid:
    """A growing 2-D table of counts (proxy categories x joint cells)."""

    def __init__(self) -> None:
        self.array = np.zeros((8, 16), np.int64)

    def add(self, rows: np.ndarray, cols: np.ndarray, block: np.ndarray) -> None:
        """Add the block at the cross product of rows and cols."""
        self._fit(rows, cols)
        np.add.at(self.array, np.ix_(rows, cols), block)

    def add_points(self, rows: np.ndarray, cols: np.ndarray, counts: np.ndarray) -> None:
        """Add counts[i] at (rows[i], cols[i])."""
        self._fit(rows, cols)
        np.add.at(self.array, (rows, cols), counts)

    def _fit(self, rows: np.ndarray, cols: np.ndarray) -> None:
        need_r = int(rows.max()) + 1 if len(rows) else 0
        need_c = int(cols.max()) + 1 if len(cols) else 0
        r, c = self.array.shape
        if need_r > r or need_c > c:
            grown = np.zeros((max(need_r, 2 * r), max(need_c, 2 * c)), np.int64)
            grown[:r, :c] = self.array
            self.array = grown


def binary(array: pa.Array, column: str, option: str) -> np.ndarray:
    """A 0/1 column as uint8; Invalid naming the column on NULLs or other values."""
    array = single(array)
    if array.null_count:
        raise Invalid(
            f"The {option} column '{column}' has NULL values; "
            f'leave them out with --filter "{column} IS NOT NULL".'
        )
    kind = array.type
    if pa.types.is_boolean(kind):
        return numbers(array).view(np.uint8)
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise Invalid(
            f"The {option} column '{column}' is not binary: it holds {kind}; use 0/1 or true/false."
        )
    values: np.ndarray = numbers(array)
    if pa.types.is_integer(kind):
        unsigned: np.ndarray = values.view(np.dtype(f"u{values.dtype.itemsize}"))
        if unsigned.size and unsigned.max() > 1:
            raise _not_binary(column, option, values[unsigned > 1][0])
        return unsigned if unsigned.dtype == np.uint8 else unsigned.astype(np.uint8)
    odd = (values != 0) & (values != 1)  # floating point: only 0.0 and 1.0
    if odd.any():
        raise _not_binary(column, option, values[odd][0])
    return values.astype(np.uint8)


def _not_binary(column: str, option: str, value: Any) -> Invalid:
    shown = value.item() if hasattr(value, "item") else value
    return Invalid(
        f"The {option} column '{column}' is not binary: it holds {shown!r} "
        "(expected 0/1 or true/false)."
    )


@dataclass
class ProxyColumn:
    """A non-protected column screened as a possible proxy of a protected attribute."""

    name: str
    edges: np.ndarray | None  # decile edges of a numeric column; None: its categories
    vocabulary: Vocabulary | None = None
    grid: Grid = field(default_factory=Grid)
    skipped: str | None = None

    @property
    def method(self) -> str:
        return "categories" if self.edges is None else "deciles"


@dataclass
class ScoreBinning:
    threshold: float
    bins: int
    low: float
    high: float
    seen_low: float = math.inf
    seen_high: float = -math.inf

    def codes(self, score: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
        scaled = np.subtract(score, self.low)
        scaled *= self.bins / (self.high - self.low)
        np.clip(scaled, 0, self.bins - 1, out=scaled)
        codes: np.ndarray = scaled.astype(dtype)
        return codes


class Tabulator:
    """Accumulates the joint table batch by batch (see the module docstring)."""

    def __init__(
        self,
        attributes: Sequence[str],
        label: str,
        prediction: str | None,
        score: str | None,
        binning: ScoreBinning | None,
        proxies: Sequence[ProxyColumn] = (),
    ) -> None:
        self.attributes = list(attributes)
        self.vocabularies = [Vocabulary(a, MAX_VALUES) for a in attributes]
        self.label = label
        self.prediction = prediction
        self.score = score
        self.binning = binning
        self.bins = binning.bins if binning else 1
        self.width = 4 * self.bins
        self.table = JointTable(self.width, with_sums=binning is not None)
        self.proxies = list(proxies)
        # columns counted by their values: read text columns as dictionary codes
        self.categorical = set(attributes) | {p.name for p in proxies if p.edges is None}
        self.rows = 0
        self._buffer = np.empty(0, np.uint16)

    def _key(self, n: int, dtype: np.dtype[Any]) -> np.ndarray:
        if self._buffer.dtype != dtype or len(self._buffer) < n:
            self._buffer = np.empty(max(n, len(self._buffer)), dtype)
        return self._buffer[:n]

    def add(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        if n == 0:
            return
        key, cells, radices, maps, span = self._cell_keys(batch)
        dtype = key.dtype
        cell_key = key.copy() if self.binning or self.proxies else None

        label = binary(batch.column(self.label), self.label, "label")
        score: np.ndarray | None = None
        if self.binning is not None and self.score is not None:
            score = self._score(batch.column(self.score))
            prediction = (score >= self.binning.threshold).view(np.uint8)
        else:
            assert self.prediction is not None
            prediction = binary(batch.column(self.prediction), self.prediction, "prediction")
        np.multiply(key, 2, out=key, casting="unsafe")
        np.add(key, label, out=key, casting="unsafe")
        np.multiply(key, 2, out=key, casting="unsafe")
        np.add(key, prediction, out=key, casting="unsafe")
        if score is not None and self.binning is not None:
            np.multiply(key, self.bins, out=key, casting="unsafe")
            np.add(key, self.binning.codes(score, dtype), out=key, casting="unsafe")

        local, block = _count(key, span, self.width)
        rows = self._rows(local, radices, maps)
        np.add.at(self.table.counts, rows, block)
        if score is not None and cell_key is not None:
            sums = _sums(cell_key, score, cells, local)
            np.add.at(self.table.sums, rows, sums)
        if cell_key is not None:
            for proxy in self.proxies:
                if proxy.skipped is None:
                    self._add_proxy(proxy, batch, cell_key, cells, local, rows)
        self.rows += n

    def add_counts(
        self,
        batch: pa.RecordBatch,
        counts: np.ndarray,
        prediction: str,
        score_bins: np.ndarray | None = None,
        score_sums: np.ndarray | None = None,
    ) -> None:
        """Rows counted elsewhere (by Spark): row i of ``batch`` holds the attribute values,
        the label and, in column ``prediction``, the 0/1 decision of ``counts[i]`` rows,
        in score bin ``score_bins[i]``, whose scores add up to ``score_sums[i]``. The same
        checks and the same joint table as ``add``, so every number downstream is equal."""
        if batch.num_rows == 0:
            return
        key, _cells, radices, maps, _span = self._cell_keys(batch)
        label = binary(batch.column(self.label), self.label, "label")
        decision = binary(batch.column(prediction), prediction, "prediction")
        sub = (label.astype(np.int64) * 2 + decision) * self.bins
        if score_bins is not None:
            sub += score_bins.astype(np.int64)
        local, inverse = np.unique(key.astype(np.int64), return_inverse=True)
        rows = self._rows(local, radices, maps)[inverse.reshape(-1)]
        np.add.at(self.table.counts, (rows, sub), counts.astype(np.int64))
        if score_sums is not None:
            np.add.at(self.table.sums, rows, score_sums)
        self.rows += int(counts.sum())

    def add_proxy_counts(
        self, proxy: ProxyColumn, batch: pa.RecordBatch, column: str, counts: np.ndarray
    ) -> None:
        """Rows counted elsewhere per attribute values and proxy category: ``column`` holds
        the proxy's value (by categories) or its decile bin code (by deciles)."""
        if batch.num_rows == 0 or proxy.skipped is not None:
            return
        key, _cells, radices, maps, _span = self._cell_keys(batch)
        local, inverse = np.unique(key.astype(np.int64), return_inverse=True)
        rows = self._rows(local, radices, maps)[inverse.reshape(-1)]
        array = batch.column(column)
        if proxy.edges is not None:
            categories = numbers(array).astype(np.int64)
        else:
            found = _proxy_codes(proxy, array)
            if found is None:
                return
            raw, _size, mapping = found
            categories = mapping[raw]
        proxy.grid.add_points(categories, rows, counts.astype(np.int64))

    def _cell_keys(
        self, batch: pa.RecordBatch
    ) -> tuple[np.ndarray, int, list[int], list[np.ndarray], int]:
        """(key of each row's joint cell in the batch's own codes, number of such cells,
        radices, maps from batch codes to global codes, span of the full key)."""
        n = batch.num_rows
        codes: list[np.ndarray] = []
        radices: list[int] = []
        maps: list[np.ndarray] = []
        for vocabulary in self.vocabularies:
            c, r, dictionary = dictionary_codes(batch.column(vocabulary.column))
            maps.append(vocabulary.map(dictionary))
            if vocabulary.overflowing:
                raise Invalid(
                    f"The --group column '{vocabulary.column}' has more than {MAX_VALUES} "
                    "distinct values: a protected attribute must be categorical."
                )
            codes.append(c)
            radices.append(r)
        cells = math.prod(radices)
        span = cells * self.width
        if span >= 1 << 63:
            raise Invalid("Too many combinations of --group values to count: use fewer columns.")
        dtype = key_dtype(span)
        key = self._key(n, dtype)
        np.copyto(key, codes[0], casting="unsafe")
        for c, r in zip(codes[1:], radices[1:], strict=True):
            np.multiply(key, r, out=key, casting="unsafe")
            np.add(key, c if c.dtype == dtype else c.astype(dtype), out=key, casting="unsafe")
        return key, cells, radices, maps, span

    def _score(self, array: pa.Array) -> np.ndarray:
        assert self.binning is not None
        assert self.score is not None
        array = single(array)
        if array.null_count:
            raise Invalid(
                f"The score column '{self.score}' has NULL values; "
                f'leave them out with --filter "{self.score} IS NOT NULL".'
            )
        if not (pa.types.is_floating(array.type) or pa.types.is_integer(array.type)):
            raise Invalid(f"The score column '{self.score}' is not numeric: it holds {array.type}.")
        score = numbers(array).astype(np.float64, copy=False)
        low, high = float(score.min()), float(score.max())
        if math.isnan(low) or math.isnan(high):
            raise Invalid(f"The score column '{self.score}' has NaN values.")
        self.binning.seen_low = min(self.binning.seen_low, low)
        self.binning.seen_high = max(self.binning.seen_high, high)
        return score

    def _rows(
        self, local: np.ndarray, radices: Sequence[int], maps: Sequence[np.ndarray]
    ) -> np.ndarray:
        """Rows of the joint table for a batch's non-empty local cells."""
        rest = local
        parts: list[np.ndarray] = []
        for r in reversed(radices):
            parts.append(rest % r)
            rest = rest // r
        parts.reverse()
        global_codes = [m[p].tolist() for m, p in zip(maps, parts, strict=True)]
        rows = self.table.rows(list(zip(*global_codes, strict=True)))
        if self.binning is not None and len(self.table.cells) > MAX_CELLS_SCORE:
            raise Invalid(
                f"More than {MAX_CELLS_SCORE} combinations of --group values: with --score each "
                "keeps a score histogram. Audit fewer or coarser --group columns."
            )
        return rows

    def _add_proxy(
        self,
        proxy: ProxyColumn,
        batch: pa.RecordBatch,
        cell_key: np.ndarray,
        cells: int,
        local: np.ndarray,
        rows: np.ndarray,
    ) -> None:
        array = batch.column(proxy.name)
        if proxy.edges is not None:
            values = floats(array)
            codes = np.searchsorted(proxy.edges, values, side="right")
            size = len(proxy.edges) + 2
            codes[np.isnan(values)] = size - 1  # NULL and NaN: a category of their own
            mapping = np.arange(size)
        else:
            categorised = _proxy_codes(proxy, array)
            if categorised is None:
                return
            codes, size, mapping = categorised
        combined = cell_key.astype(np.int64) * size + codes
        found, block = _count(combined, cells * size, size)  # cells present x categories
        columns = rows[np.searchsorted(local, found)]
        proxy.grid.add(mapping[:size], columns, block.T)

    # -- after the pass -----------------------------------------------------------------

    def cell_codes(self) -> np.ndarray:
        return np.asarray(self.table.cells, dtype=np.int64).reshape(-1, len(self.attributes))

    def marginal(
        self, attributes: Sequence[int]
    ) -> list[tuple[tuple[Value, ...], np.ndarray, float]]:
        """(values, counts of ``width`` sub-cells, score sum) per group of the given attributes."""
        counts, sums = self.table.used()
        codes = self.cell_codes()
        unique, inverse = np.unique(codes[:, list(attributes)], axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        grouped = np.zeros((len(unique), self.width), np.int64)
        np.add.at(grouped, inverse, counts)
        summed = np.bincount(inverse, weights=sums, minlength=len(unique))
        found = []
        for row, combo in enumerate(unique.tolist()):
            values = tuple(
                self.vocabularies[a].values[c] for a, c in zip(attributes, combo, strict=True)
            )
            found.append((values, grouped[row], float(summed[row])))
        return found

    def total(self) -> tuple[np.ndarray, float]:
        counts, sums = self.table.used()
        return counts.sum(axis=0), float(sums.sum())

    def proxy_table(self, proxy: ProxyColumn, attribute: int) -> list[list[int]]:
        codes = self.cell_codes()[:, attribute]
        grid = proxy.grid.array
        ncells = len(self.table.cells)
        if grid.shape[1] < ncells:
            grid = np.pad(grid, ((0, 0), (0, ncells - grid.shape[1])))
        grid = grid[:, :ncells]
        values = len(self.vocabularies[attribute].values)
        out = np.zeros((grid.shape[0], values), np.int64)
        for v in range(values):
            out[:, v] = grid[:, codes == v].sum(axis=1)
        return [list(map(int, row)) for row in out.tolist()]


def _proxy_codes(proxy: ProxyColumn, array: pa.Array) -> tuple[np.ndarray, int, np.ndarray] | None:
    """(batch codes, their number, map to global codes) of a proxy's categories; None,
    with the proxy marked skipped, once it has too many distinct values."""
    assert proxy.vocabulary is not None
    raw, size, dictionary = dictionary_codes(array)
    mapping = proxy.vocabulary.map(dictionary)
    if proxy.vocabulary.overflowing:
        proxy.skipped = f"more than {MAX_PROXY_CATEGORIES} distinct values"
        return None
    return raw.astype(np.int64), size, mapping


def _count(key: np.ndarray, span: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(non-empty local cells, their counts per sub-cell) of keys = cell * width + sub-cell."""
    if span <= DENSE_LIMIT:
        hist = np.bincount(key, minlength=span).reshape(-1, width)
        local = np.flatnonzero(hist.any(axis=1))
        return local, hist[local]
    keys, counts = np.unique(key, return_counts=True)
    cell = keys // width
    local, inverse = np.unique(cell, return_inverse=True)
    block = np.zeros((len(local), width), np.int64)
    np.add.at(block, (inverse.reshape(-1), (keys % width).astype(np.int64)), counts)
    return local.astype(np.int64), block


def _sums(cell_key: np.ndarray, score: np.ndarray, cells: int, local: np.ndarray) -> np.ndarray:
    if cells <= DENSE_LIMIT:
        dense: np.ndarray = np.bincount(cell_key, weights=score, minlength=cells)
        picked: np.ndarray = dense[local]
        return picked
    unique, inverse = np.unique(cell_key, return_inverse=True)
    sums: np.ndarray = np.bincount(inverse.reshape(-1), weights=score)
    found: np.ndarray = sums[np.searchsorted(unique, local)]
    return found

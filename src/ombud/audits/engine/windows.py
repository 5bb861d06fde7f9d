"""The time window of each row, for monitoring (`--window month --time COL`): a text
column added to the batch and counted like one more attribute, in the same pass."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ombud.audits.domain.metrics import WINDOW, WINDOWS
from ombud.audits.engine.arrays import numbers, single, to_arrow, valid


def _time_kind(kind: pa.DataType) -> str | None:
    """How times are read from a column type: "timestamp", "date", "text" (ISO dates,
    YYYY-MM-DD...), or None when they cannot be. Dictionaries are read by their values."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    return None


def readable_times(kind: pa.DataType) -> bool:
    """Whether --time can take a column of this type."""
    return _time_kind(kind) is not None


def timestamps(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Timestamps from timestamp, date or ISO text columns; what cannot be read is NULL."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    how = _time_kind(array.type)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if how == "timestamp":
        return array
    if how == "date":
        return pc.cast(array, pa.timestamp("s"))
    if how == "text":
        day = pc.utf8_slice_codeunits(array, 0, 10)
        return pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    raise TypeError(f"cannot read times from a {array.type} column")


def window_labels(array: pa.Array | pa.ChunkedArray, window: str) -> pa.Array:
    """Each row's window as text, dictionary-encoded: numpy turns the times into window
    numbers (a vectorised unit conversion) and only the windows between the first and
    the last are formatted, never a string per row."""
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}")
    ts = single(timestamps(array))
    values = numbers(ts).view(f"datetime64[{ts.type.unit}]")
    present_mask = valid(ts)
    missing = np.zeros(len(values), np.bool_) if present_mask is None else ~present_mask
    number = _window_number(values, window, missing)
    present = number[~missing]
    if present.size == 0:
        return pa.DictionaryArray.from_arrays(
            to_arrow(np.zeros(len(values), np.int32), missing), pa.array([], pa.string())
        )
    low, high = int(present.min()), int(present.max())
    if high - low > MAX_SPAN:  # times far apart: encode only those present
        starts, indices = np.unique(present, return_inverse=True)
        codes = np.zeros(len(values), np.int32)
        codes[~missing] = indices.reshape(-1)
    else:
        starts = np.arange(low, high + 1)
        codes = np.where(missing, 0, number - low).astype(np.int32)
    seconds = _window_start(starts, window).astype("datetime64[s]").view(np.int64)
    labels = _format(to_arrow(seconds, kind=pa.timestamp("s")), window)
    return pa.DictionaryArray.from_arrays(to_arrow(codes, missing), labels)


MAX_SPAN = 100_000  # windows (or days) looked up or formatted at most, first to last time
PER_DAY = {"D": 1, "h": 24, "m": 1440, "s": 86_400, "ms": 86_400_000}
PER_DAY |= {"us": 86_400_000_000, "ns": 86_400_000_000_000}  # units of a timestamp per day


def _window_number(values: np.ndarray, window: str, missing: np.ndarray) -> np.ndarray:
    """Windows since 1970 (weeks: since Monday 1969-12-29). Times become day numbers by
    integer division; months, quarters and years are looked up per day of the span
    (calendar arithmetic on a few hundred days instead of on every row). ``missing``:
    the rows without a time (their numbers are meaningless)."""
    unit, _ = np.datetime_data(values.dtype)
    per_day = PER_DAY[unit]
    days = values.view(np.int64) // per_day
    if window == "day":
        return days
    if window == "week":
        return (days + 3) // 7
    present = days[~missing]
    if present.size == 0:
        return days
    first, last = int(present.min()), int(present.max())
    if last - first > MAX_SPAN:
        return _calendar(np.where(missing, 0, days).astype("datetime64[D]"), window)
    table = _calendar(np.arange(first, last + 1).astype("datetime64[D]"), window)
    return table[np.clip(days - first, 0, last - first)]


def _calendar(days: np.ndarray, window: str) -> np.ndarray:
    if window == "year":
        return days.astype("datetime64[Y]").astype(np.int64)
    months = days.astype("datetime64[M]").astype(np.int64)
    return months if window == "month" else months // 3


def _window_start(numbers: np.ndarray, window: str) -> np.ndarray:
    if window == "day":
        return numbers.astype("datetime64[D]")
    if window == "week":
        return (numbers * 7 - 3).astype("datetime64[D]")
    if window == "year":
        return numbers.astype("datetime64[Y]").astype("datetime64[D]")
    months = numbers if window == "month" else numbers * 3
    return months.astype("datetime64[M]").astype("datetime64[D]")


def _format(ts: pa.Array, window: str) -> pa.Array:
    if window == "day":
        return pc.strftime(ts, format="%Y-%m-%d")
    if window == "month":
        return pc.strftime(ts, format="%Y-%m")
    if window == "year":
        return pc.strftime(ts, format="%Y")
    if window == "quarter":
        year = pc.cast(pc.year(ts), pa.string())
        quarter = pc.cast(pc.quarter(ts), pa.string())
        return pc.binary_join_element_wise(year, quarter, "-Q")
    # ISO 8601 week of the Monday that starts it (its ISO year may be the next year)
    year = pc.cast(pc.iso_year(ts), pa.string())
    week = pc.utf8_lpad(pc.cast(pc.iso_week(ts), pa.string()), 2, "0")
    return pc.binary_join_element_wise(year, week, "-W")


def with_window(batch: pa.RecordBatch, column: str, window: str) -> pa.RecordBatch:
    labels = window_labels(batch.column(column), window)
    return pa.RecordBatch.from_arrays([*batch.columns, labels], names=[*batch.schema.names, WINDOW])

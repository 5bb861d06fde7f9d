"""The time window of each row, for monitoring (`--window month --time COL`): a text
column added to the batch and counted like one more attribute, in the same pass."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ombud.domain.audits import WINDOW


def timestamps(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Timestamps from timestamp, date or ISO text columns; what cannot be read is NULL."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.dictionary_decode()
        kind = array.type
    if pa.types.is_timestamp(kind):
        return array
    if pa.types.is_date(kind):
        return pc.cast(array, pa.timestamp("s"))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        day = pc.utf8_slice_codeunits(array, 0, 10)
        return pc.strptime(day, format="%Y-%m-%d", unit="s", error_is_null=True)
    raise TypeError(f"cannot read times from a {kind} column")


def window_labels(array: pa.Array | pa.ChunkedArray, window: str) -> pa.Array:
    ts = timestamps(array)
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
    if window == "week":
        year = pc.cast(pc.iso_year(ts), pa.string())
        week = pc.utf8_lpad(pc.cast(pc.iso_week(ts), pa.string()), 2, "0")
        return pc.binary_join_element_wise(year, week, "-W")
    raise ValueError(f"unknown window {window!r}")


def with_window(batch: pa.RecordBatch, column: str, window: str) -> pa.RecordBatch:
    labels = window_labels(batch.column(column), window)
    return pa.RecordBatch.from_arrays([*batch.columns, labels], names=[*batch.schema.names, WINDOW])

"""numpy views of Arrow arrays and Arrow arrays of numpy values, read from the buffers.

pyarrow's own bridges (``Array.to_numpy``, ``pa.array(ndarray)``, ``fill_null``) go
through its pandas compatibility layer, which imports pandas the first time, when it
is installed: 0.4 s of a 10M-row `ombud audit run` that never uses pandas (bench/audit.py,
end to end). The engine uses these instead; the result is the same, with no copy
where the buffer can be read as it is.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_NUMPY: dict[pa.DataType, np.dtype[np.generic]] = {
    pa.int8(): np.dtype(np.int8),
    pa.int16(): np.dtype(np.int16),
    pa.int32(): np.dtype(np.int32),
    pa.int64(): np.dtype(np.int64),
    pa.uint8(): np.dtype(np.uint8),
    pa.uint16(): np.dtype(np.uint16),
    pa.uint32(): np.dtype(np.uint32),
    pa.uint64(): np.dtype(np.uint64),
    pa.float16(): np.dtype(np.float16),
    pa.float32(): np.dtype(np.float32),
    pa.float64(): np.dtype(np.float64),
}


def single(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (a column of a table may come in chunks)."""
    if isinstance(array, pa.ChunkedArray):
        return array.combine_chunks()
    return array


def bits(buffer: pa.Buffer | None, offset: int, length: int) -> np.ndarray:
    """An Arrow bitmap (validity or boolean values) as numpy booleans."""
    if buffer is None:
        return np.ones(length, np.bool_)
    packed = np.frombuffer(buffer, np.uint8)
    unpacked: np.ndarray = np.unpackbits(packed, count=offset + length, bitorder="little")
    return unpacked[offset:].view(np.bool_)


def valid(array: pa.Array) -> np.ndarray | None:
    """True where the array has a value; None when no value is missing."""
    if array.null_count == 0:
        return None
    return bits(array.buffers()[0], array.offset, len(array))


def numbers(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The values of a numeric or boolean array (a view of its buffer when it is one of
    numpy's types); under a NULL, whatever the buffer holds: mask it with ``valid``.
    Timestamps, dates and durations come as their integers."""
    array = single(array)
    kind = array.type
    length = len(array)
    if pa.types.is_boolean(kind):
        return bits(array.buffers()[1], array.offset, length)
    dtype = _NUMPY.get(kind)
    if dtype is None:
        wide = (pa.types.is_timestamp, pa.types.is_date64, pa.types.is_duration)
        if any(test(kind) for test in (*wide, pa.types.is_time64)):
            dtype = np.dtype(np.int64)
        elif pa.types.is_date32(kind) or pa.types.is_time32(kind):
            dtype = np.dtype(np.int32)
        else:
            raise TypeError(f"not a numeric column: {kind}")
    data = array.buffers()[1]
    if data is None or length == 0:
        return np.zeros(length, dtype)
    found: np.ndarray = np.frombuffer(
        data, dtype=dtype, count=length, offset=array.offset * dtype.itemsize
    )
    return found


def floats(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The values as float64, NaN where a value is missing."""
    array = single(array)
    values = numbers(array).astype(np.float64)
    present = valid(array)
    if present is not None:
        values[~present] = np.nan
    return values


def to_arrow(
    values: np.ndarray, missing: np.ndarray | None = None, kind: pa.DataType | None = None
) -> pa.Array:
    """An Arrow array of a 1-D numpy array of numbers (copied), NULL where ``missing``;
    ``kind``: an Arrow type of the same width (e.g. a timestamp for int64 values)."""
    values = np.ascontiguousarray(values)
    kind = kind or pa.from_numpy_dtype(values.dtype)
    validity = None
    nulls = 0
    if missing is not None and missing.any():
        nulls = int(missing.sum())
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(
        kind, len(values), [validity, pa.py_buffer(values.copy())], null_count=nulls
    )

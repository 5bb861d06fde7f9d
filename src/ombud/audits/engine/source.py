"""Where the rows come from: CSV or Parquet, as files, a directory or a glob.

Rows are read in file order, batch by batch, while the current batch is counted:
Parquet row groups of up to about a batch are decoded by a few threads at once
(``Source.read``: the decoding is most of the pass, and pyarrow releases the GIL
while it decodes), other data in one background thread (``prefetch``). Either way
a few batches are in memory at any time, whatever the size of the data. Parquet
pre-buffering is off: it reads the selected columns of all row groups of a file
ahead and holds them, so memory would grow with the file.
"""

from __future__ import annotations

import difflib
import itertools
import os
import queue
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ombud.audits.engine.files import format_of, resolve
from ombud.kernel.errors import Invalid

CSV_BLOCK = 8 << 20
READERS_MAX = 4  # threads decoding Parquet row groups at once


@dataclass(frozen=True)
class Source:
    paths: tuple[str, ...]
    format: str  # "parquet" or "csv"
    schema: pa.Schema  # of the first file

    def require(self, column: str, option: str) -> pa.DataType:
        """The type of a column the audit names; Invalid (naming it) when absent."""
        names = self.schema.names
        if column in names:
            return self.schema.field(column).type
        close = difflib.get_close_matches(column, names, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        raise Invalid(f"Unknown column '{column}' ({option}).{hint} The data has: {shown}.")

    def total_rows(self) -> int | None:
        """Rows in the data, from Parquet metadata (no scan); None for CSV."""
        if self.format != "parquet":
            return None
        return sum(int(pq.ParquetFile(p).metadata.num_rows) for p in self.paths)

    def batches(
        self, columns: Sequence[str], batch_rows: int, dictionary: Sequence[str] = ()
    ) -> Iterator[pa.RecordBatch]:
        """Every row's ``columns``, in batches of at most ``batch_rows``. Parquet text columns
        named in ``dictionary`` come as dictionary arrays: codes into the column chunk's
        dictionary page, no string materialised."""
        for path in self.paths:
            if self.format == "parquet":
                yield from _parquet_batches(path, columns, batch_rows, dictionary)
            else:
                yield from _csv_batches(path, columns)

    def read(
        self,
        columns: Sequence[str],
        batch_rows: int,
        dictionary: Sequence[str] = (),
        threads: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The batches of ``batches``, in the same order, read ahead of the caller: Parquet
        row groups (or runs of small ones) of about ``batch_rows`` rows by ``threads``
        threads at once (default: one per core, at most READERS_MAX), anything else
        (CSV, row groups of more than two batches) by one background thread."""
        threads = threads or min(READERS_MAX, _cores())
        parts = self._parts(columns, batch_rows) if self.format == "parquet" else None
        if parts is None or threads < 2 or len(parts) < 2:
            yield from prefetch(self.batches(columns, batch_rows, dictionary))
            return
        yield from _read_ahead(parts, columns, batch_rows, dictionary, threads)

    def _parts(self, columns: Sequence[str], batch_rows: int) -> list[_Part] | None:
        """Runs of consecutive row groups of one file, each of about ``batch_rows`` rows;
        None when a row group is larger than two batches (it is streamed instead, so that
        memory stays bounded)."""
        parts: list[_Part] = []
        for path in self.paths:
            metadata = pq.read_metadata(path)
            _require_columns(path, metadata.schema.names, columns)
            run: list[int] = []
            rows = 0
            for i in range(metadata.num_row_groups):
                size = metadata.row_group(i).num_rows
                if size > 2 * batch_rows:
                    return None
                if run and rows + size > batch_rows:
                    parts.append(_Part(path, tuple(run)))
                    run, rows = [], 0
                run.append(i)
                rows += size
            if run:
                parts.append(_Part(path, tuple(run)))
        return parts

    def head(self, rows: int, columns: Sequence[str]) -> pa.Table:
        """The first ``rows`` rows (or fewer) of ``columns``."""
        found: list[pa.RecordBatch] = []
        have = 0
        for batch in self.batches(columns, min(rows, 1 << 16)):
            found.append(batch)
            have += batch.num_rows
            if have >= rows:
                break
        if not found:
            return pa.table({c: pa.array([], self.schema.field(c).type) for c in columns})
        return pa.Table.from_batches(found).slice(0, rows)

    def parquet_metadata(self) -> Iterator[pq.FileMetaData]:
        for path in self.paths:
            yield pq.ParquetFile(path).metadata


@dataclass(frozen=True)
class _Part:
    """Row groups of one Parquet file, read together."""

    path: str
    row_groups: tuple[int, ...]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _require_columns(path: str, names: Sequence[str], columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in names]
    if missing:
        raise Invalid(f"Unknown column '{missing[0]}' in {path}: the files differ.")


def _open_parquet(path: str, dictionary: Sequence[str], names: Sequence[str]) -> pq.ParquetFile:
    return pq.ParquetFile(  # pre_buffer=False: see the module docstring
        path, read_dictionary=[c for c in dictionary if c in names], pre_buffer=False
    )


def _parquet_batches(
    path: str, columns: Sequence[str], batch_rows: int, dictionary: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    names = pq.read_schema(path).names
    _require_columns(path, names, columns)
    reader = _open_parquet(path, dictionary, names)
    yield from reader.iter_batches(batch_size=batch_rows, columns=list(columns))


def _read_ahead(
    parts: Sequence[_Part],
    columns: Sequence[str],
    batch_rows: int,
    dictionary: Sequence[str],
    threads: int,
) -> Iterator[pa.RecordBatch]:
    """Decode ``threads`` parts at once, one more waiting, and hand out their batches in
    order: the counts do not depend on the order, but the order of the groups in the
    report does (first seen, first listed), and a rerun must give the same document."""
    local = threading.local()

    def decode(part: _Part) -> list[pa.RecordBatch]:
        readers: dict[str, pq.ParquetFile] = local.__dict__.setdefault("readers", {})
        reader = readers.get(part.path)
        if reader is None:
            readers.clear()  # one open file per thread
            names = pq.read_schema(part.path).names
            reader = readers[part.path] = _open_parquet(part.path, dictionary, names)
        # one thread per part: pyarrow's own threads would only compete with the others
        table = reader.read_row_groups(list(part.row_groups), list(columns), use_threads=False)
        batches: list[pa.RecordBatch] = table.to_batches(max_chunksize=batch_rows)
        return batches

    queued = iter(parts)
    with ThreadPoolExecutor(threads, thread_name_prefix="audit-reader") as pool:
        pending: deque[Future[list[pa.RecordBatch]]] = deque(
            pool.submit(decode, p) for p in itertools.islice(queued, threads + 1)
        )
        try:
            while pending:
                batches = pending.popleft().result()
                following = next(queued, None)
                if following is not None:
                    pending.append(pool.submit(decode, following))
                yield from batches
        finally:
            for future in pending:  # stopped early (an error, or the caller left)
                future.cancel()


def _csv_options(columns: Sequence[str] | None = None) -> dict[str, Any]:
    import pyarrow.csv as pacsv

    return {
        "read_options": pacsv.ReadOptions(block_size=CSV_BLOCK),
        "convert_options": pacsv.ConvertOptions(
            strings_can_be_null=True, include_columns=list(columns) if columns else None
        ),
    }


def _csv_batches(path: str, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
    import pyarrow.csv as pacsv

    with pacsv.open_csv(path, **_csv_options(columns)) as reader:
        names = reader.schema.names
        missing = [c for c in columns if c not in names]
        if missing:
            raise Invalid(f"Unknown column '{missing[0]}' in {path}: the files differ.")
        yield from reader


def open_source(data: Sequence[str]) -> Source:
    """Resolve DATA and read the schema of its first file (for CSV: its first block)."""
    paths = resolve(data)
    formats = {format_of(p) for p in paths}
    if None in formats:
        odd = next(p for p in paths if format_of(p) is None)
        raise Invalid(f"'{odd}' is neither CSV (.csv) nor Parquet (.parquet).")
    if len(formats) > 1:
        raise Invalid("The data mixes CSV and Parquet files: audit one format at a time.")
    fmt = formats.pop() or "parquet"
    try:
        if fmt == "parquet":
            schema = pq.read_schema(paths[0])
        else:
            import pyarrow.csv as pacsv

            with pacsv.open_csv(paths[0], **_csv_options()) as reader:
                schema = reader.schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise Invalid(f"Cannot read {paths[0]}: {_first_line(exc)}") from None
    return Source(tuple(paths), fmt, schema)


_END = object()


def prefetch(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Decode the next ``depth`` batches in a background thread while the caller counts.

    pyarrow releases the GIL while it decodes, so reading and counting overlap on two
    cores; the bounded queue keeps memory to ``depth`` + 2 batches.
    """
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        ready.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)

    worker = threading.Thread(target=produce, name="audit-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                ready.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

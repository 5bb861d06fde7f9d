"""Where the rows come from: CSV or Parquet, as files, a directory or a glob.

Rows are read file by file and batch by batch, the next batches decoded in a
background thread while the current one is counted (``prefetch``): a few
batches are in memory at any time, whatever the size of the data. Parquet
pre-buffering is off: it reads the selected columns of all row groups of a
file ahead and holds them, so memory would grow with the file.
"""

from __future__ import annotations

import difflib
import glob
import hashlib
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ombud.kernel.errors import Invalid

PARQUET = (".parquet", ".parq", ".pq")
CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst")
CSV_BLOCK = 8 << 20


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


def _parquet_batches(
    path: str, columns: Sequence[str], batch_rows: int, dictionary: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    names = pq.read_schema(path).names
    missing = [c for c in columns if c not in names]
    if missing:
        raise Invalid(f"Unknown column '{missing[0]}' in {path}: the files differ.")
    reader = pq.ParquetFile(  # pre_buffer=False: see the module docstring
        path, read_dictionary=[c for c in dictionary if c in names], pre_buffer=False
    )
    yield from reader.iter_batches(batch_size=batch_rows, columns=list(columns))


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


def _format_of(path: str) -> str | None:
    lower = path.lower()
    if lower.endswith(PARQUET):
        return "parquet"
    if lower.endswith(CSV):
        return "csv"
    return None


def _files_under(directory: Path) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        found.extend(
            os.path.join(root, f)
            for f in sorted(files)
            if not f.startswith((".", "_")) and _format_of(f)
        )
    return found


def resolve(data: Sequence[str]) -> list[str]:
    """Every file named by DATA: files, directories (walked) and globs, in a stable order."""
    paths: list[str] = []
    for item in data:
        if any(ch in item for ch in "*?["):
            matched = sorted(p for p in glob.glob(item, recursive=True) if os.path.isfile(p))
            if not matched:
                raise Invalid(f"No files match '{item}'.")
            paths.extend(matched)
        elif os.path.isdir(item):
            inside = _files_under(Path(item))
            if not inside:
                raise Invalid(f"No CSV or Parquet files in the directory '{item}'.")
            paths.extend(inside)
        elif os.path.isfile(item):
            paths.append(item)
        else:
            raise Invalid(f"No such file or directory: '{item}'.")
    return list(dict.fromkeys(paths))


def open_source(data: Sequence[str]) -> Source:
    """Resolve DATA and read the schema of its first file (for CSV: its first block)."""
    paths = resolve(data)
    formats = {_format_of(p) for p in paths}
    if None in formats:
        odd = next(p for p in paths if _format_of(p) is None)
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


def sha256_of(path: str, stop: threading.Event | None = None) -> str | None:
    """The file's sha256 (hex), read in 1 MiB chunks; None if ``stop`` is set meanwhile."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if stop is not None and stop.is_set():
                return None
            digest.update(chunk)  # releases the GIL: runs beside the scan
    return digest.hexdigest()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

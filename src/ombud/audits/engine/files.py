"""The data files of an audit: which files DATA names, and their sha256.

Standard library only: `ombud audit run` resolves the files and starts their digests
before it loads numpy and pyarrow, so that the sha256 (every byte of every file) is
computed on a second core while they load, not beside the scan.
"""

from __future__ import annotations

import glob
import hashlib
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ombud.kernel.errors import Invalid

PARQUET = (".parquet", ".parq", ".pq")
CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.zst")
CHUNK = 4 << 20  # fewer hand-overs of the GIL between the digest and the scan


def format_of(path: str) -> str | None:
    """ "parquet", "csv", or None, from the file name."""
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
            if not f.startswith((".", "_")) and format_of(f)
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


def sha256_of(path: str, stop: threading.Event | None = None) -> str | None:
    """The file's sha256 (hex), read in chunks into one buffer (no new memory per chunk);
    None if ``stop`` is set meanwhile."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while size := f.readinto(buffer):
            if stop is not None and stop.is_set():
                return None
            digest.update(view[:size])  # releases the GIL: runs beside imports and the scan
    return digest.hexdigest()


class FileDigests:
    """The sha256 of data files, each computed once, in one background thread, from the
    moment it is asked for. One instance per audit: a digest is never reused for another
    audit (the file may have changed in between)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._started: dict[str, Future[str | None]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def start(self, paths: Iterable[str]) -> None:
        """Begin the digests of ``paths`` (those not begun yet), in order; once stopped,
        none."""
        with self._lock:
            if self._stop.is_set():
                return
            for path in paths:
                if path not in self._started:
                    if self._pool is None:
                        self._pool = ThreadPoolExecutor(1, thread_name_prefix="audit-sha256")
                    self._started[path] = self._pool.submit(sha256_of, path, self._stop)

    def result(self, path: str) -> str | None:
        """The file's digest (begun now if it was not); None once stopped."""
        self.start([path])
        future = self._started.get(path)
        if future is None or future.cancelled():
            return None
        return future.result()

    def stop(self) -> None:
        """Give up the digests not finished: nobody will see them (the audit failed)."""
        self._stop.set()
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)

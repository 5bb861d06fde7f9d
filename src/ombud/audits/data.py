"""Where audit data lives: uploads streamed to the data directory (named by their
sha256), and paths on the server under one configured root."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ombud.audits.domain.runs import DATA_NAME_MAX
from ombud.kernel.errors import Invalid

PARQUET_MAGIC = b"PAR1"


def _kind(head: bytes, name: str) -> str | None:
    if head.startswith(PARQUET_MAGIC):
        return ".parquet"
    if name.lower().endswith(".csv"):
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the end
                return None
        return ".csv" if b"\x00" not in head else None
    return None


class LocalAuditData:
    def __init__(self, data_dir: Path, server_root: Path | None, max_bytes: int) -> None:
        self.directory = data_dir / "audit-data"
        self.server_root = server_root.resolve() if server_root else None
        self.max_bytes = max_bytes

    def save_upload(self, name: str, chunks: Iterable[bytes]) -> tuple[str, str]:
        """Stream an upload to disk while hashing it; (stored path, sha256). Invalid
        names the file when it is neither Parquet nor CSV text, or too large. Blocking
        file I/O: the web calls it from its thread pool."""
        self.directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise Invalid.from_fields(
                            {"file": f"{name} is larger than {self.max_bytes:,} bytes."}
                        )
                    if len(head) < 4096:
                        head += chunk[: 4096 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise Invalid.from_fields({"file": f"{name} is empty."})
            suffix = _kind(head, name)
            if suffix is None:
                raise Invalid.from_fields(
                    {"file": f"{name}: audit data must be a Parquet file or a CSV text file."}
                )
            sha = digest.hexdigest()
            final = self.directory / f"{sha}{suffix}"
            os.replace(tmp, final)
            return str(final), sha
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def server_path(self, raw: str) -> str:
        """A path (file, directory or glob) under the configured root; Invalid otherwise."""
        if self.server_root is None:
            raise Invalid.from_fields(
                {"path": "Paths on the server are off: set OMBUD_AUDIT_DATA_ROOT to allow them."}
            )
        raw = raw.strip()
        if not raw or len(raw) > DATA_NAME_MAX or "\x00" in raw:
            raise Invalid.from_fields({"path": "Give a path under the audit data folder."})
        candidate = Path(raw) if Path(raw).is_absolute() else self.server_root / raw
        # Resolve the part before any glob character, so '..' and symlinks cannot escape.
        parts = candidate.parts
        fixed = Path(
            *[
                p
                for p in parts[
                    : next(
                        (i for i, p in enumerate(parts) if any(c in p for c in "*?[")), len(parts)
                    )
                ]
            ]
        )
        resolved = fixed.resolve()
        if resolved != self.server_root and self.server_root not in resolved.parents:
            raise Invalid.from_fields(
                {"path": f"{raw} is outside the audit data folder {self.server_root}."}
            )
        if ".." in parts[len(fixed.parts) :]:
            raise Invalid.from_fields({"path": f"{raw}: '..' is not allowed in a pattern."})
        rest = parts[len(fixed.parts) :]
        return str(resolved.joinpath(*rest)) if rest else str(resolved)

"""Files people attach: the type is decided by the content, never by the name alone.

Used for evidence attached to assessments and for what the public attaches to a
report. A file is accepted when its name's suffix is one of the allowed types
AND its first bytes are those of that type (text types: valid UTF-8 without NUL
bytes), and it is not larger than the limit.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

NAME_MAX = 200

# Suffix -> (content type, the bytes a genuine file starts with; None: text).
FileTypes = Mapping[str, tuple[str, bytes | None]]

IMAGE_AND_DOCUMENT_TYPES: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".txt": ("text/plain", None),
}


@dataclass(frozen=True)
class Upload:
    """A file as received: its (already cleaned) name and its bytes."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def clean_name(raw: str) -> str:
    """The last path part of a file name, without control characters, at most NAME_MAX
    characters (keeping the suffix); 'file' if nothing is left."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > NAME_MAX:
        _, dot, suffix = name.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        name = name[: NAME_MAX - len(keep) - 1] + ("." + keep if keep else "")
    return name or "file"


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.1f} kB"
    return f"{n} bytes"


def describe_types(types: FileTypes) -> str:
    names = sorted({s[1:].upper().replace("JPEG", "JPG") for s in types})
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def check_file(name: str, data: bytes, types: FileTypes, max_bytes: int) -> tuple[str, str | None]:
    """(content type, problem): the problem names the file and says what is wrong."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in types:
        return "", f"{name}: only {describe_types(types)} files are accepted."
    content_type, magic = types[suffix]
    if not data:
        return content_type, f"{name} is empty."
    if len(data) > max_bytes:
        return content_type, f"{name} is {_size(len(data))}; the limit is {_size(max_bytes)}."
    if magic is not None and not data.startswith(magic):
        kind = suffix[1:].upper()
        return content_type, f"{name} is not a {kind} file (its content says otherwise)."
    if magic is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return content_type, f"{name} is not UTF-8 text."
        if "\x00" in text:
            return content_type, f"{name} is not a text file (it holds binary data)."
    return content_type, None

"""The audit ledger's installation key and checkpoint files, both outside the database.

The ledger must not trust its own database (coe-fc:9, coe-fc:26): whoever can
write the database file could otherwise delete entries and recompute the chain.
So every entry carries an HMAC under a key that is not in the database, and the
head is checkpointed, signed, to files that are not in it either.

The key file holds one Ed25519 private key (PKCS#8 PEM). It signs checkpoints;
the HMAC key is derived from it with HKDF-SHA256, so there is one secret to
keep. The file is created once, with mode 0600, atomically, and never
overwritten; a file that others may read, or that is not such a key, is refused.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ombud.kernel.errors import ConfigError, Invalid
from ombud.kernel.ledger.domain import InstallationKey
from ombud.kernel.ledger.trust import entry_mac, head_mac

_MAC_INFO = b"ombud ledger entry and head MAC v1"
_CHECKPOINT_NAME = re.compile(r"^ledger-checkpoint-(\d{12})\.json$")


class Ed25519InstallationKey:
    """MACs entries and the head; signs checkpoints."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        raw = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        self._mac_key = HKDF(hashes.SHA256(), 32, salt=None, info=_MAC_INFO).derive(raw)
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key = base64.b64encode(public).decode("ascii")
        self.key_id = key_id_of(public)

    def entry_mac(self, entry_hash: str) -> str:
        return entry_mac(self._mac_key, entry_hash)

    def head_mac(self, seq: int, head_hash: str) -> str:
        return head_mac(self._mac_key, seq, head_hash)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self._private.sign(message)).decode("ascii")


def key_id_of(public_raw: bytes) -> str:
    """A short name of a public key: the first 16 bytes of its sha256, in hex."""
    return hashlib.sha256(public_raw).hexdigest()[:32]


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class LedgerKeyFile:
    """The installation key at ``path`` (OMBUD_LEDGER_KEY_FILE), loaded once per process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._key: InstallationKey | None = None
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return self._key is not None or self.path.exists()

    def load(self) -> InstallationKey:
        """The key; ConfigError if it is missing, readable by others, or not a key."""
        with self._lock:
            if self._key is None:
                self._key = self._read()
            return self._key

    def _read(self) -> InstallationKey:
        where = self.location
        try:
            info = self.path.stat()
        except FileNotFoundError:
            raise ConfigError(
                f"The ledger's installation key {where} does not exist. Run `ombud db "
                "upgrade` to create it, or set OMBUD_LEDGER_KEY_FILE to where it is."
            ) from None
        if info.st_mode & 0o077:
            raise ConfigError(
                f"The ledger's installation key {where} may be read by others (mode "
                f"{info.st_mode & 0o777:03o}): refusing to use it. Only ombud's account may "
                f"read it: chmod 600 {where} (and consider it exposed)."
            )
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"The ledger's installation key {where} cannot be read: {exc.strerror}."
            ) from None
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            private = None
        if not isinstance(private, Ed25519PrivateKey):
            raise ConfigError(
                f"The ledger's installation key {where} is not an unencrypted Ed25519 "
                "private key in PEM: restore the file from a backup."
            )
        return Ed25519InstallationKey(private)

    def create(self) -> InstallationKey:
        """Make the key file (mode 0600) unless one exists; never overwrites one."""
        with self._lock:
            if self._key is None and not self.path.exists():
                self._create()
        return self.load()

    def _create(self) -> None:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked into place: nobody reads half a
        # key, and link() fails rather than replace a key another process just made.
        tmp = directory / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        _write_new(tmp, pem, 0o600)
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            pass  # another process was first: its key is the installation's
        except OSError:  # a file system without hard links
            with contextlib.suppress(FileExistsError):
                _write_new(self.path, pem, 0o600)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(directory)

    def for_writing(self, ledger_sealed: bool) -> InstallationKey:
        """The key to seal a new entry with. A missing key is made only for a ledger
        no key has sealed yet: a new key for a sealed ledger would hide the old one's
        absence (and every MAC after it would be under a key nobody else has)."""
        if self.exists():
            return self.load()
        if ledger_sealed:
            raise ConfigError(
                f"The ledger was sealed with an installation key, but there is none at "
                f"{self.location}. Restore the key file from a backup, or point "
                "OMBUD_LEDGER_KEY_FILE at it (every server on this database needs the same "
                "key); ombud will not make a new one for a sealed ledger."
            )
        return self.create()

    # -- public keys and signatures (no secret needed) ---------------------------------

    def signature_holds(self, public_key: str, message: bytes, signature: str) -> bool:
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
            key.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True

    def read_public_key(self, text: str) -> str:
        """A public key given as PEM (``ombud ledger public-key``) or as base64 of the
        raw 32 bytes; ValueError when it is neither."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            try:
                key = serialization.load_pem_public_key(text.encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                key = None
            if not isinstance(key, Ed25519PublicKey):
                raise ValueError("it is not an Ed25519 public key in PEM")
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return base64.b64encode(raw).decode("ascii")
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("it is neither PEM nor base64") from None
        if len(raw) != 32:
            raise ValueError("it is not a 32-byte Ed25519 public key")
        return text

    def public_key_pem(self, public_key: str) -> str:
        raw = base64.b64decode(public_key)
        pem = Ed25519PublicKey.from_public_bytes(raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem.decode("ascii")

    def key_id(self, public_key: str) -> str:
        return key_id_of(base64.b64decode(public_key))


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` with ``text`` in one step: written whole, fsync'd, renamed."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        _write_new(tmp, text.encode("utf-8"), mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(directory)


class CheckpointFiles:
    """Checkpoint files: one named by ``ombud ledger checkpoint -o``, and the periodic
    ones in a directory (OMBUD_LEDGER_CHECKPOINT_DIR), one per head they record."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def read(self, path: str) -> str:
        """The text of a checkpoint file; Invalid naming the file when it cannot be read."""
        try:
            return Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise Invalid(f"Checkpoint file {path} does not exist.") from None
        except IsADirectoryError:
            raise Invalid(f"Checkpoint file {path} is a directory.") from None
        except UnicodeDecodeError:
            raise Invalid(f"Checkpoint file {path} is not UTF-8 text.") from None
        except OSError as exc:
            raise Invalid(f"Checkpoint file {path} cannot be read: {exc.strerror}.") from None

    def write(self, path: str, text: str) -> None:
        try:
            write_atomically(Path(path), text)
        except OSError as exc:
            raise Invalid(f"Checkpoint file {path} cannot be written: {exc.strerror}.") from None

    def newest_seq(self) -> int | None:
        """The sequence number of the newest checkpoint in the directory, if any."""
        try:
            names = [p.name for p in self.directory.iterdir()]
        except FileNotFoundError:
            return None
        seqs = [int(m.group(1)) for n in names if (m := _CHECKPOINT_NAME.match(n))]
        return max(seqs, default=None)

    def write_next(self, seq: int, text: str) -> str:
        path = self.directory / f"ledger-checkpoint-{seq:012d}.json"
        write_atomically(path, text)
        return str(path)

"""Why the ledger need not trust its own database: MACs under the installation key,
signed checkpoints, and the report of everything ``ombud ledger verify`` checks.

A chain anyone can recompute (chain.py) proves nothing to someone who can write the
database, so:

- every entry and the head carry an HMAC under the installation key, which
  lives outside the database (``entry_mac``, ``head_mac``); re-sealing a chain
  without the key is caught at the first entry re-sealed;
- signed checkpoints of the head (``Checkpoint``), kept outside the database
  (a file, the oversight body's copy), catch what a MAC cannot: a rollback to
  an older copy of the database, and rewriting by someone who holds the key,
  up to the newest checkpoint;
- each current record is compared with what its ledger entries say
  (record_check.py): a record edited in the database alone is found.

keys.py keeps the key and the checkpoint files; this module is their pure part.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ombud.kernel.ledger.chain import ChainReport, canonical_json, canonical_time
from ombud.kernel.ledger.domain import GENESIS_HASH, InstallationKey, LedgerHead
from ombud.kernel.ledger.record_check import RecordReport


def entry_mac(mac_key: bytes, entry_hash: str) -> str:
    """HMAC-SHA256 of an entry's hash: only the holder of the key can make it."""
    return hmac.new(mac_key, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()


def head_mac(mac_key: bytes, seq: int, head_hash: str) -> str:
    """HMAC-SHA256 of ``seq:hash`` (a different message from any entry's: it has a colon)."""
    return hmac.new(mac_key, f"{seq}:{head_hash}".encode("ascii"), hashlib.sha256).hexdigest()


class LedgerKeyStore(Protocol):
    """Where the installation key lives, and the signature check of checkpoints."""

    location: str

    def exists(self) -> bool: ...
    def load(self) -> InstallationKey: ...
    def create(self) -> InstallationKey: ...
    def for_writing(self, ledger_sealed: bool) -> InstallationKey: ...
    def signature_holds(self, public_key: str, message: bytes, signature: str) -> bool: ...
    def read_public_key(self, text: str) -> str: ...
    def public_key_pem(self, public_key: str) -> str: ...
    def key_id(self, public_key: str) -> str: ...


class CheckpointStore(Protocol):
    """Checkpoint files outside the database."""

    def read(self, path: str) -> str: ...
    def write(self, path: str, text: str) -> None: ...
    def newest_seq(self) -> int | None: ...
    def write_next(self, seq: int, text: str) -> str: ...


# -- checkpoints (kept outside the database) --------------------------------------------

CHECKPOINT_FORMAT = "ombud-ledger-checkpoint/1"
_CHECKPOINT_FIELDS = ("format", "key_id", "public_key", "seq", "hash", "at", "signature")


@dataclass(frozen=True)
class Checkpoint:
    """The head at a moment, signed with the installation key (Ed25519 over the
    canonical JSON of every field but the signature)."""

    key_id: str
    public_key: str
    seq: int
    hash: str
    at: datetime
    signature: str = ""

    def payload(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "key_id": self.key_id,
            "public_key": self.public_key,
            "seq": self.seq,
            "hash": self.hash,
            "at": canonical_time(self.at) + "Z",
        }

    def message(self) -> bytes:
        """What the signature covers."""
        return canonical_json(self.payload()).encode("utf-8")

    def to_json(self) -> str:
        return json.dumps({**self.payload(), "signature": self.signature}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """Parse a checkpoint file; ValueError says what is wrong with it."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"it is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError("it is not a JSON object")
        if data.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"its format is not {CHECKPOINT_FORMAT!r}")
        missing = [f for f in _CHECKPOINT_FIELDS if f not in data]
        if missing:
            raise ValueError("it has no " + ", ".join(repr(f) for f in missing))
        seq, digest = data["seq"], data["hash"]
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise ValueError("its 'seq' is not a sequence number")
        if (
            not isinstance(digest, str)
            or len(digest) != 64
            or any(ch not in "0123456789abcdef" for ch in digest)
        ):
            raise ValueError("its 'hash' is not a sha256 in hex")
        for name in ("key_id", "public_key", "signature", "at"):
            if not isinstance(data[name], str):
                raise ValueError(f"its {name!r} is not text")
        try:
            at = datetime.fromisoformat(data["at"].removesuffix("Z"))
        except ValueError:
            raise ValueError("its 'at' is not a time") from None
        return cls(data["key_id"], data["public_key"], seq, digest, at, data["signature"])


def signed_checkpoint(key: InstallationKey, head: LedgerHead, at: datetime) -> Checkpoint:
    """A checkpoint of ``head``, signed with the installation key."""
    unsigned = Checkpoint(key.key_id, key.public_key, head.seq, head.hash, at)
    return Checkpoint(
        unsigned.key_id,
        unsigned.public_key,
        unsigned.seq,
        unsigned.hash,
        unsigned.at,
        key.sign(unsigned.message()),
    )


@dataclass(frozen=True)
class CheckpointResult:
    source: str
    seq: int
    ok: bool
    reason: str


def judge_checkpoint(
    source: str,
    checkpoint: Checkpoint,
    seen_hash: str | None,
    head: LedgerHead | None,
    chain: ChainReport,
) -> CheckpointResult:
    """Does the ledger still hold the entry a (signature-checked) checkpoint recorded,
    with the chain intact from there on? ``seen_hash`` is the stored hash at the
    checkpoint's sequence number (None: there is no such entry)."""
    n = checkpoint.seq

    def fail(reason: str) -> CheckpointResult:
        return CheckpointResult(source, n, False, reason)

    if n == 0:
        seen_hash = GENESIS_HASH
    if seen_hash is None:
        newest = head.seq if head else 0
        if newest < n:
            return fail(
                f"the ledger now ends at #{newest}, before entry #{n} that the checkpoint "
                "records: entries were removed, or an older copy of the database restored"
            )
        return fail(f"entry #{n} that the checkpoint records is missing (it was removed)")
    if seen_hash != checkpoint.hash:
        return fail(
            f"entry #{n} is not the one the checkpoint records: the ledger up to it was "
            "changed and re-sealed"
        )
    if not chain.ok and chain.first_bad_seq is not None:
        where = "after" if chain.first_bad_seq > n else "at or before"
        return fail(
            f"entry #{n} matches, but the chain breaks at #{chain.first_bad_seq}, {where} "
            "the checkpoint"
        )
    since = (head.seq if head else n) - n
    return CheckpointResult(
        source, n, True, f"entry #{n} matches and the chain is intact after it ({since} since)"
    )


# -- the verdict ------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustReport:
    """Everything ``ombud ledger verify`` checks."""

    chain: ChainReport
    checkpoints: tuple[CheckpointResult, ...] = ()
    records: RecordReport | None = None

    @property
    def ok(self) -> bool:
        return (
            self.chain.ok
            and all(c.ok for c in self.checkpoints)
            and (self.records is None or self.records.ok)
        )

"""The audit ledger: an append-only, hash-chained record of every change.

Each entry's hash is sha256 over the canonical JSON of the entry (sequence
number, time, actor, action, entity, before/after) followed by the previous
entry's hash. Editing, removing or reordering any entry breaks the chain at
that point, and ``verify_chain`` names the first entry that does not hold.
This is how ombud answers coe-fc:9 (accountability) and coe-fc:26 (oversight
bodies must be able to rely on the record).

A chain anyone can recompute proves nothing to someone who can write the
database, so the ledger does not trust its own database:

- every entry and the head carry an HMAC under the installation key, which
  lives outside the database (``entry_mac``, ``head_mac``); re-sealing a chain
  without the key is caught at the first entry re-sealed;
- signed checkpoints of the head (``Checkpoint``), kept outside the database
  (a file, the oversight body's copy), catch what a MAC cannot: a rollback to
  an older copy of the database, and rewriting by someone who holds the key,
  up to the newest checkpoint;
- each current record is compared with what its ledger entries say
  (``RecordSpec``, ``RecordHistory``): a record edited in the database alone is
  found.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

GENESIS_HASH = "0" * 64


class LedgerAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    TRANSITION = "transition"
    PUBLICATION = "publication"
    SIGNIFICANT_MODIFICATION = "significant_modification"
    SIGN_OFF = "sign_off"
    STALE = "stale"
    RED_LINE_DECISION = "red_line_decision"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    TOKEN_CREATE = "token_create"
    TOKEN_REVOKE = "token_revoke"
    MEMBERSHIP = "membership"
    JURISDICTION = "jurisdiction"
    # Entries written before the installation key existed were sealed at set-up.
    SEAL = "seal"


@dataclass(frozen=True)
class LedgerDraft:
    """An entry before it is chained: what happened, to what, by whom."""

    actor_id: int | None
    actor: str
    action: LedgerAction
    entity_type: str
    entity_id: str
    organisation_id: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    entity_type: str
    entity_id: str
    organisation_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str
    # HMAC of ``hash`` under the installation key; None only before set-up sealed it.
    mac: str | None = None


@dataclass(frozen=True)
class LedgerHead:
    """The store's record of its newest entry, with its MAC."""

    seq: int
    hash: str
    mac: str | None = None

    @property
    def is_genesis(self) -> bool:
        return self.seq == 0 and self.hash == GENESIS_HASH


def entry_mac(mac_key: bytes, entry_hash: str) -> str:
    """HMAC-SHA256 of an entry's hash: only the holder of the key can make it."""
    return hmac.new(mac_key, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()


def head_mac(mac_key: bytes, seq: int, head_hash: str) -> str:
    """HMAC-SHA256 of ``seq:hash`` (a different message from any entry's: it has a colon)."""
    return hmac.new(mac_key, f"{seq}:{head_hash}".encode("ascii"), hashlib.sha256).hexdigest()


class InstallationKey(Protocol):
    """The installation's key: MACs the ledger, signs checkpoints. Kept outside the database."""

    key_id: str
    public_key: str  # base64 of the raw Ed25519 public key

    def entry_mac(self, entry_hash: str) -> str: ...
    def head_mac(self, seq: int, head_hash: str) -> str: ...
    def sign(self, message: bytes) -> str: ...


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


def _iso(at: datetime) -> str:
    # Microsecond precision, no timezone suffix games: the stored value is UTC.
    return at.replace(tzinfo=None).isoformat(timespec="microseconds")


def canonical_json(payload: dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 text kept as is."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_payload(
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    organisation_id: int | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": _iso(at),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "organisation_id": organisation_id,
        "before": before,
        "after": after,
    }


def chain_hash(payload: dict[str, Any], prev_hash: str) -> str:
    digest = hashlib.sha256()
    digest.update(canonical_json(payload).encode("utf-8"))
    digest.update(prev_hash.encode("ascii"))
    return digest.hexdigest()


def seal(draft: LedgerDraft, seq: int, at: datetime, prev_hash: str) -> LedgerEntry:
    """Chain a draft after the entry whose hash is ``prev_hash``."""
    payload = entry_payload(
        seq,
        at,
        draft.actor_id,
        draft.actor,
        draft.action.value,
        draft.entity_type,
        draft.entity_id,
        draft.organisation_id,
        draft.before,
        draft.after,
    )
    return LedgerEntry(
        seq=seq,
        at=at,
        actor_id=draft.actor_id,
        actor=draft.actor,
        action=draft.action.value,
        entity_type=draft.entity_type,
        entity_id=draft.entity_id,
        organisation_id=draft.organisation_id,
        before=draft.before,
        after=draft.after,
        prev_hash=prev_hash,
        hash=chain_hash(payload, prev_hash),
    )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


class ChainWalk:
    """Walks entries in stored order, one at a time (memory stays flat); ``finish``
    reports the first one that breaks the chain, or the head that does not match.

    Catches an edited entry (its hash no longer matches its content), a removed
    entry (a gap in sequence numbers, or a prev_hash that no longer links) and
    reordered entries (sequence out of order, or links that do not meet). With
    the installation ``key``, also an entry whose MAC does not hold: a chain
    recomputed by someone without the key (re-sealed) fails at the first entry
    they re-sealed. It also notes the hashes at the sequence numbers of
    ``checkpoint_seqs``, for ``judge_checkpoint``.
    """

    def __init__(self, key: InstallationKey | None = None, checkpoint_seqs: Iterable[int] = ()):
        self._key = key
        self._prev_hash = GENESIS_HASH
        self._expected_seq = 1
        self.checked = 0
        self._failure: ChainReport | None = None
        self._wanted = frozenset(checkpoint_seqs)
        self.seen: dict[int, str] = {}

    def _fail(self, seq: int, reason: str) -> None:
        self._failure = ChainReport(False, self.checked, seq, reason)

    def add(self, entry: LedgerEntry) -> None:
        if entry.seq in self._wanted:
            self.seen.setdefault(entry.seq, entry.hash)
        if self._failure is not None:
            return
        if entry.seq != self._expected_seq:
            self._fail(
                entry.seq,
                f"expected entry #{self._expected_seq} here but found #{entry.seq} "
                "(an entry was removed or the order was changed)",
            )
            return
        if entry.prev_hash != self._prev_hash:
            self._fail(
                entry.seq,
                "its link to the previous entry does not match "
                "(the previous entry was removed, replaced or reordered)",
            )
            return
        payload = entry_payload(
            entry.seq,
            entry.at,
            entry.actor_id,
            entry.actor,
            entry.action,
            entry.entity_type,
            entry.entity_id,
            entry.organisation_id,
            entry.before,
            entry.after,
        )
        if chain_hash(payload, entry.prev_hash) != entry.hash:
            self._fail(entry.seq, "its content does not match its hash (it was edited)")
            return
        if self._key is not None:
            if entry.mac is None:
                self._fail(
                    entry.seq,
                    "it carries no MAC: it was written, or its MAC removed, by someone "
                    "without the installation key",
                )
                return
            if not hmac.compare_digest(self._key.entry_mac(entry.hash), entry.mac):
                self._fail(
                    entry.seq,
                    "its MAC does not hold under the installation key: the chain was "
                    "re-sealed from here by someone without the key",
                )
                return
        self._prev_hash = entry.hash
        self._expected_seq += 1
        self.checked += 1

    def finish(self, head: LedgerHead | tuple[int, str] | None = None) -> ChainReport:
        """The report; ``head`` is what the store recorded as its newest entry, so that
        removing entries from the end is caught as well."""
        if self._failure is not None:
            return self._failure
        if isinstance(head, tuple):
            head = LedgerHead(*head)
        last = self._expected_seq - 1
        if head is not None and (head.seq, head.hash) != (last, self._prev_hash):
            if head.seq > last:
                bad, what = last + 1, "entries after it were removed from the end"
            elif head.seq < last:
                bad, what = head.seq + 1, "it was appended without updating the ledger head"
            else:
                bad, what = last, "the chain was re-sealed or the head was changed"
            return ChainReport(
                False,
                self.checked,
                bad,
                f"the ledger head records entry #{head.seq} as the newest, but the chain "
                f"ends at #{last}: {what}",
            )
        # An empty ledger's head is the genesis (nothing to protect; removing every
        # entry is caught by checkpoints and by records that no entry accounts for).
        if self._key is not None and head is not None and not head.is_genesis:
            expected = self._key.head_mac(head.seq, head.hash)
            if head.mac is None or not hmac.compare_digest(expected, head.mac):
                return ChainReport(
                    False,
                    self.checked,
                    head.seq,
                    "the ledger head's MAC does not hold under the installation key: "
                    "the head was moved by someone without the key",
                )
        return ChainReport(True, self.checked)


def verify_chain(
    entries: Iterable[LedgerEntry],
    head: LedgerHead | tuple[int, str] | None = None,
    key: InstallationKey | None = None,
) -> ChainReport:
    """Walk entries in stored order; report the first one that breaks the chain
    (see ``ChainWalk``). With ``key``, every entry's MAC and the head's must hold."""
    walk = ChainWalk(key)
    for entry in entries:
        walk.add(entry)
    return walk.finish(head)


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
            "at": _iso(self.at) + "Z",
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


# -- records compared with what the ledger says about them ----------------------------


@dataclass(frozen=True)
class RecordSpec:
    """What the ledger's entries say about one kind of record, in the ledger's words.

    ``fields`` are compared with the stored record, each once an entry has set it
    (from ``after``, or implied by the entry's action in ``implied``). An entry
    whose ``after`` has a key in ``forgotten_by`` changes those fields without
    saying to what: they are not compared until an entry sets them again.
    ``unchecked`` says what of the record the ledger cannot vouch for, and why.
    """

    entity_type: str
    fields: tuple[str, ...]
    removed_by: frozenset[str] = frozenset({LedgerAction.DELETE.value})
    removed_when_after_is_empty: bool = False  # a membership or jurisdiction taken away
    implied: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    forgotten_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unchecked: str = ""


@dataclass
class RecordHistory:
    """One record's entries folded, oldest first: whether it exists and what it holds."""

    entity_id: str
    entries: int = 0
    exists: bool = False
    last_seq: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    set_by: dict[str, int] = field(default_factory=dict)  # field -> seq of the entry

    def add(self, spec: RecordSpec, entry: LedgerEntry) -> None:
        self.entries += 1
        self.last_seq = entry.seq
        if entry.action in spec.removed_by or (
            spec.removed_when_after_is_empty and entry.after is None and entry.before is not None
        ):
            self.exists = False
            self.state.clear()
            self.set_by.clear()
            return
        self.exists = True
        after = entry.after or {}
        for name, value in spec.implied.get(entry.action, {}).items():
            self.state[name], self.set_by[name] = value, entry.seq
        for name in spec.fields:
            if name in after:
                self.state[name], self.set_by[name] = after[name], entry.seq
        for key, names in spec.forgotten_by.items():
            if key in after:
                for name in names:
                    self.state.pop(name, None)
                    self.set_by.pop(name, None)


@dataclass(frozen=True)
class RecordMismatch:
    entity_type: str
    entity_id: str
    field: str  # "" when the record itself should not (or should) exist
    reason: str

    def describe(self) -> str:
        where = f"{self.entity_type} {self.entity_id}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


def _plain(value: Any) -> Any:
    """The value as the ledger's JSON holds it (tuples become lists, and so on)."""
    return json.loads(canonical_json(value)) if value is not None else None


def _shown(value: Any, limit: int = 80) -> str:
    text = canonical_json(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compare_record(
    spec: RecordSpec,
    entity_id: str,
    history: RecordHistory | None,
    stored: Mapping[str, Any] | None,
) -> list[RecordMismatch]:
    """How the stored record (None: there is none) differs from its ledger history."""

    def bad(name: str, reason: str) -> RecordMismatch:
        return RecordMismatch(spec.entity_type, entity_id, name, reason)

    if history is None or history.entries == 0:
        if stored is None:
            return []
        return [bad("", "it is in the database but no ledger entry records it")]
    if stored is None:
        if history.exists:
            return [
                bad(
                    "",
                    f"the ledger has it (last entry #{history.last_seq}) but it is not in the "
                    "database: it was deleted behind the ledger's back",
                )
            ]
        return []
    if not history.exists:
        return [bad("", f"the ledger records its deletion at #{history.last_seq}, yet it exists")]
    out = []
    for name in spec.fields:
        if name not in history.state or name not in stored:
            continue
        recorded, current = _plain(history.state[name]), _plain(stored[name])
        if recorded == current:
            continue
        seq = history.set_by[name]
        if isinstance(recorded, dict) and isinstance(current, dict):
            for key in sorted(set(recorded) | set(current)):
                if recorded.get(key) != current.get(key):
                    out.append(
                        bad(
                            f"{name}.{key}",
                            f"the database holds {_shown(current.get(key))}, "
                            f"entry #{seq} says {_shown(recorded.get(key))}",
                        )
                    )
            continue
        out.append(
            bad(name, f"the database holds {_shown(current)}, entry #{seq} says {_shown(recorded)}")
        )
    return out


@dataclass(frozen=True)
class RecordReport:
    checked: int
    mismatches: tuple[RecordMismatch, ...]  # the first ones found
    total_mismatches: int
    unchecked: tuple[str, ...]  # what the ledger cannot vouch for, per kind of record

    @property
    def ok(self) -> bool:
        return self.total_mismatches == 0


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

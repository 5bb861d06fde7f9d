"""The hash chain: canonical JSON, sealing an entry after the previous one, and walking
the chain to find the first entry that does not hold.

Each entry's hash is sha256 over the canonical JSON of the entry (sequence
number, time, actor, action, entity, before/after) followed by the previous
entry's hash. Editing, removing or reordering any entry breaks the chain at
that point, and ``verify_chain`` names the first entry that does not hold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ombud.kernel.ledger.domain import (
    GENESIS_HASH,
    InstallationKey,
    LedgerDraft,
    LedgerEntry,
    LedgerHead,
)


def canonical_time(at: datetime) -> str:
    """A time as the chain hashes it."""
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
    """What an entry's hash covers, besides the previous entry's hash."""
    return {
        "seq": seq,
        "at": canonical_time(at),
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
    """sha256 over the payload's canonical JSON, then the previous entry's hash."""
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
    ``checkpoint_seqs``, for ``judge_checkpoint`` (trust.py).
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
        """Check the next entry in stored order (after a failure, only note hashes)."""
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

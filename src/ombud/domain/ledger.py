"""The audit ledger: an append-only, hash-chained record of every change.

Each entry's hash is sha256 over the canonical JSON of the entry (sequence
number, time, actor, action, entity, before/after) followed by the previous
entry's hash. Editing, removing or reordering any entry breaks the chain at
that point, and ``verify_chain`` names the first entry that does not hold.
This is how ombud answers coe-fc:9 (accountability) and coe-fc:26 (oversight
bodies must be able to rely on the record).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


def verify_chain(
    entries: Iterable[LedgerEntry], head: tuple[int, str] | None = None
) -> ChainReport:
    """Walk entries in stored order; report the first one that breaks the chain.

    Catches an edited entry (its hash no longer matches its content), a removed
    entry (a gap in sequence numbers, or a prev_hash that no longer links) and
    reordered entries (sequence out of order, or links that do not meet).
    ``head`` is the (seq, hash) the store recorded for its newest entry, so that
    removing entries from the end is caught as well.
    """
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainReport(
                False,
                checked,
                entry.seq,
                f"expected entry #{expected_seq} here but found #{entry.seq} "
                "(an entry was removed or the order was changed)",
            )
        if entry.prev_hash != prev_hash:
            return ChainReport(
                False,
                checked,
                entry.seq,
                "its link to the previous entry does not match "
                "(the previous entry was removed, replaced or reordered)",
            )
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
            return ChainReport(
                False, checked, entry.seq, "its content does not match its hash (it was edited)"
            )
        prev_hash = entry.hash
        expected_seq += 1
        checked += 1
    last = expected_seq - 1
    if head is not None and head != (last, prev_hash):
        if head[0] > last:
            bad, what = last + 1, "entries after it were removed from the end"
        elif head[0] < last:
            bad, what = head[0] + 1, "it was appended without updating the ledger head"
        else:
            bad, what = last, "the chain was re-sealed or the head was changed"
        return ChainReport(
            False,
            checked,
            bad,
            f"the ledger head records entry #{head[0]} as the newest, but the chain ends at "
            f"#{last}: {what}",
        )
    return ChainReport(True, checked)

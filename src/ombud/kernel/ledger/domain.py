"""The audit ledger's vocabulary: an append-only, hash-chained record of every change.

What every area writes (a ``LedgerDraft`` with its ``LedgerAction``), what it becomes
once chained (a ``LedgerEntry``), the store's record of its newest entry (the
``LedgerHead``), and the installation key that vouches for them. How entries are
chained and checked is in chain.py; the MACs and checkpoints that let the ledger not
trust its own database in trust.py; records compared with their entries in
record_check.py. This is how ombud answers coe-fc:9 (accountability) and coe-fc:26
(oversight bodies must be able to rely on the record).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
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


class InstallationKey(Protocol):
    """The installation's key: MACs the ledger, signs checkpoints. Kept outside the database."""

    key_id: str
    public_key: str  # base64 of the raw Ed25519 public key

    def entry_mac(self, entry_hash: str) -> str: ...
    def head_mac(self, seq: int, head_hash: str) -> str: ...
    def sign(self, message: bytes) -> str: ...

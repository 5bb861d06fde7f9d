"""Records compared with what the ledger says about them: a record edited in the
database alone, or deleted or added behind the ledger's back, is found.

Each area says, in its ledger_records.py, what its entries vouch for about one kind
of record (a ``RecordSpec``); its entries are folded, oldest first, into a
``RecordHistory``, and ``compare_record`` names where the stored record differs.
(records.py reads the stored records in the ledger's words.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ombud.kernel.ledger.chain import canonical_json
from ombud.kernel.ledger.domain import LedgerAction, LedgerEntry


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
        """Fold the next entry (oldest first) about this record."""
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

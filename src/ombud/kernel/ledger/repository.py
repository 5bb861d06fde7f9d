"""The ledger's SQL repository: appending under the head's lock, MACs, paging and
the record check's reads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from ombud.kernel.db.queries import like_pattern
from ombud.kernel.errors import ConfigError
from ombud.kernel.ledger.chain import seal
from ombud.kernel.ledger.domain import (
    GENESIS_HASH,
    InstallationKey,
    LedgerDraft,
    LedgerEntry,
    LedgerHead,
)
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.kernel.ledger.records import (
    RecordSource,
    existing,
    record_batches,
    records_of,
)
from ombud.kernel.ledger.tables import ledger_entries, ledger_head
from ombud.kernel.ledger.trust import LedgerKeyStore
from ombud.kernel.paging import Page, PageResult


def _entry(row: Row[Any]) -> LedgerEntry:
    m = row._mapping
    return LedgerEntry(
        seq=m["seq"],
        at=m["at"],
        actor_id=m["actor_id"],
        actor=m["actor"],
        action=m["action"],
        entity_type=m["entity_type"],
        entity_id=m["entity_id"],
        organisation_id=m["organisation_id"],
        before=m["before"],
        after=m["after"],
        prev_hash=m["prev_hash"],
        hash=m["hash"],
        mac=m["mac"],
    )


# The ledger's statements, built once with values bound at execution: appending is on
# every write path, and building bound parameters per call cost more than the SQL.
_LEDGER_HEAD = (
    select(ledger_head.c.seq, ledger_head.c.hash, ledger_head.c.mac)
    .where(ledger_head.c.id == 1)
    .with_for_update()
)
_LEDGER_INSERT = insert(ledger_entries)
_LEDGER_MOVE_HEAD = (
    update(ledger_head)
    .where(ledger_head.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"), mac=bindparam("new_mac"))
)
_LEDGER_SET_MAC = (
    update(ledger_entries)
    .where(ledger_entries.c.id == bindparam("row_id"))
    .values(mac=bindparam("new_mac"))
)
_LEDGER_PAGE = 2000


class SqlLedgerRepository:
    def __init__(
        self,
        conn: Connection,
        keys: LedgerKeyStore | None = None,
        sources: Mapping[str, RecordSource] | None = None,
    ) -> None:
        self.conn = conn
        self._keys = keys
        self._sources = sources or {}  # each area's records (its ledger_records.py)
        # The head as this transaction left it: once read, its row stays locked until
        # the transaction ends, so later appends in it need not read it again.
        self._head: tuple[int, str] | None = None
        self._key: InstallationKey | None = None

    def append(self, draft: LedgerDraft, at: datetime) -> LedgerEntry:
        if self._head is None:
            # Lock the head row: concurrent writers chain one after another.
            row = self.conn.execute(_LEDGER_HEAD).first()
            if row is None:
                self.conn.execute(insert(ledger_head).values(id=1, seq=0, hash=GENESIS_HASH))
                self._head, sealed = (0, GENESIS_HASH), False
            else:
                self._head, sealed = (int(row.seq), str(row.hash)), bool(row.seq and row.mac)
            if self._keys is None:
                raise ConfigError("No installation key is configured for the audit ledger.")
            self._key = self._keys.for_writing(ledger_sealed=sealed)
        assert self._key is not None
        seq, prev = self._head[0] + 1, self._head[1]
        entry = seal(draft, seq, at, prev)
        # coe-fc:26 - one HMAC per entry: the chain cannot be recomputed without the key.
        mac = self._key.entry_mac(entry.hash)
        self.conn.execute(
            _LEDGER_INSERT,
            {
                "seq": entry.seq,
                "at": entry.at,
                "actor_id": entry.actor_id,
                "actor": entry.actor,
                "action": entry.action,
                "entity_type": entry.entity_type,
                "entity_id": entry.entity_id,
                "organisation_id": entry.organisation_id,
                "before": entry.before,
                "after": entry.after,
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
                "mac": mac,
            },
        )
        self.conn.execute(
            _LEDGER_MOVE_HEAD,
            {
                "new_seq": entry.seq,
                "new_hash": entry.hash,
                "new_mac": self._key.head_mac(entry.seq, entry.hash),
            },
        )
        self._head = (entry.seq, entry.hash)
        return replace(entry, mac=mac)

    def iter_entries(self) -> Iterator[LedgerEntry]:
        """All entries in storage order (by row id, not by seq: reordering shows)."""
        last_id = 0
        while True:
            rows = self.conn.execute(
                select(ledger_entries)
                .where(ledger_entries.c.id > last_id)
                .order_by(ledger_entries.c.id)
                .limit(_LEDGER_PAGE)
            ).all()
            if not rows:
                return
            for r in rows:
                yield _entry(r)
            last_id = rows[-1]._mapping["id"]

    def head(self) -> tuple[int, str] | None:
        state = self.head_state()
        return (state.seq, state.hash) if state else None

    def head_state(self, for_update: bool = False) -> LedgerHead | None:
        q = select(ledger_head.c.seq, ledger_head.c.hash, ledger_head.c.mac).where(
            ledger_head.c.id == 1
        )
        row = self.conn.execute(q.with_for_update() if for_update else q).first()
        return LedgerHead(int(row.seq), str(row.hash), row.mac) if row else None

    def count_unsealed(self) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(ledger_entries)
                .where(ledger_entries.c.mac.is_(None))
            ).scalar_one()
        )

    def seal_unsealed(self, key: InstallationKey) -> int:
        """MAC every entry that has none (set-up, once); how many were sealed."""
        sealed, last_id = 0, 0
        c = ledger_entries.c
        while True:
            rows = self.conn.execute(
                select(c.id, c.hash)
                .where(c.id > last_id, c.mac.is_(None))
                .order_by(c.id)
                .limit(_LEDGER_PAGE)
            ).all()
            if not rows:
                return sealed
            self.conn.execute(
                _LEDGER_SET_MAC,
                [{"row_id": r.id, "new_mac": key.entry_mac(r.hash)} for r in rows],
            )
            sealed += len(rows)
            last_id = rows[-1].id

    def entries_of(self, entity_type: str, entity_ids: Sequence[str]) -> Iterator[LedgerEntry]:
        """The entries about these entities, oldest first, a page at a time."""
        c = ledger_entries.c
        last_seq = -1
        while True:
            rows = self.conn.execute(
                select(ledger_entries)
                .where(
                    c.entity_type == entity_type,
                    c.entity_id.in_(list(entity_ids)),
                    c.seq > last_seq,
                )
                .order_by(c.seq)
                .limit(_LEDGER_PAGE)
            ).all()
            if not rows:
                return
            for r in rows:
                yield _entry(r)
            last_seq = rows[-1]._mapping["seq"]

    def recorded_id_batches(self, entity_type: str, size: int) -> Iterator[list[str]]:
        """The entity ids the ledger names for this kind of record, ``size`` at a time."""
        c = ledger_entries.c
        last: str | None = None
        while True:
            q = select(c.entity_id).where(c.entity_type == entity_type)
            if last is not None:
                q = q.where(c.entity_id > last)
            ids = list(
                self.conn.execute(q.group_by(c.entity_id).order_by(c.entity_id).limit(size))
                .scalars()
                .all()
            )
            if not ids:
                return
            yield ids
            last = ids[-1]

    def record_types(self) -> frozenset[str]:
        return frozenset(self._sources)

    def record_batches(
        self, entity_type: str, size: int
    ) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        return record_batches(self.conn, self._sources[entity_type], size)

    def existing_records(self, entity_type: str, entity_ids: Sequence[str]) -> set[str]:
        return existing(self.conn, self._sources[entity_type], entity_ids)

    def records_of(
        self, entity_type: str, entity_ids: Sequence[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        return records_of(self.conn, self._sources[entity_type], entity_ids)

    def find(self, flt: LedgerFilter, page: Page) -> PageResult[LedgerEntry]:
        c = ledger_entries.c
        conds: list[ColumnElement[bool]] = []
        if flt.organisation_ids is not None:
            conds.append(c.organisation_id.in_(sorted(flt.organisation_ids)))
        if flt.action:
            conds.append(c.action == flt.action)
        if flt.entity_type:
            conds.append(c.entity_type == flt.entity_type)
        if flt.entity_id:
            conds.append(c.entity_id == flt.entity_id)
        if flt.actor:
            conds.append(or_(c.actor == flt.actor, c.actor.like(like_pattern(flt.actor), "\\")))
        if flt.since:
            conds.append(c.at >= flt.since)
        if flt.until:
            conds.append(c.at < flt.until)
        total = int(
            self.conn.execute(
                select(func.count()).select_from(ledger_entries).where(*conds)
            ).scalar_one()
        )
        rows = self.conn.execute(
            select(ledger_entries)
            .where(*conds)
            .order_by(c.id.desc())
            .offset(page.offset)
            .limit(page.limit)
        )
        return PageResult([_entry(r) for r in rows], total, page.offset, page.limit)

"""Stored records in the ledger's words, for comparing them with their ledger entries.

Each kind of record the ledger speaks of (registered by its area, in the area's
ledger_records.py): its table, the columns that make its entity id (``12``, or
``3:12`` for a membership), and what its row says in the vocabulary of the entries'
before/after. The area's RecordSpec says which of those fields the entries vouch for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, or_, select, tuple_

Projection = Callable[[Any], dict[str, Any]]  # a row mapping -> the ledger's words


def picked(*names: str) -> tuple[Projection, tuple[str, ...]]:
    """Columns taken as they are, under their own names."""
    return (lambda m: {n: m[n] for n in names}), names


@dataclass(frozen=True)
class RecordSource:
    table: Table
    key: tuple[Column[Any], ...]  # the columns of the entity id, joined by ":"
    project: Projection
    needs: tuple[str, ...] = ()  # the columns ``project`` reads (none given: all)

    def columns(self) -> list[Column[Any]]:
        if not self.needs:
            return list(self.table.c)
        names = dict.fromkeys([c.name for c in self.key] + list(self.needs))
        return [self.table.c[n] for n in names]

    def entity_id(self, m: Any) -> str:
        return ":".join(str(m[c.name]) for c in self.key)

    def parse(self, entity_id: str) -> tuple[int, ...] | None:
        """The key of an entity id; None when no row could have it."""
        parts = entity_id.split(":")
        if len(parts) != len(self.key):
            return None
        if not all(p.isascii() and p.isdigit() and len(p) < 19 for p in parts):
            return None
        return tuple(int(p) for p in parts)


def record_batches(
    conn: Connection, source: RecordSource, size: int
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every stored record of the kind, in key order, ``size`` at a time (each batch is
    read whole before it is handed on, so the caller may query in between)."""
    last: tuple[Any, ...] | None = None
    while True:
        q = select(*source.columns()).order_by(*source.key).limit(size)
        if last is not None:
            q = q.where(_after(source.key, last))
        rows = [r._mapping for r in conn.execute(q)]
        if not rows:
            return
        yield [(source.entity_id(m), source.project(m)) for m in rows]
        last = tuple(rows[-1][c.name] for c in source.key)


def _after(key: Sequence[Column[Any]], last: tuple[Any, ...]) -> Any:
    """Rows whose key comes after ``last`` (written out: row values differ by database)."""
    if len(key) == 1:
        return key[0] > last[0]
    first, rest = key[0], key[1:]
    return or_(first > last[0], and_(first == last[0], _after(rest, last[1:])))


def _with_ids(source: RecordSource, entity_ids: Sequence[str]) -> Any | None:
    keys = [k for k in (source.parse(i) for i in entity_ids) if k is not None]
    if not keys:
        return None
    if len(source.key) == 1:
        return source.key[0].in_([k[0] for k in keys])
    return tuple_(*source.key).in_(keys)


def existing(conn: Connection, source: RecordSource, entity_ids: Sequence[str]) -> set[str]:
    """Those of the entity ids that have a stored record."""
    cond = _with_ids(source, entity_ids)
    if cond is None:
        return set()
    rows = conn.execute(select(*source.key).where(cond))
    return {":".join(str(v) for v in r) for r in rows}


def records_of(
    conn: Connection, source: RecordSource, entity_ids: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The stored records of these entity ids (those that exist)."""
    cond = _with_ids(source, entity_ids)
    if cond is None:
        return []
    rows = conn.execute(select(*source.columns()).where(cond))
    return [(source.entity_id(r._mapping), source.project(r._mapping)) for r in rows]

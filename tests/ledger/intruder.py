"""An intruder who can write the database (issue 13, item 4), and the ledger they work on.

Written the way the security test did it: plain sha256 over the canonical JSON the
module docstring of kernel/ledger/chain.py describes, SQL on the tables, nothing of
ombud's own sealing code. ``key`` is for the intruder who also stole the installation key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update

from ombud.kernel.ledger.domain import InstallationKey
from ombud.kernel.ledger.keys import LedgerKeyFile
from ombud.kernel.ledger.tables import ledger_entries, ledger_head


def last_seq(container) -> int:
    """The sequence number of the newest entry."""
    with container.engines.write.connect() as conn:
        return int(conn.execute(select(func.max(ledger_entries.c.seq))).scalar_one())


def entry_row(conn, seq: int) -> dict[str, Any]:
    """The stored row of entry #seq."""
    row = conn.execute(select(ledger_entries).where(ledger_entries.c.seq == seq)).one()
    return dict(row._mapping)


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_seal(row: dict[str, Any], seq: int, prev: str) -> str:
    """An entry's hash as the intruder computes it, with the standard library only."""
    payload = {
        "seq": seq,
        "at": row["at"].replace(tzinfo=None).isoformat(timespec="microseconds"),
        **{
            k: row[k]
            for k in (
                "actor_id",
                "actor",
                "action",
                "entity_type",
                "entity_id",
                "organisation_id",
                "before",
                "after",
            )
        },
    }
    return hashlib.sha256(_canonical(payload).encode() + prev.encode()).hexdigest()


def reseal(conn, order: list[int] | None = None, key: InstallationKey | None = None) -> None:
    """Rewrite the whole chain with the entries' contents in ``order`` (row ids; default:
    as they are), numbered from 1 in storage order, every hash recomputed, and move the
    head. Without ``key`` the MACs stay as they were: making new ones needs the key."""
    rows = {r["id"]: r for r in (dict(x._mapping) for x in conn.execute(select(ledger_entries)))}
    targets = sorted(rows)
    contents = [rows[i] for i in (order if order is not None else targets)]
    c = ledger_entries.c
    conn.execute(update(ledger_entries).values(seq=-c.id))  # out of each other's way
    prev, seq = "0" * 64, 0
    for seq, (row_id, content) in enumerate(zip(targets, contents, strict=True), start=1):
        digest = sha256_seal(content, seq, prev)
        values: dict[str, Any] = {
            **{k: v for k, v in content.items() if k not in ("id", "mac")},
            "seq": seq,
            "prev_hash": prev,
            "hash": digest,
        }
        if key is not None:
            values["mac"] = key.entry_mac(digest)
        conn.execute(update(ledger_entries).where(c.id == row_id).values(**values))
        prev = digest
    head: dict[str, Any] = {"seq": seq, "hash": prev}
    if key is not None:
        head["mac"] = key.head_mac(seq, prev)
    conn.execute(update(ledger_head).where(ledger_head.c.id == 1).values(**head))


def delete_and_reseal(container, *seqs: int, key: InstallationKey | None = None) -> None:
    """Delete the entries and re-seal the rest of the chain (with ``key``: new MACs too)."""
    with container.engines.write.begin() as conn:
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq.in_(seqs)))
        reseal(conn, key=key)


def stolen_key(container) -> InstallationKey:
    """The installation key, read from its file as a thief would."""
    return LedgerKeyFile(container.settings.resolved_ledger_key_file).load()


def take_checkpoint(container, tmp_path: Path, name: str = "cp.json") -> str:
    """A signed checkpoint of the head, written to a file; its path."""
    path = str(tmp_path / name)
    container.ledger.write_checkpoint(path)
    return path

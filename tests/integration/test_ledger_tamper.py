"""Tampering with the stored ledger is found, on both databases, by the service and the CLI.

The tests edit the database behind ombud's back with SQLAlchemy, as an intruder
with database access would; the web and CLI layers never touch SQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from ombud.adapters.db.tables import ledger_entries
from ombud.cli.main import app
from ombud.domain.lifecycle import LifecycleStage
from ombud.domain.systems import PublicationState
from tests.factories import complete_details


@pytest.fixture
def busy_ledger(container, world) -> dict[str, int]:
    """A ledger with register work in it: create, update, transition, publish.

    Returns the sequence numbers of those entries (after the world's own entries).
    """
    editor = world["city-editor@example.org"]
    approver = world["city-approver@example.org"]
    reg = container.register
    system = reg.create(editor, world.city.id, complete_details(), LifecycleStage.DEVELOPMENT)
    seqs = {"create": _last_seq(container)}
    reg.update(editor, system.id, complete_details(vendor="Acme Analytics"))
    seqs["update"] = _last_seq(container)
    reg.transition(editor, system.id, LifecycleStage.TESTING, "Ready for tests")
    seqs["transition"] = _last_seq(container)
    reg.set_publication(approver, system.id, PublicationState.PUBLISHED)
    seqs["publish"] = _last_seq(container)
    seqs["last"] = seqs["publish"]
    assert seqs["create"] > 1
    return seqs


def _last_seq(container) -> int:
    with container.engines.write.connect() as conn:
        return int(conn.execute(select(func.max(ledger_entries.c.seq))).scalar_one())


def _row(conn, seq: int) -> dict[str, Any]:
    row = conn.execute(select(ledger_entries).where(ledger_entries.c.seq == seq)).one()
    return dict(row._mapping)


def _assert_broken_at(container, seq: int) -> None:
    report = container.ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == seq, report.reason


def test_untouched_ledger_verifies(container, busy_ledger):
    report = container.ledger.verify()
    assert report.ok
    assert report.checked == busy_ledger["last"]


def test_editing_an_entrys_after_json_is_caught_at_that_entry(container, busy_ledger):
    seq = busy_ledger["update"]
    with container.engines.write.begin() as conn:
        after = _row(conn, seq)["after"]
        after["details"]["vendor"] = "Someone else entirely"
        conn.execute(update(ledger_entries).where(ledger_entries.c.seq == seq).values(after=after))
    _assert_broken_at(container, seq)
    assert "edited" in container.ledger.verify().reason


def test_editing_the_actor_of_an_entry_is_caught_at_that_entry(container, busy_ledger):
    seq = busy_ledger["transition"]
    with container.engines.write.begin() as conn:
        conn.execute(
            update(ledger_entries)
            .where(ledger_entries.c.seq == seq)
            .values(actor="city-admin@example.org")
        )
    _assert_broken_at(container, seq)


def test_deleting_a_middle_entry_is_caught_at_its_right_neighbour(container, busy_ledger):
    seq = busy_ledger["update"]
    with container.engines.write.begin() as conn:
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq == seq))
    _assert_broken_at(container, seq + 1)


def _swap_contents(conn, seq_a: int, seq_b: int) -> None:
    """Swap everything but the row id between two rows: the stored order changes."""
    a, b = _row(conn, seq_a), _row(conn, seq_b)
    content = lambda row: {k: v for k, v in row.items() if k != "id"}  # noqa: E731
    # seq is unique: park one row out of the way first.
    conn.execute(update(ledger_entries).where(ledger_entries.c.id == a["id"]).values(seq=-1))
    conn.execute(update(ledger_entries).where(ledger_entries.c.id == b["id"]).values(**content(a)))
    conn.execute(update(ledger_entries).where(ledger_entries.c.id == a["id"]).values(**content(b)))


def test_reordering_two_entries_is_caught_where_the_first_one_stood(container, busy_ledger):
    first, second = busy_ledger["create"], busy_ledger["transition"]
    with container.engines.write.begin() as conn:
        _swap_contents(conn, first, second)
    # In storage order the chain now reads ... first-1, second, ...: #second is out of place.
    _assert_broken_at(container, second)


def test_reordering_two_entries_and_renumbering_them_is_caught_too(container, busy_ledger):
    first, second = busy_ledger["create"], busy_ledger["transition"]
    with container.engines.write.begin() as conn:
        _swap_contents(conn, first, second)
        a_id = _row(conn, second)["id"]
        b_id = _row(conn, first)["id"]
        conn.execute(update(ledger_entries).where(ledger_entries.c.id == a_id).values(seq=-1))
        conn.execute(update(ledger_entries).where(ledger_entries.c.id == b_id).values(seq=second))
        conn.execute(update(ledger_entries).where(ledger_entries.c.id == a_id).values(seq=first))
    # Sequence numbers look right again, but the links do not meet at #first.
    _assert_broken_at(container, first)


def test_deleting_the_newest_entry_is_caught_through_the_head(container, busy_ledger):
    last = busy_ledger["last"]
    with container.engines.write.begin() as conn:
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq == last))
    _assert_broken_at(container, last)
    assert "head" in container.ledger.verify().reason


def test_new_entries_chain_after_an_intact_ledger(container, busy_ledger, world):
    """Work after verification keeps the chain intact (no gaps between transactions)."""
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details("Second"))
    container.register.delete(world["city-admin@example.org"], system.id)
    report = container.ledger.verify()
    assert report.ok
    assert report.checked == busy_ledger["last"] + 2


# -- the same through `ombud ledger verify` ---------------------------------------------


def _cli_verify(database_url: str, tmp_path: Path):
    env = {
        "OMBUD_DATABASE_URL": database_url,
        "OMBUD_ENV": "test",
        "OMBUD_DATA_DIR": str(tmp_path / "cli-data"),
    }
    return CliRunner(env=env).invoke(app, ["ledger", "verify"])


def test_cli_ledger_verify_exits_0_then_1_naming_the_edited_entry(
    container, busy_ledger, database_url, tmp_path
):
    result = _cli_verify(database_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert "BROKEN" not in result.output
    assert f"{busy_ledger['last']} entries" in result.output

    seq = busy_ledger["publish"]
    with container.engines.write.begin() as conn:
        after = _row(conn, seq)["after"]
        after["publication_state"] = "draft"
        conn.execute(update(ledger_entries).where(ledger_entries.c.seq == seq).values(after=after))

    result = _cli_verify(database_url, tmp_path)
    assert result.exit_code == 1, result.output
    assert f"#{seq}" in result.output
    assert "BROKEN" in result.output
    assert "chain intact" not in result.output


def test_cli_ledger_verify_names_the_neighbour_of_a_deleted_entry(
    container, busy_ledger, database_url, tmp_path
):
    seq = busy_ledger["create"]
    with container.engines.write.begin() as conn:
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq == seq))
    result = _cli_verify(database_url, tmp_path)
    assert result.exit_code == 1, result.output
    assert f"#{seq + 1}" in " ".join(result.output.split())

"""Tampering with the stored ledger is found, on both databases, by the service and the CLI.

The tests edit the database behind ombud's back with SQLAlchemy, as an intruder
with database access would; the web and CLI layers never touch SQL. Since the
ledger stopped trusting its own database (issue 13, item 4), an intruder who
also recomputes the chain is caught by the MACs under the installation key, and
one who holds the key by a checkpoint taken before. Records edited alone are
caught by comparing them with their entries (test_record_check.py); the key itself
is tested in test_installation_key.py.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from ombud.cli.main import app
from ombud.kernel.ledger.tables import ledger_entries, ledger_head
from tests.factories import complete_details
from tests.ledger.intruder import (
    delete_and_reseal,
    entry_row,
    last_seq,
    reseal,
    stolen_key,
    take_checkpoint,
)


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
        after = entry_row(conn, seq)["after"]
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
    a, b = entry_row(conn, seq_a), entry_row(conn, seq_b)
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
        a_id = entry_row(conn, second)["id"]
        b_id = entry_row(conn, first)["id"]
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
        # Every process on one database needs its installation key.
        "OMBUD_LEDGER_KEY_FILE": str(tmp_path / "ledger.key"),
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
        after = entry_row(conn, seq)["after"]
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


# -- an intruder who can write the database (issue 13, item 4) --------------------------
#
# Re-sealing the chain (tests/ledger/intruder.py) is caught by the MACs, and with the
# stolen key by a checkpoint taken before.


def test_a_busy_ledger_and_its_records_verify_with_a_checkpoint(container, busy_ledger, tmp_path):
    cp = take_checkpoint(container, tmp_path)
    report = container.ledger.check([cp])
    assert report.ok, report
    assert report.chain.checked == busy_ledger["last"]
    [result] = report.checkpoints
    assert result.ok
    assert result.seq == busy_ledger["last"]
    assert report.records is not None
    assert report.records.checked > 20  # organisations, users, memberships, the system
    assert any(note.startswith("ai_system: risk level") for note in report.records.unchecked)


def test_deleting_an_entry_and_resealing_with_sha256_is_caught_by_mac_and_checkpoint(
    container, busy_ledger, tmp_path
):
    """The finding: delete an entry in the middle, recompute every later hash and the
    head. Before the MACs `ombud ledger verify` called that intact."""
    cp = take_checkpoint(container, tmp_path)
    gone = busy_ledger["update"]
    delete_and_reseal(container, gone)

    report = container.ledger.verify()
    assert not report.ok
    assert report.first_bad_seq == gone  # its right neighbour, renumbered into its place
    assert "MAC" in report.reason
    full = container.ledger.check([cp])
    assert not full.ok
    [result] = full.checkpoints
    assert not result.ok
    assert f"ends at #{busy_ledger['last'] - 1}" in result.reason


def test_deleting_entries_after_a_checkpoint_and_resealing_is_caught(
    container, busy_ledger, world, tmp_path
):
    cp = take_checkpoint(container, tmp_path)  # at #last
    for name in ("Second", "Third"):
        container.register.create(
            world["city-editor@example.org"], world.city.id, complete_details(name)
        )
    last = last_seq(container)
    delete_and_reseal(container, last - 1)

    full = container.ledger.check([cp])
    assert full.chain.first_bad_seq == last - 1
    [result] = full.checkpoints
    assert not result.ok
    assert f"breaks at #{last - 1}, after the checkpoint" in result.reason


def test_an_intruder_with_the_key_is_caught_by_a_checkpoint_taken_before(
    container, busy_ledger, tmp_path
):
    """MACs cannot stop the holder of the key; the checkpoint the oversight body keeps can."""
    cp = take_checkpoint(container, tmp_path)
    delete_and_reseal(container, busy_ledger["create"], key=stolen_key(container))
    assert container.ledger.verify().ok  # every MAC holds: the key made them
    [result] = container.ledger.check([cp]).checkpoints
    assert not result.ok
    assert "ends at" in result.reason


def test_reordering_and_resealing_is_caught_by_mac_and_with_the_key_by_checkpoint(
    container, busy_ledger, tmp_path
):
    cp = take_checkpoint(container, tmp_path)
    with container.engines.write.begin() as conn:
        by_seq = [
            r.id for r in conn.execute(select(ledger_entries.c.id).order_by(ledger_entries.c.seq))
        ]
    i, j = busy_ledger["create"] - 1, busy_ledger["transition"] - 1
    swapped = list(by_seq)
    swapped[i], swapped[j] = swapped[j], swapped[i]

    with container.engines.write.begin() as conn:
        reseal(conn, swapped)
    report = container.ledger.verify()
    assert (report.ok, report.first_bad_seq) == (False, busy_ledger["create"])
    assert "MAC" in report.reason

    with container.engines.write.begin() as conn:  # the same order, now with the key
        reseal(conn, key=stolen_key(container))
    assert container.ledger.verify().ok
    [result] = container.ledger.check([cp]).checkpoints
    assert not result.ok
    assert "re-sealed" in result.reason


def test_restoring_an_older_copy_of_the_ledger_is_caught_by_the_checkpoint(
    container, busy_ledger, tmp_path
):
    """Entries removed from the end and the head row put back as an older backup holds
    it: every MAC holds (they are genuine, only old); the checkpoint does not."""
    cp = take_checkpoint(container, tmp_path)
    keep = busy_ledger["transition"]
    with container.engines.write.begin() as conn:
        kept_hash = entry_row(conn, keep)["hash"]
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq > keep))
        # The head MAC the older backup carries (it was written then, with the key).
        old_mac = stolen_key(container).head_mac(keep, kept_hash)
        conn.execute(update(ledger_head).values(seq=keep, hash=kept_hash, mac=old_mac))
    assert container.ledger.verify().ok
    [result] = container.ledger.check([cp]).checkpoints
    assert not result.ok
    assert f"ends at #{keep}" in result.reason
    assert "older copy" in result.reason

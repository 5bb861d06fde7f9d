"""The installation key (made 0600, never in the database, never silently replaced),
set-up sealing the entries written before it, and checkpoints taken at an interval."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from ombud.bootstrap import bootstrap
from ombud.kernel.access import SYSTEM_PRINCIPAL
from ombud.kernel.errors import ConfigError, Conflict
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.kernel.ledger.tables import ledger_entries, ledger_head
from tests.conftest import make_settings
from tests.factories import complete_details
from tests.ledger.intruder import delete_and_reseal, entry_row, last_seq, sha256_seal, stolen_key

# -- the installation key ---------------------------------------------------------------


def _fresh_container(settings):
    """Another process on the same database and data directory (nothing cached)."""
    return bootstrap(settings, fast_password_hashing=True)


def test_the_key_is_made_0600_on_first_use_and_is_no_part_of_the_database(container, busy_ledger):
    path = container.settings.resolved_ledger_key_file
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"BEGIN PRIVATE KEY" in path.read_bytes()
    with container.engines.write.connect() as conn:
        macs = conn.execute(select(ledger_entries.c.mac)).scalars().all()
    assert len(macs) == busy_ledger["last"]
    assert all(m and len(m) == 64 for m in macs)


def test_a_key_others_may_read_is_refused(container, busy_ledger, settings, world):
    path = container.settings.resolved_ledger_key_file
    path.chmod(0o644)
    other = _fresh_container(settings)
    try:
        with pytest.raises(ConfigError, match=r"may be read by others \(mode 644\)"):
            other.ledger.verify()
        with pytest.raises(ConfigError, match="chmod 600"):
            other.register.create(
                world["city-editor@example.org"], world.city.id, complete_details("x")
            )
    finally:
        other.close()
    assert last_seq(container) == busy_ledger["last"]  # nothing was written


def test_a_key_file_that_is_not_a_key_is_refused(container, busy_ledger, settings):
    path = container.settings.resolved_ledger_key_file
    path.write_text("not a key\n")
    other = _fresh_container(settings)
    try:
        with pytest.raises(ConfigError, match="not an unencrypted Ed25519 private key"):
            other.ledger.verify()
    finally:
        other.close()


def test_a_missing_key_is_not_replaced_for_a_sealed_ledger(container, busy_ledger, settings, world):
    path = container.settings.resolved_ledger_key_file
    path.unlink()
    other = _fresh_container(settings)
    try:
        with pytest.raises(ConfigError, match="does not exist"):
            other.ledger.verify()
        with pytest.raises(ConfigError, match="will not make a new one"):
            other.register.create(
                world["city-editor@example.org"], world.city.id, complete_details("x")
            )
        with pytest.raises(ConfigError, match="will not make a new one"):
            other.migrations.upgrade(create_key=True)
    finally:
        other.close()
    assert not path.exists()


# -- set-up: entries from before the key ------------------------------------------------


def _strip_macs(container) -> None:
    with container.engines.write.begin() as conn:
        conn.execute(update(ledger_entries).values(mac=None))
        conn.execute(update(ledger_head).values(mac=None))


def test_set_up_seals_entries_written_before_the_key_once(container, busy_ledger, settings):
    """An installation from before the key (e.g. a demo database under ./var)."""
    _strip_macs(container)
    container.settings.resolved_ledger_key_file.unlink()
    other = _fresh_container(settings)
    try:
        done = other.migrations.upgrade()
        assert done is not None
        assert (done.key_created, done.sealed, done.warning) == (True, busy_ledger["last"], "")
        assert other.ledger.verify().ok
        [seal_entry] = other.ledger.list(SYSTEM_PRINCIPAL, LedgerFilter(action="seal")).items
        assert seal_entry.after["sealed_entries"] == busy_ledger["last"]
        assert other.migrations.upgrade().sealed == 0  # once
    finally:
        other.close()


def test_set_up_does_not_seal_a_broken_chain(container, busy_ledger, settings):
    _strip_macs(container)
    container.settings.resolved_ledger_key_file.unlink()
    with container.engines.write.begin() as conn:
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq == busy_ledger["update"]))
    other = _fresh_container(settings)
    try:
        done = other.migrations.upgrade()
        assert done.sealed == 0
        assert f"broken at entry #{busy_ledger['update'] + 1}" in done.warning
        assert not container.settings.resolved_ledger_key_file.exists()
    finally:
        other.close()


def test_macs_stripped_under_an_existing_key_are_not_sealed_again(container, busy_ledger, settings):
    """Re-sealed, then every MAC removed so it looks like an old installation: set-up
    does not bless it, because the key already existed."""
    delete_and_reseal(container, busy_ledger["update"])
    _strip_macs(container)
    other = _fresh_container(settings)
    try:
        done = other.migrations.upgrade(create_key=True)
        assert done.sealed == 0
        assert "were not sealed" in done.warning
        report = other.ledger.verify()
        assert (report.ok, report.first_bad_seq) == (False, 1)
        assert "no MAC" in report.reason
    finally:
        other.close()


# -- checkpoints at an interval -----------------------------------------------------------


def test_periodic_checkpoints_are_written_when_the_head_moved(
    container, busy_ledger, world, tmp_path
):
    directory = container.settings.resolved_ledger_checkpoint_dir
    first = container.ledger.checkpoint_if_moved()
    assert first is not None
    assert Path(first).parent == directory
    assert container.ledger.checkpoint_if_moved() is None  # the head did not move
    container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("New")
    )
    second = container.ledger.checkpoint_if_moved()
    assert second is not None
    assert second != first
    assert [p.name for p in sorted(directory.iterdir())] == [Path(first).name, Path(second).name]
    report = container.ledger.check([first, second])
    assert report.ok, report.checkpoints


def test_a_periodic_checkpoint_refuses_a_head_behind_the_newest(container, busy_ledger, tmp_path):
    container.ledger.checkpoint_if_moved()
    delete_and_reseal(container, busy_ledger["update"], key=stolen_key(container))
    with pytest.raises(ConfigError, match="behind the newest checkpoint"):
        container.ledger.checkpoint_if_moved()


def test_no_checkpoint_is_signed_for_a_head_moved_without_the_key(container, busy_ledger, tmp_path):
    delete_and_reseal(container, busy_ledger["update"])
    with pytest.raises(Conflict, match="does not carry a valid MAC"):
        container.ledger.write_checkpoint(str(tmp_path / "cp.json"))
    assert not (tmp_path / "cp.json").exists()


def test_an_entry_beyond_the_head_is_a_concurrent_write_only_if_the_key_made_it(
    container, busy_ledger
):
    """PostgreSQL reads each page of the walk afresh: an entry committed after the head
    was read is no failure, but one appended behind the head's back without the key is."""
    last = busy_ledger["last"]
    with container.engines.write.begin() as conn:
        row = entry_row(conn, last)
        extra = {**row, "seq": last + 1, "prev_hash": row["hash"], "actor": "someone"}
        del extra["id"]
        extra["hash"] = sha256_seal(extra, last + 1, row["hash"])
        extra["mac"] = stolen_key(container).entry_mac(extra["hash"])
        conn.execute(insert(ledger_entries).values(**extra))
    assert container.ledger.verify().ok  # as if written while verify ran
    with container.engines.write.begin() as conn:
        conn.execute(
            update(ledger_entries).where(ledger_entries.c.seq == last + 1).values(mac="0" * 64)
        )
    report = container.ledger.verify()
    assert (report.ok, report.first_bad_seq) == (False, last + 1)


def test_upgrading_an_installation_from_before_the_key_seals_its_ledger(tmp_path):
    """The path of an existing database (e.g. the demo under ./var): schema 0006 has no
    MAC columns; `ombud db upgrade` adds them, makes the key and seals the entries.
    SQLite only: the PostgreSQL test database is shared and stays at the newest schema."""
    c = bootstrap(make_settings(f"sqlite:///{tmp_path / 'old.db'}", tmp_path))
    try:
        c.migrations.upgrade("0006")
        with c.engines.write.begin() as conn:
            prev = "0" * 64
            for seq in (1, 2):
                row: dict[str, Any] = {
                    "at": datetime(2026, 5, seq, 9, 0),
                    "actor_id": None,
                    "actor": "old@example.org",
                    "action": "create",
                    "entity_type": "note",
                    "entity_id": str(seq),
                    "organisation_id": None,
                    "before": None,
                    "after": {"text": f"entry {seq}"},
                }
                digest = sha256_seal(row, seq, prev)
                conn.execute(
                    text(
                        "INSERT INTO ledger_entries (seq, at, actor, action, entity_type, "
                        "entity_id, after, prev_hash, hash) VALUES (:seq, :at, :actor, "
                        ":action, :entity_type, :entity_id, :after, :prev, :hash)"
                    ),
                    {
                        **row,
                        "seq": seq,
                        "after": json.dumps(row["after"]),
                        "prev": prev,
                        "hash": digest,
                    },
                )
                prev = digest
            conn.execute(text("UPDATE ledger_head SET seq = 2, hash = :h"), {"h": prev})
        done = c.migrations.upgrade(create_key=True)
        assert done is not None
        assert (done.key_created, done.sealed) == (True, 2)
        assert c.ledger.verify().ok
        assert c.ledger.verify().checked == 3  # and the entry saying it was sealed
    finally:
        c.close()

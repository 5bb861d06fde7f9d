"""Tampering with the stored ledger is found, on both databases, by the service and the CLI.

The tests edit the database behind ombud's back with SQLAlchemy, as an intruder
with database access would; the web and CLI layers never touch SQL. Since the
ledger stopped trusting its own database (issue 13, item 4), an intruder who
also recomputes the chain is caught by the MACs under the installation key, and
one who holds the key by a checkpoint taken before; records edited alone are
caught by comparing them with their entries.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from typer.testing import CliRunner

from ombud.accounts.tables import api_tokens, jurisdictions, memberships
from ombud.bootstrap import bootstrap
from ombud.cli.main import app
from ombud.kernel.access import SYSTEM_PRINCIPAL
from ombud.kernel.errors import ConfigError, Conflict
from ombud.kernel.ledger.domain import InstallationKey
from ombud.kernel.ledger.keys import LedgerKeyFile
from ombud.kernel.ledger.ports import LedgerFilter
from ombud.kernel.ledger.tables import ledger_entries, ledger_head
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState
from ombud.register.ports import SystemFilter
from ombud.register.tables import ai_systems
from tests.conftest import make_settings
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


# -- an intruder who can write the database (issue 13, item 4) --------------------------
#
# Written the way the security test did it: plain sha256 over the canonical JSON the
# module docstring of domain/ledger.py describes, SQL on the tables, nothing of ombud's
# own sealing code. ``key`` is for the intruder who also stole the installation key.


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256_seal(row: dict[str, Any], seq: int, prev: str) -> str:
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
        digest = _sha256_seal(content, seq, prev)
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
    with container.engines.write.begin() as conn:
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq.in_(seqs)))
        reseal(conn, key=key)


def stolen_key(container) -> InstallationKey:
    return LedgerKeyFile(container.settings.resolved_ledger_key_file).load()


def take_checkpoint(container, tmp_path: Path, name: str = "cp.json") -> str:
    path = str(tmp_path / name)
    container.ledger.write_checkpoint(path)
    return path


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
    last = _last_seq(container)
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
        kept_hash = _row(conn, keep)["hash"]
        conn.execute(delete(ledger_entries).where(ledger_entries.c.seq > keep))
        # The head MAC the older backup carries (it was written then, with the key).
        old_mac = stolen_key(container).head_mac(keep, kept_hash)
        conn.execute(update(ledger_head).values(seq=keep, hash=kept_hash, mac=old_mac))
    assert container.ledger.verify().ok
    [result] = container.ledger.check([cp]).checkpoints
    assert not result.ok
    assert f"ends at #{keep}" in result.reason
    assert "older copy" in result.reason


def test_a_record_edited_in_the_database_alone_is_named(container, busy_ledger, world):
    editor = world["city-editor@example.org"]
    [listing] = container.register.list(editor, SystemFilter(), 0, 10).items
    system_id = listing.system.id
    assert container.ledger.check().records.ok
    with container.engines.write.begin() as conn:
        conn.execute(
            update(ai_systems).where(ai_systems.c.id == system_id).values(name="Renamed quietly")
        )
    records = container.ledger.check().records
    assert not records.ok
    [m] = records.mismatches
    assert (m.entity_type, m.entity_id, m.field) == ("ai_system", str(system_id), "details.name")
    assert "'Renamed quietly'" in m.reason


@pytest.mark.parametrize(
    "change",
    [
        "lifecycle_stage",
        "membership_role",
        "membership_gone",
        "jurisdiction_added",
        "token_unrevoked",
        "system_inserted",
    ],
)
def test_other_records_changed_behind_the_ledgers_back_are_named(
    container, busy_ledger, world, change
):
    editor = world["city-editor@example.org"]
    token = container.accounts.create_token(editor, "ci")
    container.accounts.revoke_token(editor, token.record.id)
    city, agency, user_id = world.city.id, world.agency.id, editor.user_id
    [listing] = container.register.list(editor, SystemFilter(), 0, 10).items
    system_id = listing.system.id
    with container.engines.write.begin() as conn:
        if change == "lifecycle_stage":
            conn.execute(update(ai_systems).values(lifecycle_stage="retired"))
            expected = ("ai_system", str(system_id), "lifecycle_stage")
        elif change == "membership_role":
            conn.execute(
                update(memberships)
                .where(memberships.c.user_id == user_id, memberships.c.organisation_id == city)
                .values(role="admin")
            )
            expected = ("membership", f"{city}:{user_id}", "role")
        elif change == "membership_gone":
            conn.execute(delete(memberships).where(memberships.c.user_id == user_id))
            expected = ("membership", f"{city}:{user_id}", "")
        elif change == "jurisdiction_added":
            conn.execute(
                insert(jurisdictions).values(
                    oversight_id=world.oversight.id, organisation_id=agency
                )
            )
            expected = ("jurisdiction", f"{world.oversight.id}:{agency}", "")
        elif change == "token_unrevoked":
            conn.execute(update(api_tokens).values(revoked_at=None))
            expected = ("api_token", str(token.record.id), "revoked")
        else:
            row = dict(conn.execute(select(ai_systems)).one()._mapping)
            del row["id"]
            new_id = conn.execute(
                insert(ai_systems).values(**row).returning(ai_systems.c.id)
            ).scalar_one()
            expected = ("ai_system", str(new_id), "")
    records = container.ledger.check().records
    assert [(m.entity_type, m.entity_id, m.field) for m in records.mismatches] == [expected]


def test_the_demo_data_matches_its_ledger_entries(container):
    """Every kind of record the services make, as the services make it: no mismatch
    that would only be the record check misreading the entries."""
    container.demo.load()
    report = container.ledger.check()
    assert report.chain.ok
    assert report.records.checked > 150
    assert report.records.mismatches == ()


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
    assert _last_seq(container) == busy_ledger["last"]  # nothing was written


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
        row = _row(conn, last)
        extra = {**row, "seq": last + 1, "prev_hash": row["hash"], "actor": "someone"}
        del extra["id"]
        extra["hash"] = _sha256_seal(extra, last + 1, row["hash"])
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
                digest = _sha256_seal(row, seq, prev)
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

"""`ombud ledger checkpoint`, `verify --checkpoint`, `public-key` and the key at set-up,
run in-process on both test databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from ombud.cli.main import app
from ombud.register.tables import ai_systems
from tests.factories import complete_details
from tests.ledger.test_tamper import delete_and_reseal, stolen_key


@pytest.fixture
def ombud(container, database_url: str, tmp_path: Path):
    """Run `ombud ARGS...` as another process on the same database and key would."""
    env = {
        "OMBUD_DATABASE_URL": database_url,
        "OMBUD_ENV": "test",
        "OMBUD_DATA_DIR": str(tmp_path / "cli-data"),
        "OMBUD_LEDGER_KEY_FILE": str(container.settings.resolved_ledger_key_file),
    }
    runner = CliRunner(env=env)

    def run(*args: str):
        result = runner.invoke(app, list(args))
        result.flat = " ".join(result.output.split())
        return result

    return run


@pytest.fixture
def registered(container, world) -> int:
    editor = world["city-editor@example.org"]
    system = container.register.create(editor, world.city.id, complete_details())
    container.register.update(editor, system.id, complete_details(vendor="Acme Analytics"))
    return system.id


def _seq_of_last(container) -> int:
    head = container.ledger.check(records=False).chain.checked
    return head


def test_checkpoint_then_verify_with_it_succeeds(ombud, container, registered, tmp_path):
    cp = tmp_path / "head.json"
    result = ombud("ledger", "checkpoint", "-o", str(cp))
    assert result.exit_code == 0, result.output
    last = _seq_of_last(container)
    assert f"entry #{last} written to" in result.flat
    data = json.loads(cp.read_text())
    assert (data["seq"], data["format"]) == (last, "ombud-ledger-checkpoint/1")

    result = ombud("ledger", "verify", "--checkpoint", str(cp))
    assert result.exit_code == 0, result.output
    assert f"OK: {last} entries, chain intact, every MAC holds" in result.flat
    assert f"(entry #{last}): OK" in result.flat
    assert "each as its ledger entries say" in result.flat
    assert "not checked, ai_system: risk level" in result.flat


def test_verify_with_a_checkpoint_catches_a_chain_resealed_by_an_intruder(
    ombud, container, registered, tmp_path
):
    """The finding's reproduction: delete, recompute sha256 and the head. Exit 1."""
    cp = tmp_path / "head.json"
    assert ombud("ledger", "checkpoint", "-o", str(cp)).exit_code == 0
    last = _seq_of_last(container)
    delete_and_reseal(container, last - 1)
    result = ombud("ledger", "verify", "--checkpoint", str(cp))
    assert result.exit_code == 1, result.output
    assert f"BROKEN at entry #{last - 1}: its MAC does not hold" in result.flat
    assert "FAILED" in result.flat
    assert "chain intact" not in result.flat


def test_verify_with_a_checkpoint_catches_an_intruder_holding_the_key(
    ombud, container, registered, tmp_path
):
    cp = tmp_path / "head.json"
    assert ombud("ledger", "checkpoint", "-o", str(cp)).exit_code == 0
    last = _seq_of_last(container)
    delete_and_reseal(container, 3, key=stolen_key(container))
    # Every MAC holds (the key made them); the record the removed entry created now has
    # no entry, which the record check names; the checkpoint catches it regardless.
    assert ombud("ledger", "verify", "--no-records").exit_code == 0
    assert "RECORD MISMATCH" in ombud("ledger", "verify").flat
    result = ombud("ledger", "verify", "-c", str(cp), "--no-records")
    assert result.exit_code == 1, result.output
    assert f"(entry #{last}): FAILED: the ledger now ends at #{last - 1}" in result.flat


def test_verify_names_a_record_edited_in_the_database_alone(ombud, container, registered):
    with container.engines.write.begin() as conn:
        conn.execute(update(ai_systems).values(vendor="Someone else"))
    result = ombud("ledger", "verify")
    assert result.exit_code == 1, result.output
    assert "chain intact" in result.flat  # the ledger itself is fine
    assert f"RECORD MISMATCH ai_system {registered}: details.vendor:" in result.flat
    assert "'Someone else'" in result.flat
    assert ombud("ledger", "verify", "--no-records").exit_code == 0


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist"),
        ("{not json", "is not an ombud ledger checkpoint: it is not JSON"),
        ('{"format": "ombud-ledger-checkpoint/1"}', "it has no 'key_id'"),
    ],
)
def test_a_bad_checkpoint_file_is_one_clear_line(
    ombud, container, registered, tmp_path, content, says
):
    path = tmp_path / "cp.json"
    if content is not None:
        path.write_text(content)
    result = ombud("ledger", "verify", "--checkpoint", str(path))
    assert result.exit_code == 2, result.output
    assert says in result.flat
    assert "Traceback" not in result.output
    assert result.output.count("error:") == 1


def test_an_altered_checkpoint_fails_its_signature(ombud, container, registered, tmp_path):
    cp = tmp_path / "head.json"
    assert ombud("ledger", "checkpoint", "-o", str(cp)).exit_code == 0
    data = json.loads(cp.read_text())
    data["seq"] -= 1  # claim an earlier head
    cp.write_text(json.dumps(data))
    result = ombud("ledger", "verify", "--checkpoint", str(cp))
    assert result.exit_code == 1
    assert "its signature does not hold" in result.flat


def test_public_key_checks_checkpoints_elsewhere_and_another_key_is_named(
    ombud, container, registered, tmp_path
):
    result = ombud("ledger", "public-key")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("-----BEGIN PUBLIC KEY-----")
    pem = tmp_path / "installation.pem"
    pem.write_text(result.output)
    cp = tmp_path / "head.json"
    cp.write_text(ombud("ledger", "checkpoint", "-o", "-").output)
    assert ombud("ledger", "verify", "-c", str(cp), "--public-key", str(pem)).exit_code == 0

    other = tmp_path / "other.pem"
    other.write_text(
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
        "-----END PUBLIC KEY-----\n"
    )
    result = ombud("ledger", "verify", "-c", str(cp), "--public-key", str(other))
    assert result.exit_code == 1
    assert "not by" in result.flat

    result = ombud("ledger", "verify", "-c", str(cp), "--public-key", str(tmp_path / "none.pem"))
    assert result.exit_code == 2
    assert "Public key file" in result.flat
    assert "Traceback" not in result.output


def test_verify_refuses_a_key_others_may_read(ombud, container, registered):
    container.settings.resolved_ledger_key_file.chmod(0o640)
    result = ombud("ledger", "verify")
    assert result.exit_code == 78, result.output
    assert "may be read by others (mode 640)" in result.flat
    assert "Traceback" not in result.output


def test_db_upgrade_makes_the_key_at_set_up(container, database_url, tmp_path):
    key = tmp_path / "set-up" / "ledger.key"
    env = {
        "OMBUD_DATABASE_URL": database_url,
        "OMBUD_ENV": "test",
        "OMBUD_DATA_DIR": str(tmp_path / "cli-data"),
        "OMBUD_LEDGER_KEY_FILE": str(key),
    }
    result = CliRunner(env=env).invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "ledger installation key created" in " ".join(result.output.split())
    assert key.stat().st_mode & 0o777 == 0o600
    first = key.read_bytes()
    again = CliRunner(env=env).invoke(app, ["db", "upgrade"])
    assert again.exit_code == 0, again.output
    assert "key created" not in again.output
    assert key.read_bytes() == first  # never overwritten

"""The `ombud` command line, run in-process against the test databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ombud.cli.main import app
from ombud.kernel.access import SYSTEM_PRINCIPAL, OrganisationKind, Role
from ombud.kernel.errors import NotFound
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import PublicationState
from tests.factories import complete_details, sign_current_assessments


@pytest.fixture
def ombud(container, database_url: str, tmp_path: Path):
    """Run `ombud ARGS...` on the test database; the output has its line wraps undone."""
    env = {
        "OMBUD_DATABASE_URL": database_url,
        "OMBUD_ENV": "test",
        "OMBUD_DATA_DIR": str(tmp_path / "cli-data"),
        # The same installation key as the container: one ledger, one key.
        "OMBUD_LEDGER_KEY_FILE": str(container.settings.resolved_ledger_key_file),
    }
    runner = CliRunner(env=env)

    def run(*args: str):
        result = runner.invoke(app, list(args))
        result.flat = " ".join(result.output.replace("│", " ").split())
        return result

    return run


def test_db_current_shows_the_revision_and_the_head(ombud, container):
    result = ombud("db", "current")
    assert result.exit_code == 0, result.output
    head = container.migrations.head()
    assert f"current: {head}" in result.flat
    assert f"head: {head}" in result.flat


def test_org_create_makes_an_organisation(ombud, container):
    result = ombud(
        "org", "create", "Region of Norrbacka", "--kind", "public_authority", "--country", "se"
    )
    assert result.exit_code == 0, result.output
    assert "region-of-norrbacka" in result.flat
    org = container.accounts.get_organisation("region-of-norrbacka")
    assert (org.name, org.kind, org.country) == (
        "Region of Norrbacka",
        OrganisationKind.PUBLIC_AUTHORITY,
        "SE",
    )


def test_org_create_with_an_unknown_kind_names_the_option(ombud, container):
    result = ombud("org", "create", "Nowhere", "--kind", "ministry")
    assert result.exit_code == 2
    assert "--kind" in result.flat
    assert "public_authority" in result.flat  # the choices are shown
    assert container.accounts.list_organisations() == []


def test_org_create_with_a_taken_slug_is_a_conflict(ombud, container):
    assert ombud("org", "create", "Twin", "--kind", "private_actor").exit_code == 0
    result = ombud("org", "create", "Twin", "--kind", "private_actor")
    assert result.exit_code == 5
    assert "twin" in result.flat
    assert "Traceback" not in result.output


def test_user_create_with_an_organisation_and_a_role(ombud, container):
    container.accounts.create_organisation(
        SYSTEM_PRINCIPAL, "City of Lindholm", OrganisationKind.PUBLIC_AUTHORITY
    )
    result = ombud(
        "user",
        "create",
        "Anna@Lindholm.example",
        "--password",
        "a long enough passphrase",
        "--org",
        "city-of-lindholm",
        "--role",
        "editor",
    )
    assert result.exit_code == 0, result.output
    assert "anna@lindholm.example" in result.flat
    principal = container.accounts.login("anna@lindholm.example", "a long enough passphrase")
    org = container.accounts.get_organisation("city-of-lindholm")
    assert principal.principal.role_in(org.id) is Role.EDITOR


def test_user_create_with_an_unknown_organisation_creates_nothing(ombud, container):
    result = ombud(
        "user", "create", "orphan@example.org", "--password", "x" * 12, "--org", "no-such-org"
    )
    assert result.exit_code == 4
    assert "no-such-org" in result.flat
    with pytest.raises(NotFound):
        container.accounts.principal_for_email("orphan@example.org")


def test_user_create_with_a_weak_password_names_the_password(ombud, container):
    result = ombud("user", "create", "weak@example.org", "--password", "short")
    assert result.exit_code == 2
    assert "password" in result.flat
    assert "12 characters" in result.flat
    with pytest.raises(NotFound):
        container.accounts.principal_for_email("weak@example.org")


def test_user_create_with_an_unknown_role_names_the_option(ombud):
    result = ombud("user", "create", "x@example.org", "--password", "x" * 12, "--role", "boss")
    assert result.exit_code == 2
    assert "--role" in result.flat


def test_org_oversee_grants_and_revokes_jurisdiction(ombud, container, world):
    result = ombud("org", "oversee", world.oversight.slug, world.agency.slug)
    assert result.exit_code == 0, result.output
    overseen, _ = container.accounts.jurisdiction(world.oversight.slug)
    assert {o.slug for o in overseen} == {world.city.slug, world.agency.slug}

    result = ombud("org", "oversee", world.oversight.slug, world.agency.slug, "--revoke")
    assert result.exit_code == 0, result.output
    overseen, _ = container.accounts.jurisdiction(world.oversight.slug)
    assert {o.slug for o in overseen} == {world.city.slug}


def test_org_oversee_refuses_an_operator_as_overseer(ombud, container, world):
    result = ombud("org", "oversee", world.agency.slug, world.city.slug)
    assert result.exit_code == 2
    assert "only oversight bodies and parliaments" in result.flat
    assert container.accounts.jurisdiction(world.agency.slug)[0] == []


def test_systems_list_public_json_shows_published_systems_only(ombud, container, world):
    admin = world["city-admin@example.org"]
    reg = container.register
    published = reg.create(admin, world.city.id, complete_details("Street light dimming"))
    reg.set_publication(admin, published.id, PublicationState.PUBLISHED)
    reg.create(admin, world.city.id, complete_details("Secret draft"))

    result = ombud("systems", "list", "--public", "--json")

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [(r["id"], r["name"], r["publication_state"]) for r in lines] == [
        (published.id, "Street light dimming", "published")
    ]
    assert lines[0]["organisation"] == world.city.name
    assert "Secret draft" not in result.output


def test_systems_list_as_a_member_shows_their_drafts_but_not_others(ombud, container, world):
    reg = container.register
    reg.create(world["city-admin@example.org"], world.city.id, complete_details("Mine"))
    reg.create(world["agency-admin@example.org"], world.agency.id, complete_details("Theirs"))
    result = ombud("systems", "list", "--as", "city-viewer@example.org", "--json")
    assert result.exit_code == 0, result.output
    names = [json.loads(line)["name"] for line in result.stdout.splitlines() if line.strip()]
    assert names == ["Mine"]


def test_systems_transition_refused_by_the_gate_shows_the_gate_message(ombud, container, world):
    editor = world["city-editor@example.org"]
    system = container.register.create(
        editor, world.city.id, complete_details(legal_basis=""), LifecycleStage.TESTING
    )
    result = ombud(
        "systems",
        "transition",
        str(system.id),
        "deployment",
        "--reason",
        "Go live",
        "--as",
        editor.email,
    )
    assert result.exit_code == 2
    assert "Legal basis must be filled in before deployment or use." in result.flat
    assert "coe-fc:14.2.b" in result.flat
    assert "legal_basis" in result.flat  # the field is named
    assert container.register.get(editor, system.id).system.lifecycle_stage is (
        LifecycleStage.TESTING
    )


def test_systems_transition_succeeds_when_the_record_is_complete(ombud, container, world):
    editor = world["city-editor@example.org"]
    system = container.register.create(
        editor, world.city.id, complete_details(), LifecycleStage.TESTING
    )
    sign_current_assessments(
        container,
        world["city-assessor@example.org"],
        world["city-approver@example.org"],
        system.id,
    )
    result = ombud(
        "systems",
        "transition",
        str(system.id),
        "deployment",
        "--reason",
        "Go",
        "--as",
        editor.email,
    )
    assert result.exit_code == 0, result.output
    assert "Deployment" in result.flat
    assert container.register.get(editor, system.id).system.lifecycle_stage is (
        LifecycleStage.DEPLOYMENT
    )


def test_systems_transition_by_a_viewer_is_forbidden(ombud, container, world):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details()
    )
    result = ombud(
        "systems",
        "transition",
        str(system.id),
        "design",
        "--reason",
        "Go",
        "--as",
        "city-viewer@example.org",
    )
    assert result.exit_code == 3
    assert "may not" in result.flat


def test_incidents_record_list_export_import_resolve(ombud, container, world, tmp_path):
    system = container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details("Ask Lindholm")
    )
    as_editor = ("--as", "city-editor@example.org")
    missing_summary = ombud(
        "incidents", "record", "--system", str(system.id), "--title", "Export open",
        "--category", "security", "--severity", "serious", "--harm", "List readable.", *as_editor,
    )  # fmt: skip
    assert missing_summary.exit_code != 0
    assert "public_summary" in missing_summary.flat
    bad_date = ombud(
        "incidents", "record", "--system", str(system.id), "--title", "Export open",
        "--category", "security", "--severity", "low", "--harm", "x", "--occurred", "18/10",
        *as_editor,
    )  # fmt: skip
    assert bad_date.exit_code != 0
    assert "--occurred '18/10': give a date as YYYY-MM-DD" in bad_date.flat
    recorded = ombud(
        "incidents", "record", "--system", str(system.id), "--title", "Export open",
        "--category", "security", "--severity", "low", "--harm", "List readable.",
        "--occurred", "2026-10-18", *as_editor,
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    listed = ombud("incidents", "list", *as_editor)
    assert "Export open" in listed.flat
    assert "1 incidents" in listed.flat
    assert "Export open" not in ombud("incidents", "list", "--as", "agency-admin@example.org").flat
    exported = ombud("incidents", "export", str(system.id), "--format", "avid", *as_editor)
    assert json.loads(exported.stdout)[0]["impact"]["avid"]["risk_domain"] == ["Security"]
    path = tmp_path / "avid.json"
    path.write_text(exported.stdout)
    again = ombud(
        "incidents", "import", str(system.id), str(path), "--format", "avid", "--severity", "low",
        *as_editor,
    )  # fmt: skip
    assert "imported 0; skipped 1" in again.flat
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    bad = ombud("incidents", "import", str(system.id), str(broken), "--severity", "low", *as_editor)
    assert bad.exit_code != 0
    assert "not valid JSON" in bad.flat
    incident_id = container.incidents.for_system(world["city-editor@example.org"], system.id)[0].id
    refused = ombud("incidents", "resolve", str(incident_id), *as_editor)
    assert refused.exit_code != 0
    assert "root cause" in refused.flat

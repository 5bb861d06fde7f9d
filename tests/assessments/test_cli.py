"""`ombud assess`: templates, run from an answers file (errors with file and line), sign."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ombud.cli.main import app
from tests.factories import complete_details

runner = CliRunner()


@pytest.fixture
def env(database_url, tmp_path):
    return {"OMBUD_DATABASE_URL": database_url, "OMBUD_DATA_DIR": str(tmp_path)}


@pytest.fixture
def system(container, world):
    return container.register.create(
        world["city-editor@example.org"], world.city.id, complete_details()
    )


def test_templates_are_listed(env):
    result = runner.invoke(app, ["assess", "templates"], env=env)
    assert result.exit_code == 0
    assert "Human rights, democracy" in result.output


def test_a_bad_answer_names_the_file_line_and_question(env, system, tmp_path):
    answers = tmp_path / "screening.yaml"
    answers.write_text("use_description: Ranking claims\nbiometrics: perhaps\n")
    result = runner.invoke(
        app,
        [
            "assess",
            "run",
            str(system.id),
            "red-line-screening",
            "--answers",
            str(answers),
            "--as",
            "city-assessor@example.org",
        ],
        env=env,
    )
    assert result.exit_code == 2, result.output
    assert "screening.yaml:2:" in result.output
    assert "biometrics" in result.output


def test_a_broken_answers_file_is_refused_before_anything_is_created(
    env, system, tmp_path, container, world
):
    answers = tmp_path / "broken.yaml"
    answers.write_text("use_description: [unclosed\n")
    result = runner.invoke(
        app,
        [
            "assess",
            "run",
            str(system.id),
            "red-line-screening",
            "--answers",
            str(answers),
            "--as",
            "city-assessor@example.org",
        ],
        env=env,
    )
    assert result.exit_code == 2
    assert "broken.yaml:" in result.output
    assert container.assessments.for_system(world["city-assessor@example.org"], system.id) == []


def test_run_submit_and_sign_from_the_command_line(env, system, tmp_path):
    answers = tmp_path / "screening.yaml"
    answers.write_text(
        "answers:\n"
        "  use_description: Ranking benefit claims for review\n"
        "  biometrics: 'no'\n"
        "  practices: [none]\n"
        "  impossible_to_comply: 'no'\n"
        "  undue_risk: 'no'\n"
        "  state_measure: none\n"
        "  incompatible_use: 'no'\n"
        "  reasoning: A person reviews every flag; no practice named in the texts applies.\n"
    )
    result = runner.invoke(
        app,
        [
            "assess",
            "run",
            str(system.id),
            "urn:ombud:template:red-line-screening",
            "--answers",
            str(answers),
            "--submit",
            "--as",
            "city-assessor@example.org",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "submitted" in result.output
    assessment_id = result.output.split("Assessment ", 1)[1].split()[0]
    refused = runner.invoke(
        app, ["assess", "sign", assessment_id, "--as", "city-assessor@example.org"], env=env
    )
    assert refused.exit_code == 3
    signed = runner.invoke(
        app,
        [
            "assess",
            "sign",
            assessment_id,
            "--review",
            "2027-11-23",
            "--as",
            "city-approver@example.org",
        ],
        env=env,
    )
    assert signed.exit_code == 0, signed.output
    assert "content sha256" in signed.output
    shown = runner.invoke(
        app,
        ["assess", "show", assessment_id, "--json", "--as", "oversight-viewer@example.org"],
        env=env,
    )
    assert '"status": "signed"' in shown.stdout


def test_report_export(env, system, tmp_path, container, world):
    a = container.assessments.start(
        world["city-assessor@example.org"], system.id, "urn:ombud:template:red-line-screening"
    )
    target = tmp_path / "report.pdf"
    result = runner.invoke(
        app,
        ["assess", "report", str(a.id), "-o", str(target), "--as", "city-viewer@example.org"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF")
    html = tmp_path / "report.html"
    runner.invoke(
        app,
        ["assess", "report", str(a.id), "-o", str(html), "--as", "city-viewer@example.org"],
        env=env,
    )
    assert "Red-line screening" in html.read_text()
    bad = runner.invoke(
        app,
        [
            "assess",
            "report",
            str(a.id),
            "-o",
            str(tmp_path / "r.doc"),
            "--as",
            "city-viewer@example.org",
        ],
        env=env,
    )
    assert bad.exit_code == 2
    assert "must end in .pdf or .html" in " ".join(bad.output.split())

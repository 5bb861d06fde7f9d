"""`ombud audit run`: the JSON document, the terminal table and one-line errors (exit 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from ombud.audits.cli import audit_app

GROUP_FIELDS = {
    "attributes",
    "missing",
    "count",
    "share",
    "suppressed",
    "reference",
    "base_rate",
    "selection_rate",
    "tpr",
    "fpr",
    "fnr",
    "tnr",
    "ppv",
    "npv",
    "accuracy",
    "confusion",
    "intervals",
    "grouping",
}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    rng = np.random.default_rng(2)
    n = 5000
    sex = rng.choice(["female", "male"], n)
    origin = rng.choice(["local", "EU", "non-EU"], n, p=[0.7, 0.2, 0.1]).astype(object)
    origin[:20] = None
    label = (rng.random(n) < 0.3).astype(np.int8)
    score = np.clip(rng.normal(0.35 + 0.3 * label + 0.15 * (origin == "non-EU"), 0.2), 0, 1)
    path = tmp_path_factory.mktemp("cli") / "decisions.parquet"
    pq.write_table(
        pa.table(
            {
                "sex": sex,
                "origin": pa.array(origin, pa.string()),
                "fraud": label,
                "flagged": (score >= 0.6).astype(np.int8),
                "risk": score,
                "note": rng.choice(["x", "y"], n),
            }
        ),
        path,
    )
    return path


@pytest.fixture
def ombud():
    """Run `ombud audit ...` as the lead wires it into the main app."""
    app = typer.Typer()
    app.add_typer(audit_app, name="audit")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["audit", *args])

    return run


def test_the_json_document_has_every_documented_field(ombud, data, tmp_path):
    out = tmp_path / "audit.json"
    result = ombud(
        "run", str(data), "--label", "fraud", "--prediction", "flagged",
        "-g", "sex", "-g", "origin", "--intersect", "--json", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text("utf-8"))
    assert doc["schema_version"] == "1.1"
    assert doc["rows"] == 5000
    (file,) = doc["data"]["files"]
    assert file["path"] == str(data)
    assert re.fullmatch(r"[0-9a-f]{64}", file["sha256"])
    assert doc["parameters"]["groups"] == ["sex", "origin"]
    assert doc["parameters"]["min_group_size"] == 30
    assert doc["engine"]["name"] == "ombud-arrow"
    assert doc["engine"]["version"]
    assert [g["attributes"] for g in doc["groupings"]] == [["sex"], ["origin"], ["sex", "origin"]]
    for g in doc["groups"]:
        assert set(g) >= GROUP_FIELDS, set(g) ^ GROUP_FIELDS
        assert set(g["intervals"]) >= {"selection_rate", "tpr", "fpr", "ppv", "share"}
    missing = [g for g in doc["groups"] if g["grouping"] == ["origin"] and g["missing"]]
    assert missing[0]["attributes"] == {"origin": "(missing)"}
    assert missing[0]["count"] == 20
    assert missing[0]["suppressed"] is True
    both = [g for g in doc["groups"] if g["grouping"] == ["sex", "origin"]]
    assert all(set(g["attributes"]) == {"sex", "origin"} for g in both)
    d = doc["disparities"][0]
    assert {"metric", "criteria", "ratio", "difference", "difference_interval"} <= set(d)
    assert {d["metric"] for d in doc["disparities"]} == {"selection_rate", "tpr", "fpr", "ppv"}


def test_one_named_intersection(ombud, data, tmp_path):
    out = tmp_path / "one.json"
    result = ombud(
        "run", str(data), "--label", "fraud", "--prediction", "flagged", "-g", "sex",
        "-g", "origin", "-g", "note", "--intersection", "origin,sex", "--json", str(out),
        "--no-hash",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text("utf-8"))
    assert [g["attributes"] for g in doc["groupings"]] == [
        ["sex"], ["origin"], ["note"], ["sex", "origin"]
    ]  # fmt: skip


def test_the_terminal_shows_a_table_per_grouping(ombud, data):
    result = ombud(
        "run", str(data), "--label", "fraud", "--score", "risk", "--threshold", "0.6",
        "-g", "origin", "--reference", "origin=local", "--no-hash",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "5,000 rows" in result.output
    assert "origin — reference local (given)" in result.output
    assert "non-EU" in result.output
    assert "suppressed" in result.output
    assert "AUC" in result.output


def test_json_to_stdout_and_an_html_report(ombud, data, tmp_path):
    page = tmp_path / "report.html"
    result = ombud(
        "run", str(data), "--label", "fraud", "--prediction", "flagged", "-g", "sex",
        "--json", "-", "--html", str(page), "--filter", "origin = 'EU'", "--no-hash",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["parameters"]["filter"] == "origin = 'EU'"
    assert doc["rows"] < doc["data"]["rows_scanned"] == 5000
    text = page.read_text("utf-8")
    assert "<table>" in text
    assert "female" in text


def test_representation_from_a_yaml_population(ombud, data, tmp_path):
    population = tmp_path / "population.yaml"
    population.write_text("origin:\n  local: 0.6\n  EU: 0.25\n  non-EU: 0.15\n", "utf-8")
    out = tmp_path / "a.json"
    result = ombud(
        "run", str(data), "--label", "fraud", "--prediction", "flagged", "-g", "origin",
        "--population", str(population), "--proxies", "2", "--json", str(out), "--no-hash",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text("utf-8"))
    rep = {r["value"]: r for r in doc["representation"]}
    assert rep["non-EU"]["expected"] == 0.15
    assert [p["column"] for p in doc["proxies"]][:1] == ["risk"]  # the score leaks origin


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-g", "gender"], "Unknown column 'gender' (--group)"),
        (["-g", "sex", "--filter", "sex ="], "--filter 'sex =' is not a valid SQL condition"),
        (["-g", "sex", "--filter", "sex = 'nobody'"], "leaves no rows"),
        (["-g", "sex", "--reference", "sex"], "write it as COLUMN=VALUE"),
        (["-g", "sex", "--prediction", "risk"], "prediction column 'risk' is not binary"),
    ],
)
def test_errors_are_one_line_naming_the_column_or_expression_with_exit_2(
    ombud, data, args, message
):
    base = ["run", str(data), "--label", "fraud", "--no-hash"]
    if "--prediction" not in args:
        base += ["--prediction", "flagged"]
    result = ombud(*base, *args)
    assert result.exit_code == 2, result.output
    flat = " ".join(result.output.split())  # the console wraps long lines at its width
    assert flat.startswith("error: "), result.output
    assert flat.count("error:") == 1, result.output
    assert message in flat
    assert "Traceback" not in flat


def test_a_non_binary_label_is_refused(ombud, data):
    result = ombud("run", str(data), "--label", "risk", "--prediction", "flagged", "-g", "sex")
    assert result.exit_code == 2
    assert "label column 'risk' is not binary" in result.output


def test_score_without_threshold_names_the_option(ombud, data):
    result = ombud("run", str(data), "--label", "fraud", "--score", "risk", "-g", "sex")
    assert result.exit_code == 2
    assert "--threshold" in result.output


def test_a_broken_population_file_is_named(ombud, data, tmp_path):
    population = tmp_path / "population.yaml"
    population.write_text("origin: [unclosed\n", "utf-8")
    result = ombud(
        "run", str(data), "--label", "fraud", "--prediction", "flagged", "-g", "origin",
        "--population", str(population),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "population.yaml:2: not valid YAML" in " ".join(result.output.split())


def test_monitoring_windows_alerts_and_exit_code(ombud, tmp_path):
    from tests.audits.test_runs import write_timed

    data = write_timed(tmp_path / "timed.parquet")
    base = ["run", str(data), "--label", "label", "--prediction", "pred", "--group", "group",
            "--reference", "group=A", "--time", "at", "--window", "month"]  # fmt: skip
    out = tmp_path / "m.json"
    ok = ombud(*base, "--alert", "FPR ratio outside [0.8, 1.25]", "--json", str(out))
    assert ok.exit_code == 0, ok.output
    assert "alert FPR ratio outside [0.8, 1.25]: group=B in 2026-03" in " ".join(ok.output.split())
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == "1.1"
    assert doc["windows"]["labels"] == ["2026-01", "2026-02", "2026-03"]
    failed = ombud(*base, "--alert", "FPR ratio outside [0.8, 1.25]", "--fail-on-alert")
    assert failed.exit_code == 3
    quiet = ombud(*base, "--alert", "FPR ratio outside [0.1, 10]", "--fail-on-alert")
    assert quiet.exit_code == 0
    broken = ombud(*base, "--alert", "fpr ratio outside [2, 1]")
    assert broken.exit_code != 0
    assert "Alert rule 'fpr ratio outside [2, 1]': [2.0, 1.0] is empty." in broken.output
    no_window = ombud(
        "run", str(data), "--label", "label", "--prediction", "pred", "--group", "group",
        "--alert", "fpr ratio below 0.8",
    )  # fmt: skip
    assert "Alert rules need a time window" in no_window.output
    bad_window = ombud(*base[:-1], "fortnight")
    assert "--window 'fortnight': use one of day, week, month, quarter, year" in bad_window.output
    bad_time = ombud(*[a if a != "at" else "label" for a in base])
    assert bad_time.exit_code != 0
    assert "--time label is already an outcome or a --group" in " ".join(bad_time.output.split())
    numbers = tmp_path / "numbers.parquet"
    table = pq.read_table(data)
    pq.write_table(table.append_column("day_no", pa.array(range(table.num_rows))), numbers)
    not_times = ombud(*[str(numbers) if a == str(data) else "day_no" if a == "at" else a
                        for a in base])  # fmt: skip
    assert not_times.exit_code != 0
    assert "--time day_no holds int64: give a timestamp, date or ISO date text" in " ".join(
        not_times.output.split()
    )

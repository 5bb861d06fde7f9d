"""`--engine spark`: the same audit on a local Spark session (through Ibis) gives the
same document as the Arrow engine: every count identical, floating-point sums equal
to within summation order. One Spark session serves the module (all on one xdist
worker); it binds to 127.0.0.1.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from ombud.audits.analysis import AuditService
from ombud.audits.cli import audit_app
from ombud.audits.domain.metrics import MISSING
from ombud.audits.domain.request import AuditRequest
from ombud.audits.engine import ArrowAuditEngine, HtmlAuditReport
from ombud.audits.engine.spark import SparkAuditEngine
from ombud.kernel.errors import Invalid

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]

FLOAT_TOL = 1e-12
ARROW = AuditService(ArrowAuditEngine(batch_rows=1500), HtmlAuditReport())
SPARK = AuditService(SparkAuditEngine(), HtmlAuditReport())


def data(seed: int = 5, n: int = 6000) -> pd.DataFrame:
    """Unicode and NULL attribute values, a tiny group, an all-positive group, times that
    cross ISO-week and year boundaries, a numeric and a text proxy."""
    rng = np.random.default_rng(seed)
    origin = rng.choice(
        ["Sverige", "EU/EES", "utanför EU", "日本"], size=n, p=[0.6, 0.2, 0.15, 0.05]
    )
    origin = origin.astype(object)
    origin[rng.random(n) < 0.04] = None
    sex = rng.choice(["f", "m"], size=n)
    label = (rng.random(n) < 0.3 + 0.1 * (origin == "utanför EU")).astype(np.int8)
    score = np.clip(rng.normal(0.3 + 0.35 * label + 0.1 * (origin == "EU/EES"), 0.2), 0, 1)
    start = np.datetime64("2024-12-20T00:00:00")
    decided = start + (rng.integers(0, 120 * 24, size=n) * np.timedelta64(1, "h"))
    postcode = np.where(origin == "日本", "10", rng.choice(["11", "12", "13", "14"], size=n))
    income = rng.normal(30_000, 8_000, size=n) + 5_000 * (origin == "Sverige")
    income[rng.random(n) < 0.02] = np.nan
    frame = pd.DataFrame(
        {
            "origin": origin,
            "sex": sex,
            "label": label,
            "prediction": (score >= 0.5).astype(np.int8),
            "score": score,
            "decided": decided,
            "postcode": postcode,
            "income": income,
        }
    )
    extra = pd.DataFrame(
        {
            "origin": ["Ω"] * 3 + ["all-pos"] * 40,
            "sex": ["f", "m", "f"] + ["f", "m"] * 20,
            "label": np.array([1, 0, 1] + [1] * 40, np.int8),
            "prediction": np.array([1, 1, 0] + [1, 0] * 20, np.int8),
            "score": [0.9, 0.7, 0.2] + [0.8, 0.3] * 20,
            "decided": [np.datetime64("2025-01-01T12:00:00")] * 43,
            "postcode": ["11"] * 43,
            "income": [25_000.0] * 43,
        }
    )
    return pd.concat([frame, extra], ignore_index=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("spark")
    df = data()
    parquet = root / "parts"
    parquet.mkdir()
    third = len(df) // 3
    for i in range(3):
        part = df.iloc[i * third : (i + 1) * third if i < 2 else len(df)]
        part.to_parquet(parquet / f"part-{i}.parquet", index=False)
    csv = root / "decisions.csv"
    df.assign(decided=df["decided"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(csv, index=False)
    return {"parquet": parquet, "csv": csv}


def both(**fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    request = AuditRequest(hash_data=False, replicates=200, **fields)
    return ARROW.json(ARROW.run(request)), SPARK.json(SPARK.run(request))


def assert_same(arrow: Any, spark: Any, path: str = "") -> None:
    """Every field equal; floats equal to within FLOAT_TOL (summation order)."""
    if isinstance(arrow, dict):
        assert set(arrow) == set(spark), path
        for key in arrow:
            if key == "engine":
                continue
            assert_same(arrow[key], spark[key], f"{path}.{key}")
    elif isinstance(arrow, list):
        assert len(arrow) == len(spark), path
        for i, (a, s) in enumerate(zip(arrow, spark, strict=True)):
            assert_same(a, s, f"{path}[{i}]")
    elif isinstance(arrow, float) and isinstance(spark, float):
        assert math.isclose(arrow, spark, rel_tol=FLOAT_TOL, abs_tol=FLOAT_TOL), path
    else:
        assert arrow == spark, path


def test_predictions_with_intersections_and_text_and_number_proxies(files):
    arrow, spark = both(
        data=(str(files["parquet"]),),
        label="label",
        prediction="prediction",
        groups=("origin", "sex"),
        intersect=True,
        proxies=2,
    )
    assert spark["engine"]["name"] == "ombud-spark"
    assert "pyspark" in spark["engine"]["libraries"]
    assert spark["rows"] == arrow["rows"] == 6043
    assert any(g["attributes"] == {"origin": MISSING} for g in spark["groups"])
    assert any(g["attributes"] == {"origin": "Ω"} and g["suppressed"] for g in spark["groups"])
    assert {p["column"] for p in spark["proxies"]} >= {"postcode", "income"}
    assert_same(arrow, spark)


def test_scores_with_auc_and_monthly_windows(files):
    arrow, spark = both(
        data=(str(files["parquet"]),),
        label="label",
        score="score",
        threshold=0.5,
        groups=("origin",),
        time_column="decided",
        window="month",
    )
    assert spark["groups"][0]["auc"] is not None
    assert "2024-12" in spark["windows"]["labels"]
    assert_same(arrow, spark)


@pytest.mark.parametrize("window", ["week", "quarter", "day"])
def test_iso_weeks_quarters_and_days_are_labelled_alike(files, window):
    arrow, spark = both(
        data=(str(files["parquet"]),),
        label="label",
        prediction="prediction",
        groups=("sex",),
        time_column="decided",
        window=window,
    )
    if window == "week":
        # 2024-12-30 .. 2025-01-05 is ISO week 1 of 2025
        assert "2025-W01" in spark["windows"]["labels"]
        assert "2024-W53" not in spark["windows"]["labels"]
    assert_same(arrow, spark)


def test_csv_with_a_filter_reads_the_same_values(files):
    arrow, spark = both(
        data=(str(files["csv"]),),
        label="label",
        prediction="prediction",
        groups=("origin", "postcode"),
        filter="income > 20000 AND origin IS NOT NULL",
    )
    assert spark["data"]["rows_scanned"] == 6043
    assert spark["rows"] < 6043
    assert_same(arrow, spark)


def test_errors_name_the_column_as_the_arrow_engine_does(files, tmp_path):
    bad = data(n=200).assign(label=lambda d: d["label"].astype(np.int64) * 2)
    path = tmp_path / "bad.parquet"
    bad.to_parquet(path, index=False)
    request = AuditRequest(
        data=(str(path),), label="label", prediction="prediction", groups=("sex",)
    )
    with pytest.raises(Invalid, match="label column 'label' is not binary: it holds 2"):
        SPARK.run(request)
    nulls = data(n=200)
    nulls.loc[5, "score"] = None
    path = tmp_path / "nulls.parquet"
    nulls.to_parquet(path, index=False)
    request = AuditRequest(
        data=(str(path),), label="label", score="score", threshold=0.5, groups=("sex",)
    )
    with pytest.raises(Invalid, match="score column 'score' has NULL values"):
        SPARK.run(request)
    empty = AuditRequest(
        data=(str(files["parquet"]),),
        label="label",
        prediction="prediction",
        groups=("sex",),
        filter="income < 0",
    )
    with pytest.raises(Invalid, match="leaves no rows"):
        SPARK.run(empty)


def test_the_command_takes_engine_spark_and_refuses_an_unknown_engine(files, tmp_path):
    app = typer.Typer()
    app.add_typer(audit_app, name="audit")
    runner = CliRunner()
    base = ["audit", "run", str(files["parquet"]), "--label", "label"]
    base += ["--prediction", "prediction", "--group", "origin"]
    out = tmp_path / "spark.json"
    result = runner.invoke(app, [*base, "--engine", "spark", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["engine"]["name"] == "ombud-spark"
    assert "ombud-spark" in result.output
    result = runner.invoke(app, [*base, "--engine", "dask"])
    assert result.exit_code == 2
    assert "--engine 'dask': use arrow or spark." in result.output

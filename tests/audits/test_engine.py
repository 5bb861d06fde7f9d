"""The audit engine on real files: the same numbers as fairlearn and as plain pandas.

Data are generated with known answers, written as Parquet and CSV (several
files, with different dictionaries, read in small batches so that the
batch-to-global code mapping is exercised), and audited through the service.
"""

from __future__ import annotations

import hashlib
import itertools
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    equalized_odds_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score, roc_auc_score

from ombud.audits.domain.metrics import MISSING, Metric
from ombud.kernel.errors import Invalid
from tests.audits.engine_reference import (
    TOL,
    audit,
    known_data,
    reference,
    service,
    write_parquet_parts,
)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return known_data()


@pytest.fixture(scope="module")
def parquet_dir(frame, tmp_path_factory) -> Path:
    return write_parquet_parts(frame, tmp_path_factory.mktemp("parquet"))


@pytest.fixture(scope="module")
def audited(parquet_dir):
    return audit(parquet_dir, intersect=True)


def test_every_metric_of_every_group_equals_plain_pandas(frame, audited):
    _report, doc = audited
    assert doc["rows"] == len(frame)
    for grouping in (["race"], ["sex"], ["race", "sex"]):
        expected = reference(frame, grouping)
        groups = [g for g in doc["groups"] if g["grouping"] == grouping]
        assert {tuple(g["attributes"][c] for c in grouping) for g in groups} == set(expected)
        for g in groups:
            want = expected[tuple(g["attributes"][c] for c in grouping)]
            for metric, value in want.items():
                if value is None:
                    assert g[metric] is None, (g["attributes"], metric)
                else:
                    assert g[metric] == pytest.approx(value, abs=TOL), (g["attributes"], metric)


def test_every_metric_equals_fairlearn_metricframe(frame, audited):
    _, doc = audited
    named_frame = frame.fillna({"race": MISSING, "sex": MISSING})
    metrics = {
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "tnr": true_negative_rate,
        "ppv": lambda y, p: precision_score(y, p, zero_division=np.nan),
        "count": count,
    }
    for grouping in (["race"], ["sex"], ["race", "sex"]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fairlearn warns about the undefined rates we test
            mf = MetricFrame(
                metrics=metrics,
                y_true=named_frame.label,
                y_pred=named_frame.prediction,
                sensitive_features=named_frame[grouping],
            )
        theirs = mf.by_group
        for g in (g for g in doc["groups"] if g["grouping"] == grouping):
            key = tuple(g["attributes"][c] for c in grouping)
            row = theirs.loc[key if len(key) > 1 else key[0]]
            assert g["count"] == row["count"]
            for metric in ("selection_rate", "tpr", "fpr", "fnr", "tnr", "ppv"):
                if g[metric] is None:
                    continue  # undefined here; fairlearn gives 0 or NaN (and a warning)
                assert g[metric] == pytest.approx(row[metric], abs=TOL), (key, metric)


def test_nulls_unicode_tiny_and_one_class_groups(audited):
    _report, doc = audited
    race = {g["attributes"]["race"]: g for g in doc["groups"] if g["grouping"] == ["race"]}
    assert race[MISSING]["missing"] == ["race"]
    assert race[MISSING]["count"] > 0
    assert race["日本人"]["count"] > 0
    assert race["Sámi"]["count"] > 0
    assert race["Ω-tiny"]["count"] == 3
    assert race["all-pos"]["fpr"] is None
    assert race["all-pos"]["tnr"] is None
    assert race["all-pos"]["tpr"] == 0.5
    assert race["all-neg"]["tpr"] is None
    assert race["all-neg"]["ppv"] is None
    assert race["all-neg"]["selection_rate"] == 0


def test_groups_under_the_minimum_are_suppressed_and_fairlearns_summaries_agree(parquet_dir, frame):
    _report, doc = audit(parquet_dir, groups=("race",), min_group_size=30)
    tiny = next(g for g in doc["groups"] if g["attributes"] == {"race": "Ω-tiny"})
    assert tiny["suppressed"] is True
    assert tiny["count"] == 3
    assert tiny["selection_rate"] is None
    assert any("fewer than 30" in w for w in doc["warnings"])
    # fairlearn's summaries, over the groups that are not suppressed
    kept = frame.fillna({"race": MISSING})
    kept = kept[kept.race != "Ω-tiny"]
    args = (kept.label, kept.prediction)
    criteria = doc["groupings"][0]["criteria"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dp = demographic_parity_difference(*args, sensitive_features=kept.race)
        dpr = demographic_parity_ratio(*args, sensitive_features=kept.race)
        eo = equalized_odds_difference(*args, sensitive_features=kept.race)
    assert criteria["demographic_parity"]["difference"] == pytest.approx(dp, abs=TOL)
    assert criteria["demographic_parity"]["ratio"] == pytest.approx(dpr, abs=TOL)
    # fairlearn counts the all-positive group's undefined FPR as 0; ombud leaves it out
    both = kept[~kept.race.isin(["all-pos", "all-neg"])]
    pieces = (both.label, both.prediction)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eo = equalized_odds_difference(*pieces, sensitive_features=both.race)
        eor = equalized_odds_ratio(*pieces, sensitive_features=both.race)
    _, clean = audit(write_parquet_parts(both, Path(tempfile.mkdtemp()) / "both"), groups=("race",))
    odds = clean["groupings"][0]["criteria"]["equalised_odds"]
    assert odds["difference"] == pytest.approx(eo, abs=TOL)
    assert odds["ratio"] == pytest.approx(eor, abs=TOL)


def test_csv_parquet_directory_and_glob_give_the_same_numbers(frame, parquet_dir, tmp_path):
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    _, from_dir = audit(parquet_dir)
    _, from_glob = audit(str(parquet_dir / "part-*.parquet"), batch_rows=10_000)
    _, from_csv = audit(csv)
    for other in (from_glob, from_csv):
        assert other["rows"] == from_dir["rows"]
        strip = [{k: v for k, v in g.items() if k != "intervals"} for g in other["groups"]]
        assert strip == [
            {k: v for k, v in g.items() if k != "intervals"} for g in from_dir["groups"]
        ]
    assert from_csv["data"]["format"] == "csv"
    assert len(from_dir["data"]["files"]) == 3


def test_the_filter_keeps_the_rows_sql_would(frame, parquet_dir):
    _, doc = audit(parquet_dir, groups=("sex",), filter="race = 'Sámi' AND score >= 0.2")
    kept = frame[(frame.race == "Sámi") & (frame.score >= 0.2)]
    assert doc["rows"] == len(kept)
    assert doc["data"]["rows_scanned"] == len(frame)
    expected = reference(kept, ["sex"])
    for g in doc["groups"]:
        assert g["tpr"] == pytest.approx(expected[(g["attributes"]["sex"],)]["tpr"], abs=TOL)
    assert "duckdb" in doc["engine"]["libraries"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("race = ", "not a valid SQL condition"),
        ("race IN (SELECT 1)", "subquery is not allowed"),
        ("getenv('HOME') = 'x'", "the function getenv() is not allowed"),
        ("1=1) UNION SELECT * FROM read_csv('/etc/passwd') WHERE (1", "must be one condition"),
        ("nosuch > 1", "Unknown column 'nosuch'"),
        ("score + 1", "must be a condition"),
        ("race = 'nobody'", "leaves no rows"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_expression(parquet_dir, expression, message):
    with pytest.raises(Invalid, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        audit(parquet_dir, filter=expression)
    assert "\n" not in e.value.message


def test_unknown_columns_and_non_binary_outcomes_are_named(parquet_dir, tmp_path):
    with pytest.raises(Invalid, match=r"Unknown column 'rase' \(--group\)\. Did you mean 'race'"):
        audit(parquet_dir, groups=("rase",))
    with pytest.raises(Invalid, match="Unknown column 'nope' \\(--label\\)"):
        audit(parquet_dir, label="nope")
    bad = tmp_path / "bad.parquet"
    pq.write_table(
        pa.table({"g": ["a", "b", "a"], "label": [0, 2, 1], "prediction": [0, 1, 1]}), bad
    )
    with pytest.raises(Invalid, match="label column 'label' is not binary: it holds 2"):
        audit(bad, groups=("g",))
    text = tmp_path / "text.parquet"
    pq.write_table(pa.table({"g": ["a"], "label": ["yes"], "prediction": [1]}), text)
    with pytest.raises(Invalid, match="label column 'label' is not binary"):
        audit(text, groups=("g",))
    nulls = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"g": ["a", "b"], "label": [1, None], "prediction": [1, 0]}), nulls)
    with pytest.raises(Invalid, match="has NULL values"):
        audit(nulls, groups=("g",))
    with pytest.raises(Invalid, match="No such file"):
        audit(tmp_path / "absent.parquet")


def test_scores_give_mean_score_and_auc_within_the_stated_bound(frame, parquet_dir):
    _report, doc = audit(
        parquet_dir, prediction=None, score="score", threshold=0.5, groups=("race",)
    )
    d = frame.fillna({"race": MISSING})
    by_race = {g["attributes"]["race"]: g for g in doc["groups"]}
    expected = reference(d, ["race"])  # prediction = score >= 0.5 in the data
    for race, rows in d.groupby("race"):
        g = by_race[race]
        assert g["mean_score"] == pytest.approx(rows.score.mean(), abs=1e-12)
        assert g["tpr"] == expected[(race,)]["tpr"] or g["tpr"] == pytest.approx(
            expected[(race,)]["tpr"], abs=TOL
        )
        if rows.label.nunique() == 2:
            exact = roc_auc_score(rows.label, rows.score)
            assert abs(g["auc"] - exact) <= g["auc_error_bound"] + 1e-12
            assert g["auc_error_bound"] < 0.01
        else:
            assert g["auc"] is None
    assert doc["parameters"]["score_bins"] == 1000


def test_the_sha256_of_each_file_is_recorded(parquet_dir):
    _, doc = audit(parquet_dir, hash_data=True)
    for f in doc["data"]["files"]:
        assert f["sha256"] == hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest()


def test_representation_and_references(parquet_dir, frame):
    _report, doc = audit(
        parquet_dir,
        groups=("race", "sex"),
        intersect=True,
        references={"race": "Sámi"},
        population={"race": {"white": 0.5, "black": 0.2, "Sámi": 0.2, "日本人": 0.1}},
    )
    assert doc["groupings"][0]["reference"] == {"race": "Sámi"}
    assert doc["groupings"][0]["reference_rule"] == "given"
    rep = {r["value"]: r for r in doc["representation"]}
    assert rep["Sámi"]["observed"] == pytest.approx((frame.race == "Sámi").mean(), abs=TOL)
    assert rep["Sámi"]["ratio"] == pytest.approx((frame.race == "Sámi").mean() / 0.2, abs=TOL)
    assert rep["all-pos"]["expected"] is None
    with pytest.raises(Invalid, match="--reference race=nobody: no such value"):
        audit(parquet_dir, groups=("race",), references={"race": "nobody"})


def test_the_bootstrap_is_seeded_through_the_engine(parquet_dir):
    _, a = audit(parquet_dir, groups=("race",), replicates=200, seed=1)
    _, b = audit(parquet_dir, groups=("race",), replicates=200, seed=1)
    _, c = audit(parquet_dir, groups=("race",), replicates=200, seed=2)

    def intervals(doc):
        return [d["difference_interval"] for d in doc["disparities"]]

    assert intervals(a) == intervals(b) != intervals(c)
    assert all(
        d["difference_interval"] is None
        or d["difference_interval"][0] <= d["difference"] <= d["difference_interval"][1]
        for d in a["disparities"]
        if not d["suppressed"] and d["metric"] == Metric.SELECTION_RATE
    )


def test_the_html_report_is_self_contained(parquet_dir):
    report, _ = audit(parquet_dir, groups=("race",))
    page = service().html(report)
    assert page.startswith("<!doctype html>")
    assert "<table>" in page
    assert "Sámi" in page
    assert "<script" not in page
    assert "http" not in page


def test_intersections_cover_every_combination(audited):
    _, doc = audited
    assert [g["attributes"] for g in doc["groupings"]] == [["race"], ["sex"], ["race", "sex"]]
    combos = {tuple(g["attributes"].values()) for g in doc["groups"] if len(g["grouping"]) == 2}
    races = {g["attributes"]["race"] for g in doc["groups"] if g["grouping"] == ["race"]}
    assert combos <= set(itertools.product(races, ["f", "m", MISSING]))

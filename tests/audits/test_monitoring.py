"""Monitoring: alert rules, per-window metrics against a plain pandas computation,
breaches (never from suppressed groups), drift."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ombud.audits.domain.monitoring import RuleError, evaluate, over_time, parse_rule
from ombud.audits.domain.request import AuditRequest
from ombud.bootstrap import audit_service


@pytest.mark.parametrize(
    ("text", "metric", "kind", "low", "high"),
    [
        ("FPR ratio leaves [0.8, 1.25]", "fpr", "ratio", 0.8, 1.25),
        ("fpr ratio outside [0.8,1.25]", "fpr", "ratio", 0.8, 1.25),
        ("selection rate difference above 0.1", "selection_rate", "difference", None, 0.1),
        ("Equal opportunity ratio below 0.8", "tpr", "ratio", 0.8, None),
        ("predictive parity difference below -0.05", "ppv", "difference", -0.05, None),
    ],
)
def test_rules_parse(text, metric, kind, low, high):
    rule = parse_rule(text)
    assert (rule.metric, rule.kind, rule.low, rule.high) == (metric, kind, low, high)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("accuracy ratio below 0.8", "unknown metric"),
        ("fpr ratios below 0.8", "say 'ratio' or 'difference'"),
        ("fpr quotient below 0.8", "say 'ratio' or 'difference'"),
        ("fpr ratio outside [1.25, 0.8]", "is empty"),
        ("fpr ratio outside [0.8 1.25]", "end with"),
    ],
)
def test_bad_rules_name_the_part(text, fragment):
    with pytest.raises(RuleError) as err:
        parse_rule(text)
    assert fragment in str(err.value)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 12000
    start = datetime(2026, 2, 1)
    when = [start + timedelta(hours=int(h)) for h in rng.integers(0, 24 * 89, n)]
    df = pd.DataFrame(
        {
            "at": when,
            "g": rng.choice(["A", "B", "Ü"], n, p=[0.6, 0.397, 0.003]),
            "label": (rng.random(n) < 0.3).astype(int),
        }
    )
    late = np.array([w >= datetime(2026, 3, 1) for w in df["at"]])
    p = 0.15 + 0.5 * df["label"] + np.where(late & (df["g"] == "B"), 0.3, 0.0)
    df["pred"] = (rng.random(n) < p).astype(int)
    df.loc[df.index[:25], "at"] = pd.NaT  # rows without a time
    return df


def _monthly(frame: pd.DataFrame, path) -> AuditRequest:
    """The frame written to ``path``, audited per month of ``at`` against group A."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    return AuditRequest(
        data=(str(path),), label="label", prediction="pred", groups=("g",),
        references={"g": "A"}, time_column="at", window="month", min_group_size=30,
    )  # fmt: skip


@pytest.fixture(scope="module")
def doc(frame, tmp_path_factory):
    svc = audit_service()
    request = _monthly(frame, tmp_path_factory.mktemp("mon") / "d.parquet")
    return svc.json(svc.run(request), ["FPR ratio outside [0.8, 1.25]"])


def test_windows_equal_plain_pandas(frame, doc):
    windows = doc["windows"]
    assert windows["labels"] == ["2026-02", "2026-03", "2026-04", "(missing)"]
    timed = frame.dropna(subset=["at"])
    month = timed["at"].dt.strftime("%Y-%m")
    for (g, m), part in timed.groupby([timed["g"], month]):
        item = next(
            i
            for i in windows["series"]
            if i["attribute"] == "g" and i["value"] == g and i["window"] == m
        )
        assert item["count"] == len(part)
        if item["suppressed"]:
            assert len(part) < 30
            continue
        neg = part[part["label"] == 0]
        assert item["metrics"]["fpr"] == pytest.approx(neg["pred"].mean(), abs=1e-12)
        assert item["metrics"]["selection_rate"] == pytest.approx(part["pred"].mean(), abs=1e-12)
    # the main lists hold no per-window group; the missing times are counted and said
    assert all("(window)" not in g["grouping"] for g in doc["groups"])
    assert any("25 rows have no readable time" in w for w in doc["warnings"])


def test_breaches_come_from_the_injected_drift_only(doc):
    breaches = doc["alerts"]["breaches"]
    assert breaches
    assert {b["value"] for b in breaches} == {"B"}
    assert {b["window"] for b in breaches} == {"2026-03", "2026-04"}
    assert all(b["measured"] > 1.25 for b in breaches)
    # the tiny group Ü is suppressed per window and never triggers
    assert all(b["value"] != "Ü" for b in breaches)


def test_drift_and_evaluate_agree(doc):
    drift = {(d["value"], d["metric"]): d for d in doc["windows"]["drift"]}
    assert drift[("B", "fpr")]["change"] > 0.2
    again = evaluate([parse_rule("fpr ratio outside [0.8, 1.25]")], doc["windows"])
    assert [{**b.as_json(), "rule": ""} for b in again] == [
        {**b, "rule": ""} for b in doc["alerts"]["breaches"]
    ]


def test_over_time_table_rows_cells_and_breaches(doc):
    windows = doc["windows"]
    rows = {r.value: r for r in over_time(windows, "fpr", "ratio", doc["alerts"]["breaches"])}
    assert list(rows) == ["A", "B", "Ü"]
    assert all(len(r.cells) == len(windows["labels"]) for r in rows.values())
    assert {c.text for c in rows["A"].cells[:3]} == {"reference"}
    assert {c.text for c in rows["Ü"].cells[:3]} == {"suppressed"}
    b = rows["B"].cells
    for label, cell in zip(windows["labels"], b, strict=True):
        item = next(i for i in windows["series"] if i["value"] == "B" and i["window"] == label)
        if item["ratio"]["fpr"] is not None:
            assert cell.text == f"{item['ratio']['fpr']:.2f}"
            assert cell.number
    assert [c.breached for c in b[:3]] == [False, True, True]  # March and April
    difference = over_time(windows, "selection_rate", "difference")
    assert difference[1].cells[0].text.startswith(("+", "-"))
    assert not any(c.breached for r in difference for c in r.cells)  # no rule on it


def test_html_report_shows_the_windows_and_alerts_not_window_groupings(frame, tmp_path):
    svc = audit_service()
    request = _monthly(frame, tmp_path / "d.parquet")
    report = svc.run(request)
    page = svc.html(report, svc.json(report, ["FPR ratio outside [0.8, 1.25]"]))
    assert "<h2>Over time, per month</h2>" in page
    assert page.count("<li class=flag>FPR ratio outside [0.8, 1.25]: g=B in 2026-0") == 2
    assert "<th scope=col>2026-02</th><th scope=col>2026-03</th>" in page
    assert "(window)" not in page  # per-window groups only in the over-time tables
    assert "<h2>g</h2>" in page  # the ordinary grouping is still there
    plain = svc.html(svc.run(replace(request, time_column=None, window=None)))
    assert "Over time" not in plain
    without_doc = svc.html(report)  # the document is made here, without alert rules
    assert "<h2>Over time, per month</h2>" in without_doc
    assert "alert(s)" not in without_doc

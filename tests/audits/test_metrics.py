"""Audit metrics and statistics (ombud.audits.domain) and the bootstrap, on known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats.contingency import association
from sklearn.metrics import roc_auc_score

from ombud.audits.domain.document import report_json
from ombud.audits.domain.metrics import (
    MISSING,
    SCHEMA_VERSION,
    AuditInputError,
    Confusion,
    Metric,
    auc_from_histogram,
    cramers_v,
    wilson_interval,
)
from ombud.audits.domain.report import ReferenceRule, assemble_report
from ombud.audits.domain.request import AuditRequest
from ombud.audits.domain.tabulation import (
    EngineInfo,
    GroupCounts,
    GroupingCounts,
    ProxyTable,
    Tabulation,
)
from ombud.audits.engine.resample import bootstrap

# -- metric definitions ------------------------------------------------------------------


def test_every_metric_is_its_textbook_ratio():
    c = Confusion(tp=30, fp=10, fn=20, tn=40)
    assert c.n == 100
    assert c.rate(Metric.BASE_RATE) == 50 / 100
    assert c.rate(Metric.SELECTION_RATE) == 40 / 100
    assert c.rate(Metric.TPR) == 30 / 50
    assert c.rate(Metric.FPR) == 10 / 50
    assert c.rate(Metric.FNR) == 20 / 50
    assert c.rate(Metric.TNR) == 40 / 50
    assert c.rate(Metric.PPV) == 30 / 40
    assert c.rate(Metric.NPV) == 40 / 60
    assert c.rate(Metric.ACCURACY) == 70 / 100


def test_rates_without_a_denominator_are_undefined_not_zero():
    all_positive = Confusion(tp=5, fn=2)  # no negatives: FPR and TNR undefined
    assert all_positive.rate(Metric.FPR) is None
    assert all_positive.rate(Metric.TNR) is None
    assert all_positive.rate(Metric.TPR) == 5 / 7
    none_selected = Confusion(fn=3, tn=4)  # nobody selected: PPV undefined
    assert none_selected.rate(Metric.PPV) is None
    assert none_selected.rate(Metric.SELECTION_RATE) == 0
    assert Confusion().rate(Metric.ACCURACY) is None


@given(st.tuples(*[st.integers(0, 50)] * 4))
def test_complementary_rates_add_up_to_one(cells):
    c = Confusion(*cells)
    for a, b in ((Metric.TPR, Metric.FNR), (Metric.FPR, Metric.TNR)):
        if c.rate(a) is not None:
            assert c.rate(a) + c.rate(b) == pytest.approx(1)
        else:
            assert c.rate(b) is None


# -- Wilson intervals ----------------------------------------------------------------------


def test_wilson_interval_matches_the_hand_computed_value():
    # 8 of 20 at 95%: p = 0.4, z = 1.9599640, z²/n = 0.1920729
    # centre = (0.4 + 0.0960365) / 1.1920729 = 0.4161125
    # half = 1.9599640 / 1.1920729 * sqrt(0.24/20 + 3.8414588/1600) = 0.1973063
    low, high = wilson_interval(8, 20)
    assert low == pytest.approx(0.4161125 - 0.1973063, abs=2e-6)  # 0.21881
    assert high == pytest.approx(0.4161125 + 0.1973063, abs=2e-6)  # 0.61342


def test_wilson_interval_at_the_edges():
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775328, abs=1e-6)  # 3.8414588 / 13.8414588
    low, high = wilson_interval(10, 10)
    assert high == 1.0
    assert low == pytest.approx(1 - 0.2775328, abs=1e-6)


@given(st.integers(1, 10_000), st.data())
def test_wilson_interval_contains_the_estimate(n, data):
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n)
    assert 0 <= low <= k / n <= high <= 1


# -- AUC from a histogram --------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.booleans()), min_size=2, max_size=80))
def test_auc_with_one_bin_per_score_is_exact(rows):
    labels = [int(y) for _, y in rows]
    if len(set(labels)) < 2:
        assert auc_from_histogram([1], [0]) is None
        return
    positives = [sum(1 for s, y in rows if s == b and y) for b in range(13)]
    negatives = [sum(1 for s, y in rows if s == b and not y) for b in range(13)]
    auc, bound = auc_from_histogram(positives, negatives)
    assert auc == pytest.approx(roc_auc_score(labels, [s for s, _ in rows]), abs=1e-12)
    assert bound <= 0.5


def test_coarse_bins_keep_the_exact_auc_within_the_bound():
    rng = np.random.default_rng(3)
    labels = rng.random(5000) < 0.3
    scores = np.clip(rng.normal(0.4 + 0.25 * labels, 0.2), 0, 1)
    exact = roc_auc_score(labels, scores)
    for bins in (5, 20, 1000):
        b = np.minimum((scores * bins).astype(int), bins - 1)
        pos = np.bincount(b[labels], minlength=bins).tolist()
        neg = np.bincount(b[~labels], minlength=bins).tolist()
        auc, bound = auc_from_histogram(pos, neg)
        assert abs(auc - exact) <= bound
    assert bound < 0.001  # 1000 bins: the approximation is tight


def test_auc_is_undefined_without_both_classes():
    assert auc_from_histogram([3, 4], [0, 0]) is None
    assert auc_from_histogram([0, 0], [1, 2]) is None


# -- Cramér's V ----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(1, 40), min_size=2, max_size=5), min_size=2, max_size=6).filter(
        lambda t: len({len(r) for r in t}) == 1
    )
)
def test_cramers_v_matches_scipy(table):
    assert cramers_v(table) == pytest.approx(association(np.array(table), method="cramer"))


def test_cramers_v_drops_empty_rows_and_is_one_for_a_copy():
    assert cramers_v([[10, 0], [0, 7], [0, 0]]) == pytest.approx(1)
    assert cramers_v([[5, 5]]) is None


# -- the request ----------------------------------------------------------------------------


def _request(**kw):
    base = {"data": ("x.parquet",), "label": "y", "groups": ("sex",), "prediction": "p"}
    return AuditRequest(**(base | kw))


@pytest.mark.parametrize(
    ("changes", "option"),
    [
        ({"groups": ()}, "group"),
        ({"groups": ("sex", "sex")}, "group"),
        ({"prediction": None}, "prediction"),
        ({"score": "s"}, "prediction"),
        ({"prediction": None, "score": "s"}, "threshold"),
        ({"threshold": 0.5}, "threshold"),
        ({"groups": ("y",)}, "group"),
        ({"min_group_size": 0}, "min_group_size"),
        ({"references": {"age": "40"}}, "reference"),
        ({"population": {"sex": {"f": 0.7, "m": 0.6}}}, "population"),
        ({"confidence": 1.0}, "confidence"),
    ],
)
def test_an_inconsistent_request_names_the_option(changes, option):
    assert option in _request(**changes).problems()


def test_named_intersections_are_audited_once_in_group_order():
    r = _request(groups=("a", "b", "c"), intersections=(("c", "a"), ("a", "c")))
    assert r.problems() == {}
    assert r.groupings() == (("a",), ("b",), ("c",), ("a", "c"))
    assert "intersect" in _request(groups=("a", "b"), intersections=(("a", "z"),)).problems()
    assert "intersect" in _request(groups=("a", "b"), intersections=(("a",),)).problems()


def test_a_sound_request_has_no_problems_and_intersections_are_every_combination():
    r = _request(groups=("a", "b", "c"), intersect=True)
    assert r.problems() == {}
    assert r.groupings() == (
        ("a",),
        ("b",),
        ("c",),
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
        ("a", "b", "c"),
    )


# -- the report -------------------------------------------------------------------------------


def _tabulation(groupings, rows=None):
    total = Confusion()
    for g in groupings[0].groups:
        total = total + g.confusion
    return Tabulation(
        files=(),
        format="parquet",
        rows_scanned=rows or total.n,
        overall=GroupCounts((), total),
        groupings=tuple(groupings),
        engine=EngineInfo("test", "0"),
    )


def _no_bootstrap(*args):
    raise AssertionError("not expected")


def _fake_bootstrap(groups, reference, metrics, replicates, seed, confidence):
    return [{} for _ in groups]


SEX = GroupingCounts(
    ("sex",),
    (
        GroupCounts(("f",), Confusion(tp=20, fp=10, fn=10, tn=60)),
        GroupCounts(("m",), Confusion(tp=40, fp=40, fn=10, tn=110)),
        GroupCounts((None,), Confusion(tp=1, fp=2, fn=3, tn=4)),
    ),
)


def test_small_groups_are_suppressed_not_dropped_and_the_largest_is_the_reference():
    report = assemble_report(_request(), _tabulation([SEX]), _fake_bootstrap)
    by_value = {g.values: g for g in report.groups}
    missing = by_value[(None,)]
    assert missing.suppressed
    assert missing.count == 10
    assert all(v is None for v in missing.metrics.values())
    assert missing.confusion is None
    assert not by_value[("f",)].suppressed
    assert report.groupings[0].reference == ("m",)
    assert report.groupings[0].reference_rule is ReferenceRule.LARGEST
    assert by_value[("m",)].reference
    assert any("fewer than 30" in w for w in report.warnings)


def test_disparities_are_ratios_and_differences_to_the_reference():
    report = assemble_report(_request(), _tabulation([SEX]), _fake_bootstrap)
    f = {d.metric: d for d in report.disparities if d.values == ("f",)}
    assert f[Metric.SELECTION_RATE].value == 0.3
    assert f[Metric.SELECTION_RATE].reference_value == 0.4
    assert f[Metric.SELECTION_RATE].ratio == pytest.approx(0.75)
    assert f[Metric.SELECTION_RATE].difference == pytest.approx(-0.1)
    assert f[Metric.SELECTION_RATE].flagged  # outside [0.8, 1.25]
    assert f[Metric.FPR].ratio == pytest.approx((10 / 70) / (40 / 150))
    suppressed = [d for d in report.disparities if d.values == (None,)]
    assert suppressed
    assert all(d.suppressed and d.ratio is None for d in suppressed)


def test_a_given_reference_must_exist_and_be_large_enough():
    report = assemble_report(_request(references={"sex": "f"}), _tabulation([SEX]), _fake_bootstrap)
    assert report.groupings[0].reference == ("f",)
    assert report.groupings[0].reference_rule is ReferenceRule.GIVEN
    with pytest.raises(AuditInputError, match="no such value"):
        assemble_report(_request(references={"sex": "x"}), _tabulation([SEX]), _no_bootstrap)
    with pytest.raises(AuditInputError, match="fewer than --min-group-size"):
        assemble_report(_request(references={"sex": MISSING}), _tabulation([SEX]), _no_bootstrap)


def test_an_intersection_takes_the_combination_of_the_references():
    age = GroupingCounts(
        ("age",),
        (
            GroupCounts(("old",), Confusion(tp=30, tn=170)),
            GroupCounts(("young",), Confusion(tp=31, fp=52, fn=23, tn=4)),
        ),
    )
    both = GroupingCounts(
        ("sex", "age"),
        (
            GroupCounts(("m", "old"), Confusion(tp=10, tn=40)),
            GroupCounts(("f", "old"), Confusion(tp=20, tn=130)),
            GroupCounts(("m", "young"), Confusion(tp=30, fp=40, fn=10, tn=70)),
            GroupCounts(("f", "young"), Confusion(fp=10, fn=10)),
        ),
    )
    request = _request(groups=("sex", "age"), intersect=True, min_group_size=1)
    report = assemble_report(request, _tabulation([SEX, age, both]), _fake_bootstrap)
    intersection = report.groupings[2]
    assert intersection.reference == ("m", "old")  # m and old are each the largest
    assert intersection.reference_rule is ReferenceRule.COMBINED


def test_representation_compares_observed_with_expected_shares():
    request = _request(population={"sex": {"f": 0.5, "m": 0.5, "x": 0.0}})
    report = assemble_report(request, _tabulation([SEX]), _fake_bootstrap)
    rep = {r.value: r for r in report.representation}
    assert rep["f"].observed == pytest.approx(100 / 310)
    assert rep["f"].ratio == pytest.approx((100 / 310) / 0.5)
    assert rep["x"].count == 0
    assert rep["x"].ratio is None
    assert rep[MISSING].expected is None  # observed, not in the population


def test_proxies_are_ranked_by_cramers_v():
    tables = (
        ProxyTable("postcode", "sex", "categories", ((50, 0), (0, 50))),
        ProxyTable("income", "sex", "deciles", ((30, 20), (20, 30))),
        ProxyTable("shoe", "sex", "deciles", ((26, 24), (24, 26))),
    )
    tab = _tabulation([SEX])
    tab = Tabulation(**{**tab.__dict__, "proxies": tables})
    report = assemble_report(_request(proxies=2), tab, _fake_bootstrap)
    assert [p.column for p in report.proxies] == ["postcode", "income"]
    assert report.proxies[0].cramers_v == pytest.approx(1)


def test_the_json_document_has_the_documented_fields():
    doc = report_json(assemble_report(_request(), _tabulation([SEX]), _fake_bootstrap))
    assert doc["schema_version"] == SCHEMA_VERSION
    assert {"data", "rows", "parameters", "engine", "groups", "disparities"} <= set(doc)
    group = next(g for g in doc["groups"] if g["attributes"] == {"sex": "f"})
    for key in ("count", "share", "base_rate", "selection_rate", "tpr", "fpr", "fnr", "tnr"):
        assert key in group
    assert group["intervals"]["selection_rate"] == list(wilson_interval(30, 100))
    missing = next(g for g in doc["groups"] if g["missing"] == ["sex"])
    assert missing["attributes"] == {"sex": MISSING}
    assert missing["suppressed"] is True
    assert missing["tpr"] is None


# -- the bootstrap ------------------------------------------------------------------------------


GROUPS = [Confusion(400, 100, 100, 400), Confusion(300, 150, 150, 400), Confusion(5, 0, 5, 0)]


def test_the_bootstrap_is_reproducible_with_a_seed():
    metrics = [Metric.SELECTION_RATE, Metric.TPR, Metric.FPR, Metric.PPV]
    a = bootstrap(GROUPS, 0, metrics, 500, (7, 0), 0.95)
    b = bootstrap(GROUPS, 0, metrics, 500, (7, 0), 0.95)
    c = bootstrap(GROUPS, 0, metrics, 500, (8, 0), 0.95)
    assert a == b
    assert a != c
    assert a[0] == {}  # the reference has no interval against itself
    assert a[2][Metric.FPR].difference is None  # a group without negatives: FPR undefined


def test_the_bootstrap_interval_of_a_difference_matches_its_standard_error():
    # Two large groups: the percentile interval is close to estimate ± 1.96 standard errors.
    (interval,) = [
        r[Metric.SELECTION_RATE]
        for r in bootstrap(GROUPS[:2], 0, [Metric.SELECTION_RATE], 4000, (1, 0), 0.95)[1:]
    ]
    p1, p0 = 450 / 1000, 500 / 1000
    se = math.sqrt(p1 * (1 - p1) / 1000 + p0 * (1 - p0) / 1000)
    low, high = interval.difference
    assert low == pytest.approx(p1 - p0 - 1.96 * se, abs=0.006)
    assert high == pytest.approx(p1 - p0 + 1.96 * se, abs=0.006)
    assert interval.ratio[0] < 0.9 < interval.ratio[1]

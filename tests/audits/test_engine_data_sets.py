"""The audit engine on data sets of other shapes: any small one matches plain pandas,
proxies of a protected attribute are found, the demo data shows the bias injected into
it, and groups without rows are no groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.audits.engine_reference import TOL, audit, named, reference


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "é", None]),
            st.sampled_from([1, 2, None]),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 7),
)
def test_any_small_data_set_matches_pandas(tmp_path_factory, rows, batch_rows):
    df = pd.DataFrame(rows, columns=["g", "h", "label", "prediction"])
    df["h"] = df["h"].astype("Int64")
    path = tmp_path_factory.mktemp("h") / "d.parquet"
    df.to_parquet(path)
    _, doc = audit(path, groups=("g", "h"), intersect=True, batch_rows=batch_rows, replicates=0)
    for grouping in (["g"], ["h"], ["g", "h"]):
        expected = reference(df.astype({"h": object}), grouping)
        got = {
            tuple(g["attributes"][c] for c in grouping): g
            for g in doc["groups"]
            if g["grouping"] == grouping
        }
        assert {named(tuple(None if pd.isna(x) else x for x in k)) for k in expected} == set(got)
        for key, want in expected.items():
            g = got[named(tuple(None if pd.isna(x) else x for x in key))]
            for metric, value in want.items():
                assert g[metric] == value or g[metric] == pytest.approx(value, abs=TOL)


def test_proxy_screening_finds_a_copy_of_the_attribute(tmp_path):
    rng = np.random.default_rng(5)
    n = 3000
    sex = rng.choice(["f", "m"], n)
    df = pd.DataFrame(
        {
            "sex": sex,
            "first_name": np.where(sex == "f", "Anna", "Lars"),  # a perfect proxy
            "height": rng.normal(165, 7, n) + 12 * (sex == "m"),  # a numeric proxy
            "noise": rng.random(n),
            "label": rng.integers(0, 2, n),
            "prediction": rng.integers(0, 2, n),
        }
    )
    path = tmp_path / "p.parquet"
    df.to_parquet(path)
    _, doc = audit(path, groups=("sex",), proxies=3, batch_rows=1000)
    found = [(p["column"], p["method"]) for p in doc["proxies"]]
    assert found == [("first_name", "categories"), ("height", "deciles"), ("noise", "deciles")]
    assert doc["proxies"][0]["cramers_v"] == pytest.approx(1)
    assert doc["proxies"][2]["cramers_v"] < 0.15


def test_the_demo_data_set_shows_its_injected_bias():
    from importlib import resources

    folder = resources.files("ombud.resources.demo") / "audit"
    _, doc = audit(
        str(folder / "risk-v-selections.parquet"),
        label="irregularity_found",
        prediction=None,
        score="risk_score",
        threshold=0.5,
        groups=("birth_region", "sex"),
        references={"birth_region": "Sweden"},
        min_group_size=30,
        replicates=300,
        proxies=1,
        batch_rows=1 << 20,
    )
    outside = {
        d["metric"]: d
        for d in doc["disparities"]
        if d["attributes"] == {"birth_region": "outside EU/EEA"}
    }
    base = {
        g["attributes"]["birth_region"]: g["base_rate"]
        for g in doc["groups"]
        if g["grouping"] == ["birth_region"]
    }
    assert base["outside EU/EEA"] / base["Sweden"] == pytest.approx(1, abs=0.15)  # equal truth
    assert outside["fpr"]["ratio"] > 3
    assert outside["fpr"]["flagged"]
    assert outside["fpr"]["difference_interval"][0] > 0.3
    assert outside["selection_rate"]["ratio"] > 2.5
    assert outside["ppv"]["ratio"] < 0.5
    sex = [d for d in doc["disparities"] if d["grouping"] == ["sex"] and not d["suppressed"]]
    assert not any(d["flagged"] for d in sex)
    assert any(g["attributes"] == {"sex": "x"} and g["suppressed"] for g in doc["groups"])
    assert doc["proxies"][0]["column"] == "correspondence_language"


def test_empty_groups_are_not_groups_but_show_in_representation(tmp_path):
    df = pd.DataFrame(
        {
            "region": pd.Categorical(
                ["north"] * 40 + ["south"] * 35, categories=["north", "south", "east"]
            ),
            "label": [1, 0] * 20 + [0] * 35,
            "prediction": [1, 1] * 20 + [0, 1] * 17 + [1],
        }
    )
    path = tmp_path / "cat.parquet"
    df.to_parquet(path)  # "east" is in the Parquet dictionary, with no rows
    _, doc = audit(
        path,
        groups=("region",),
        population={"region": {"north": 0.4, "south": 0.3, "east": 0.3}},
        min_group_size=30,
    )
    assert [g["attributes"]["region"] for g in doc["groups"]] == ["north", "south"]
    east = next(r for r in doc["representation"] if r["value"] == "east")
    assert east["count"] == 0
    assert east["ratio"] == 0
    south = next(g for g in doc["groups"] if g["attributes"] == {"region": "south"})
    assert south["tpr"] is None  # no positive labels: undefined, not 0
    assert south["fpr"] == pytest.approx(18 / 35, abs=TOL)
    # a filter that leaves a group without rows: the group is not reported
    _, kept = audit(path, groups=("region",), filter="region <> 'south'")
    assert [g["attributes"]["region"] for g in kept["groups"]] == ["north"]

"""The audit engine at scale: millions of rows in many batches give the numbers DuckDB
and scikit-learn give, and memory does not grow with the data (out of core)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

from tests.audits.engine_reference import audit


def test_two_million_rows_in_many_batches_match_duckdb_and_sklearn(tmp_path):
    import duckdb

    rng = np.random.default_rng(9)
    n = 2_000_000
    path = tmp_path / "big.parquet"
    codes = rng.integers(0, 6, n)
    label = (rng.random(n) < 0.2 + 0.05 * codes).astype(np.int8)
    score = np.clip(rng.normal(0.3 + 0.3 * label, 0.25), 0, 1)
    region = pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32)), pa.array(["nord", "süd", "ost", "west", "mitte", "北"])
    ).cast(pa.string())
    pq.write_table(
        pa.table({"region": region, "label": label, "score": score}), path, row_group_size=300_000
    )
    _, doc = audit(
        path, prediction=None, score="score", threshold=0.55, groups=("region",),
        batch_rows=250_000, replicates=200,
    )  # fmt: skip
    query = f"""SELECT region, count(*), avg(score),
                       count(*) FILTER (WHERE label = 1 AND score >= 0.55),
                       count(*) FILTER (WHERE label = 0 AND score >= 0.55)
                FROM read_parquet('{path}') GROUP BY region"""
    by_region = {g["attributes"]["region"]: g for g in doc["groups"]}
    for region, rows, mean, tp, fp in duckdb.sql(query).fetchall():
        g = by_region[region]
        assert (g["count"], g["confusion"]["tp"], g["confusion"]["fp"]) == (rows, tp, fp)
        assert g["mean_score"] == pytest.approx(mean, abs=1e-12)
    mask = codes == 5
    exact = roc_auc_score(label[mask], score[mask])
    assert abs(by_region["北"]["auc"] - exact) <= by_region["北"]["auc_error_bound"]
    assert by_region["北"]["auc_error_bound"] < 1e-3


@pytest.mark.slow
def test_memory_does_not_grow_with_the_data(tmp_path):
    """Out of core: auditing 24M rows takes no more memory than auditing 4M rows."""
    import subprocess
    import sys

    import pyarrow.compute as pc

    rng = np.random.default_rng(4)
    n = 1_000_000
    codes = pa.array(rng.integers(0, 7, n).astype(np.int32))
    label = (rng.random(n) < 0.3).astype(np.int8)
    chunk = pa.table(
        {"g": pc.take(pa.array(list("abcdefg")), codes), "label": label, "score": rng.random(n)}
    )
    for name, row_groups in (("small", 4), ("large", 24)):
        with pq.ParquetWriter(tmp_path / f"{name}.parquet", chunk.schema) as writer:
            for _ in range(row_groups):
                writer.write_table(chunk)
    script = (
        "import sys, json\n"
        "from ombud.bootstrap import audit_service\n"
        "from ombud.audits.domain.request import AuditRequest\n"
        "r = audit_service().run(AuditRequest(data=(sys.argv[1],), label='label',\n"
        "    score='score', threshold=0.5, groups=('g',), hash_data=False))\n"
        "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"
        "print(json.dumps({'rows': r.rows, 'peak_mb': int(hwm.split()[1]) / 1024}))\n"
    )
    peaks = {}
    for name in ("small", "large"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / f"{name}.parquet")],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks[name] = json.loads(done.stdout)
    assert peaks["large"]["rows"] == 24_000_000
    # 20M more rows are 260 MB more column data; the peak may move by allocator noise only
    assert peaks["large"]["peak_mb"] < peaks["small"]["peak_mb"] + 80, peaks
    assert peaks["large"]["peak_mb"] < 600, peaks

"""Benchmark: a bias audit of 1M, 10M and 100M rows against hand-written polars and DuckDB.

Generates Parquet files (three protected attributes of 5, 2 and 8 categories
as strings, a 0/1 label, a 0/1 prediction and a score; row groups of 1M rows,
written streaming) and measures, for every attribute plus one two-way
intersection (race x sex) with all confusion metrics:

- ombud: the service with the ArrowAuditEngine, as `ombud audit run` runs it
  (`--intersection race,sex`: every metric, Wilson intervals, disparities with
  1,000 bootstrap replicates; no sha256), and the same without the bootstrap;
- ombud_monthly: the same audit plus monitoring (`--time decided --window
  month`: every grouping also per month of twelve, in the same pass);
- ombud_spark: the same audit with `--engine spark` (a local Spark session on
  this machine's cores, through Ibis), up to --spark-rows rows; its first run
  includes starting the session;
- polars: a hand-written lazy query (one group_by per grouping, collect_all);
- duckdb: a hand-written GROUP BY GROUPING SETS query;
- duckdb_joint: the engine design not taken (DuckDB counts the joint table in
  one GROUP BY; the groupings are rolled up from it in Python);
- fairlearn: MetricFrame, on a 100,000-row file only.

Each contender runs in its own process (its peak memory is that process's
peak resident set, VmHWM, imports included), once to warm up and then --repeat times; rows/s is
rows / median time. Every pair is compared on every (grouping, group,
metric) that both define; the largest absolute difference is reported.

Last, end to end on 10M rows (``end_to_end_10M``): `ombud audit run` as a user
types it (a new process: interpreter start, imports, the scan, the report, the
terminal table; with the sha256 of the file, and with --no-hash) against a
hand-written polars script run the same way (``python -c``: import polars, the
same four groupings, one line of counts per group). Each command runs once to
warm the page cache, then --e2e-repeat rounds, the commands interleaved (in a
rotating order) so that load from elsewhere falls on all of them alike;
``speedup`` is the polars script's median time over ombud's. With
``--baseline-src DIR`` (the ``src`` folder of another checkout of ombud), the
same `ombud audit run` from that code is timed in the same rounds (repeatable):
before and after, in one run. Prints one JSON object.

    .venv/bin/python bench/audit.py [--sizes 1M,10M,100M] [--repeat 3] [--dir DIR]
    .venv/bin/python bench/audit.py --end-to-end-only [--e2e-repeat 9] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ATTRIBUTES = {
    "race": ["white", "black", "asian", "hispanic", "other"],
    "sex": ["female", "male"],
    "age": ["18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-84", "85+"],
}
GROUPINGS = [["race"], ["sex"], ["age"], ["race", "sex"]]
METRICS = [
    "count",
    "base_rate",
    "selection_rate",
    "tpr",
    "fpr",
    "fnr",
    "tnr",
    "ppv",
    "npv",
    "accuracy",
]
ROW_GROUP = 1_000_000
BYTES_PER_ROW = 9.5  # measured: about 94 MB per 10M rows
BIN = Path(sys.executable).parent


# -- data ---------------------------------------------------------------------------------


def generate(path: Path, rows: int, seed: int = 1) -> float:
    """Write ``rows`` rows in row groups of 1M, from numpy arrays; returns seconds."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    names = list(ATTRIBUTES)
    schema = pa.schema(
        [(n, pa.string()) for n in names]
        + [("label", pa.int8()), ("prediction", pa.int8()), ("score", pa.float64())]
        + [("decided", pa.timestamp("s"))]
    )
    year = np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64)
    dictionaries = [pa.array(v) for v in ATTRIBUTES.values()]
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, ROW_GROUP):
            n = min(ROW_GROUP, rows - start)
            codes = [rng.integers(0, len(v), n, dtype=np.int8) for v in ATTRIBUTES.values()]
            label = (rng.random(n) < 0.30 + 0.05 * codes[1]).astype(np.int8)
            score = np.clip(rng.normal(0.35 + 0.3 * label + 0.03 * codes[0], 0.2), 0, 1)
            prediction = (score >= 0.5).astype(np.int8)
            columns = [pc.take(d, pa.array(c)) for d, c in zip(dictionaries, codes, strict=True)]
            columns += [pa.array(label), pa.array(prediction), pa.array(score)]
            # the decision date, in file order over one year (a decision log is written in
            # time order): few distinct values, so it adds almost nothing to the file
            day = (start + np.arange(n, dtype=np.int64)) * 365 // rows
            columns.append(pa.array(year + day * 86_400, pa.int64()).cast(pa.timestamp("s")))
            writer.write_table(pa.table(columns, schema=schema), row_group_size=ROW_GROUP)
    return time.perf_counter() - started


# -- contenders (each in its own process) ----------------------------------------------------


def _rates(tp: int, fp: int, fn: int, tn: int) -> dict[str, float | None]:
    def r(a: int, b: int) -> float | None:
        return a / b if b else None

    n = tp + fp + fn + tn
    return {
        "count": float(n),
        "base_rate": r(tp + fn, n),
        "selection_rate": r(tp + fp, n),
        "tpr": r(tp, tp + fn),
        "fpr": r(fp, fp + tn),
        "fnr": r(fn, tp + fn),
        "tnr": r(tn, fp + tn),
        "ppv": r(tp, tp + fp),
        "npv": r(tn, tn + fn),
        "accuracy": r(tp + tn, n),
    }


def _from_sums(n: int, positives: int, selected: int, tp: int) -> dict[str, float | None]:
    """The confusion matrix from count, sum(label), sum(prediction) and sum(label*prediction)."""
    n, positives, selected, tp = int(n), int(positives), int(selected), int(tp)
    return _rates(tp, selected - tp, positives - tp, n - positives - selected + tp)


def _key(grouping: list[str], values: list[Any]) -> str:
    return "|".join(grouping) + "=" + "|".join(str(v) for v in values)


def run_ombud(
    path: str, replicates: int, engine: str = "arrow", window: str | None = None
) -> dict[str, dict[str, float | None]]:
    from ombud.audits.domain.request import AuditRequest
    from ombud.audits.standalone import audit_service

    service = audit_service(engine)
    request = AuditRequest(
        time_column="decided" if window else None,
        window=window,
        data=(path,),
        label="label",
        prediction="prediction",
        groups=tuple(ATTRIBUTES),
        intersections=(("race", "sex"),),
        replicates=replicates,
        hash_data=False,
    )
    doc = service.json(service.run(request))
    wanted = {tuple(g) for g in GROUPINGS}
    return {
        _key(g["grouping"], list(g["attributes"].values())): {m: g[m] for m in METRICS}
        for g in doc["groups"]
        if tuple(g["grouping"]) in wanted
    }


def run_polars(path: str) -> dict[str, dict[str, float | None]]:
    import polars as pl

    label = pl.col("label").cast(pl.Int64)
    prediction = pl.col("prediction").cast(pl.Int64)
    aggregates = [
        pl.len().alias("n"),
        label.sum().alias("positives"),
        prediction.sum().alias("selected"),
        (label * prediction).sum().alias("tp"),
    ]
    frame = pl.scan_parquet(path)
    frames = pl.collect_all([frame.group_by(g).agg(aggregates) for g in GROUPINGS])
    found = {}
    for grouping, result in zip(GROUPINGS, frames, strict=True):
        for row in result.iter_rows(named=True):
            values = [row[c] for c in grouping]
            found[_key(grouping, values)] = _from_sums(
                row["n"], row["positives"], row["selected"], row["tp"]
            )
    return found


def run_duckdb(path: str) -> dict[str, dict[str, float | None]]:
    import duckdb

    sets = ", ".join("(" + ", ".join(g) + ")" for g in GROUPINGS)
    query = f"""
        SELECT race, sex, age, GROUPING(race, sex, age) AS level,
               count(*), sum(label), sum(prediction), sum(label * prediction)
        FROM read_parquet('{path}')
        GROUP BY GROUPING SETS ({sets})
    """
    levels = {0b011: ["race"], 0b101: ["sex"], 0b110: ["age"], 0b001: ["race", "sex"]}
    found = {}
    for race, sex, age, level, n, pos, sel, tp in duckdb.connect().execute(query).fetchall():
        grouping = levels[level]
        row = {"race": race, "sex": sex, "age": age}
        found[_key(grouping, [row[c] for c in grouping])] = _from_sums(n, pos, sel, tp)
    return found


def run_duckdb_joint(path: str) -> dict[str, dict[str, float | None]]:
    """The other engine design that was tried: DuckDB counts the joint table in one
    GROUP BY, and every grouping is rolled up from it (ombud counts it with numpy)."""
    import duckdb

    query = f"""
        SELECT race, sex, age, label, prediction, count(*)
        FROM read_parquet('{path}') GROUP BY ALL
    """
    cells: dict[str, list[int]] = {}
    found = {}
    rows = duckdb.connect().execute(query).fetchall()
    for grouping in GROUPINGS:
        cells.clear()
        for race, sex, age, label, prediction, n in rows:
            row = {"race": race, "sex": sex, "age": age}
            key = _key(grouping, [row[c] for c in grouping])
            counts = cells.setdefault(key, [0, 0, 0, 0])
            counts[(1 - label) * 2 + (1 - prediction)] += n  # [tp, fn, fp, tn]
        for key, (tp, fn, fp, tn) in cells.items():
            found[key] = _rates(tp, fp, fn, tn)
    return found


def run_fairlearn(path: str) -> dict[str, dict[str, float | None]]:
    import warnings

    import pandas as pd
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    df = pd.read_parquet(path)
    metrics = {
        "count": count,
        "base_rate": lambda y, p: y.mean(),
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "tnr": true_negative_rate,
        "ppv": lambda y, p: precision_score(y, p, zero_division=float("nan")),
        "npv": lambda y, p: precision_score(1 - y, 1 - p, zero_division=float("nan")),
        "accuracy": accuracy_score,
    }
    found = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for grouping in GROUPINGS:
            frame = MetricFrame(
                metrics=metrics,
                y_true=df.label,
                y_pred=df.prediction,
                sensitive_features=df[grouping],
            )
            for index, row in frame.by_group.iterrows():
                values = list(index) if isinstance(index, tuple) else [index]
                found[_key(grouping, values)] = {m: float(row[m]) for m in METRICS}
    return found


CONTENDERS = {
    "ombud": lambda p: run_ombud(p, 1000),
    "ombud_no_bootstrap": lambda p: run_ombud(p, 0),
    "ombud_monthly": lambda p: run_ombud(p, 1000, window="month"),
    "ombud_spark": lambda p: run_ombud(p, 1000, engine="spark"),
    "polars": run_polars,
    "duckdb": run_duckdb,
    "duckdb_joint": run_duckdb_joint,
    "fairlearn": run_fairlearn,
}


def worker(name: str, path: str, repeat: int, out: str) -> None:
    """One contender in this process: a warm-up run, then ``repeat`` timed runs."""
    run = CONTENDERS[name]
    started = time.perf_counter()
    result = run(path)
    first = time.perf_counter() - started
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run(path)
        times.append(time.perf_counter() - started)
    peak_kb = _peak_kb()
    Path(out).write_text(
        json.dumps({"first_s": first, "times_s": times, "peak_kb": peak_kb, "metrics": result})
    )


def _peak_kb() -> int:
    """This process's peak resident set (VmHWM). Unlike ru_maxrss it is not inherited from
    the parent through fork: each contender's figure is its own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(name: str, path: Path, rows: int, repeat: int, scratch: Path) -> dict[str, Any]:
    out = scratch / f"{name}-{rows}.json"
    cmd = [sys.executable, __file__, "--worker", name, "--data", str(path), "--out", str(out)]
    subprocess.run([*cmd, "--repeat", str(repeat)], check=True)
    found = json.loads(out.read_text())
    times = sorted(found["times_s"]) or [found["first_s"]]
    median = times[len(times) // 2]
    return {
        "median_s": round(median, 4),
        "first_run_s": round(found["first_s"], 4),
        "rows_per_s": round(rows / median),
        "peak_rss_mb": round(found["peak_kb"] / 1024, 1),
        "_metrics": found["metrics"],
    }


def largest_differences(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Largest absolute difference of every pair, over what both define."""
    found = {}
    for a, b in itertools.combinations(results, 2):
        ma, mb = results[a]["_metrics"], results[b]["_metrics"]
        worst, compared, missing = 0.0, 0, sorted(set(ma) ^ set(mb))
        for group in set(ma) & set(mb):
            for metric in METRICS:
                x, y = ma[group].get(metric), mb[group].get(metric)
                if x is None or y is None or x != x or y != y:  # undefined (None, NaN)
                    continue
                worst = max(worst, abs(x - y))
                compared += 1
        found[f"{a} vs {b}"] = {
            "max_abs_diff": worst,
            "values_compared": compared,
            "groups_in_one_only": len(missing),
        }
    return found


# -- end to end: whole processes, interleaved ---------------------------------------------

# The hand-written reference: what an analyst would type to get the same counts with polars.
POLARS_SCRIPT = """
import json, sys
import polars as pl
groupings = [["race"], ["sex"], ["age"], ["race", "sex"]]
label, prediction = pl.col("label").cast(pl.Int64), pl.col("prediction").cast(pl.Int64)
aggregates = [pl.len().alias("n"), label.sum().alias("positives"),
              prediction.sum().alias("selected"), (label * prediction).sum().alias("tp")]
frame = pl.scan_parquet(sys.argv[1])
found = {}
for grouping, result in zip(groupings, pl.collect_all([frame.group_by(g).agg(aggregates)
                                                       for g in groupings])):
    for row in result.iter_rows(named=True):
        key = "|".join(grouping) + "=" + "|".join(str(row[c]) for c in grouping)
        found[key] = [row["n"], row["positives"], row["selected"], row["tp"]]
print(json.dumps(found))
"""
AUDIT_ARGS = ["--label", "label", "--prediction", "prediction"]
AUDIT_ARGS += ["-g", "race", "-g", "sex", "-g", "age", "--intersection", "race,sex"]


def _ombud_command(baseline: Path | None) -> tuple[list[str], dict[str, str]]:
    """`ombud audit run`, from this checkout or (PYTHONPATH) from ``baseline``."""
    env = dict(os.environ)
    if baseline is not None:
        env["PYTHONPATH"] = str(baseline)
    return [str(BIN / "ombud"), "audit", "run"], env


def _same_counts(path: Path, env: dict[str, str], command: list[str]) -> dict[str, Any]:
    """Run both once more (untimed) and compare every group's confusion counts."""
    ombud = subprocess.run(
        [*command, str(path), *AUDIT_ARGS, "--no-hash", "--json", "-"],
        check=True, capture_output=True, env=env,
    )  # fmt: skip
    doc = json.loads(ombud.stdout)
    mine = {}
    for g in doc["groups"]:
        c = g["confusion"]
        if c is not None:
            key = _key(g["grouping"], list(g["attributes"].values()))
            mine[key] = [c["tp"] + c["fp"] + c["fn"] + c["tn"], c["tp"] + c["fn"]]
            mine[key] += [c["tp"] + c["fp"], c["tp"]]
    script = [sys.executable, "-c", POLARS_SCRIPT, str(path)]
    theirs = json.loads(subprocess.run(script, check=True, capture_output=True).stdout)
    both = set(mine) & set(theirs)
    return {
        "groups_compared": len(both),
        "groups_in_one_only": len(set(mine) ^ set(theirs)),
        "all_equal": all(mine[k] == theirs[k] for k in both),
    }


def end_to_end(path: Path, rows: int, repeat: int, baselines: list[Path]) -> dict[str, Any]:
    """`ombud audit run` against the polars script, whole processes, interleaved rounds."""
    command, env = _ombud_command(None)
    args = [str(path), *AUDIT_ARGS]
    contenders: dict[str, tuple[list[str], dict[str, str]]] = {
        "ombud_audit_run": ([*command, *args], env),
        "ombud_audit_run_no_hash": ([*command, *args, "--no-hash"], env),
        "polars_script": ([sys.executable, "-c", POLARS_SCRIPT, str(path)], env),
    }
    for baseline in baselines:  # named by the checkout's folder: /tmp/before/src -> before
        before, before_env = _ombud_command(baseline)
        name = baseline.resolve().parent.name
        contenders[f"{name}:ombud_audit_run"] = ([*before, *args], before_env)
        contenders[f"{name}:ombud_audit_run_no_hash"] = ([*before, *args, "--no-hash"], before_env)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for cmd, cmd_env in contenders.values():  # warm-up: page cache, compiled bytecode
        subprocess.run(cmd, check=True, capture_output=True, env=cmd_env)
    names = list(contenders)
    for round_no in range(repeat):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            cmd, cmd_env = contenders[name]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True, env=cmd_env)
            times[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpu[name].append(used)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    def summary(name: str) -> dict[str, Any]:
        ordered = sorted(times[name])
        return {
            "median_s": round(median(ordered), 3),
            "min_s": round(ordered[0], 3),
            "max_s": round(ordered[-1], 3),
            "times_s": [round(t, 3) for t in times[name]],
            # CPU time of the process and its threads (user + system): what load from
            # other processes changes least
            "median_cpu_s": round(median(cpu[name]), 3),
        }

    found: dict[str, Any] = {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "rounds": repeat,
        "command": "ombud audit run FILE " + " ".join(AUDIT_ARGS),
        "contenders": {name: summary(name) for name in times},
    }
    wall = {name: found["contenders"][name]["median_s"] for name in times}
    others = [name for name in times if name != "polars_script"]
    # > 1: ombud is faster than the polars script (the target is 1.5)
    found["speedup_vs_polars_script"] = {
        name: round(wall["polars_script"] / wall[name], 2) for name in others
    }
    used = {name: found["contenders"][name]["median_cpu_s"] for name in times}
    found["cpu_ratio_polars_script_over"] = {
        name: round(used["polars_script"] / used[name], 2) for name in others
    }
    found["same_counts_as_polars"] = _same_counts(path, env, command)
    return found


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000, "G": 1_000_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1M,10M,100M")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fairlearn-rows", type=int, default=100_000)
    parser.add_argument("--spark-rows", type=int, default=10_000_000)
    parser.add_argument("--dir", help="Where to write the data (default: a temporary directory).")
    parser.add_argument("--e2e-repeat", type=int, default=9, help="Rounds of the end-to-end runs.")
    parser.add_argument(
        "--end-to-end-only",
        action="store_true",
        help="Only the end-to-end comparison on 10M rows (`ombud audit run` vs polars).",
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        action="append",
        default=[],
        help="The src folder of another ombud checkout: its `ombud audit run` in the same "
        "rounds, named by the checkout's folder (repeatable).",
    )
    parser.add_argument("--worker", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.repeat, args.out)
        return

    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    report: dict[str, Any] = {
        "benchmark": "audit",
        "query": "race (5), sex (2), age (8) and race x sex; count and 9 rates per group",
        "cpus": os.cpu_count(),
        "targets": {
            "rows_per_s_at_10M": 16_000_000,
            "speedup_vs_faster_of_polars_duckdb_at_10M": 2.0,
            "peak_rss_mb_at_10M": 600,
            "peak_rss_mb_at_100M": 2048,
            "cli_seconds_at_10M": 2.0,
            "end_to_end_speedup_vs_polars_script_at_10M": 1.5,
            "max_abs_diff": 1e-9,
        },
        "sizes": {},
    }
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="ombud-audit-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        if args.end_to_end_only:
            rows = 10_000_000
            path = base / f"audit-{rows}.parquet"
            if not path.exists():
                generate(path, rows)
            report["end_to_end_10M"] = end_to_end(path, rows, args.e2e_repeat, args.baseline_src)
            sizes = []
            args.fairlearn_rows = 0
        for rows in sizes:
            need = rows * BYTES_PER_ROW * 1.2
            free = shutil.disk_usage(base).free
            if need > free:
                report["sizes"][str(rows)] = {"skipped": f"needs {need / 1e9:.1f} GB on disk"}
                continue
            path = base / f"audit-{rows}.parquet"
            seconds = generate(path, rows)
            entry: dict[str, Any] = {
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "generate_s": round(seconds, 2),
            }
            repeat = args.repeat if rows < 50_000_000 else max(1, args.repeat - 1)
            names = ["ombud", "ombud_no_bootstrap", "ombud_monthly", "polars", "duckdb"]
            names += ["duckdb_joint"] + (["ombud_spark"] if rows <= args.spark_rows else [])
            results = {name: measure(name, path, rows, repeat, base) for name in names}
            fastest = min(results["polars"]["median_s"], results["duckdb"]["median_s"])
            entry["speedup_vs_faster_reference"] = round(fastest / results["ombud"]["median_s"], 2)
            entry["speedup_no_bootstrap"] = round(
                fastest / results["ombud_no_bootstrap"]["median_s"], 2
            )
            entry["differences"] = largest_differences(results)
            entry["contenders"] = {
                k: {m: v for m, v in r.items() if not m.startswith("_")} for k, r in results.items()
            }
            if rows == 10_000_000:
                report["end_to_end_10M"] = end_to_end(
                    path, rows, args.e2e_repeat, args.baseline_src
                )
            report["sizes"][str(rows)] = entry
            path.unlink()
        if args.fairlearn_rows:
            rows = args.fairlearn_rows
            path = base / f"audit-{rows}.parquet"
            generate(path, rows, seed=7)
            results = {
                name: measure(name, path, rows, 0 if name == "fairlearn" else 3, base)
                for name in ("fairlearn", "ombud", "polars", "duckdb")
            }
            report["fairlearn"] = {
                "rows": rows,
                "differences": largest_differences(results),
                "contenders": {
                    k: {m: v for m, v in r.items() if not m.startswith("_")}
                    for k, r in results.items()
                },
            }
    finally:
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()

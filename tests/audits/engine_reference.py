"""What the audit engine's tests share: data with known answers, written as several
Parquet files; the same numbers computed with plain pandas; a one-call audit."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ombud.audits.analysis import AuditService
from ombud.audits.domain.metrics import MISSING
from ombud.audits.domain.request import AuditRequest
from ombud.audits.engine import ArrowAuditEngine, HtmlAuditReport

TOL = 1e-12


def service(batch_rows: int = 1 << 20) -> AuditService:
    """The audit service on the Arrow engine, reading ``batch_rows`` at a time."""
    return AuditService(ArrowAuditEngine(batch_rows=batch_rows), HtmlAuditReport())


def known_data(seed: int = 11) -> pd.DataFrame:
    """Unicode values, NULLs, a tiny group, an all-positive and an all-negative group."""
    rng = np.random.default_rng(seed)
    n = 4000
    race = rng.choice(["white", "black", "Sámi", "日本人"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    race = race.astype(object)
    race[rng.random(n) < 0.05] = None
    sex = rng.choice(["f", "m"], size=n).astype(object)
    sex[rng.random(n) < 0.03] = None
    label = (rng.random(n) < 0.35 + 0.1 * (race == "black")).astype(np.int8)
    score = np.clip(rng.normal(0.3 + 0.35 * label + 0.1 * (race == "Sámi"), 0.2), 0, 1)
    prediction = (score >= 0.5).astype(np.int8)
    df = pd.DataFrame(
        {"race": race, "sex": sex, "label": label, "prediction": prediction, "score": score}
    )
    extra = pd.DataFrame(
        {
            "race": ["Ω-tiny"] * 3 + ["all-pos"] * 40 + ["all-neg"] * 45,
            "sex": ["f", "m", "f"] + ["f", "m"] * 20 + ["m"] * 45,
            "label": [1, 0, 1] + [1] * 40 + [0] * 45,
            "prediction": [1, 1, 0] + [1, 0] * 20 + [0] * 45,
            "score": [0.9, 0.7, 0.2] + [0.8, 0.3] * 20 + [0.1] * 45,
        }
    )
    return pd.concat([df, extra], ignore_index=True).sample(frac=1, random_state=seed)


def write_parquet_parts(df: pd.DataFrame, directory: Path, parts: int = 3) -> Path:
    """Several files whose dictionaries differ (each part sees values in another order)."""
    directory.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, len(df), parts + 1).astype(int)
    for i, (start, stop) in enumerate(itertools.pairwise(bounds)):
        chunk = df.iloc[start:stop]
        table = pa.Table.from_pandas(chunk.iloc[::-1] if i % 2 else chunk, preserve_index=False)
        pq.write_table(table, directory / f"part-{i}.parquet", row_group_size=700)
    return directory


def reference(df: pd.DataFrame, columns: list[str]) -> dict[tuple, dict[str, float | None]]:
    """Plain pandas: confusion counts per group (NULL named as its own group), then ratios."""
    d = df.assign(**{c: df[c].where(df[c].notna(), MISSING) for c in columns})
    d = d.assign(
        tp=(d.label == 1) & (d.prediction == 1),
        fp=(d.label == 0) & (d.prediction == 1),
        fn=(d.label == 1) & (d.prediction == 0),
        tn=(d.label == 0) & (d.prediction == 0),
    )
    sums = d.groupby(columns)[["tp", "fp", "fn", "tn"]].sum()
    found = {}
    for key, row in sums.iterrows():
        tp, fp, fn, tn = (int(row[c]) for c in ("tp", "fp", "fn", "tn"))

        def ratio(a: int, b: int) -> float | None:
            return a / b if b else None

        n = tp + fp + fn + tn
        found[key if isinstance(key, tuple) else (key,)] = {
            "count": n,
            "base_rate": ratio(tp + fn, n),
            "selection_rate": ratio(tp + fp, n),
            "tpr": ratio(tp, tp + fn),
            "fpr": ratio(fp, fp + tn),
            "fnr": ratio(fn, tp + fn),
            "tnr": ratio(tn, fp + tn),
            "ppv": ratio(tp, tp + fp),
            "npv": ratio(tn, tn + fn),
            "accuracy": ratio(tp + tn, n),
        }
    return found


def named(values: tuple) -> tuple:
    """Group values as the report names them (NULL as MISSING)."""
    return tuple(MISSING if v is None else v for v in values)


def audit(data: Path | str, **kw) -> tuple:
    """Audit the data (small batches by default); the report and its JSON."""
    batch_rows = kw.pop("batch_rows", 500)
    request = AuditRequest(
        data=(str(data),),
        label=kw.pop("label", "label"),
        prediction=kw.pop("prediction", "prediction"),
        groups=kw.pop("groups", ("race", "sex")),
        min_group_size=kw.pop("min_group_size", 1),
        replicates=kw.pop("replicates", 50),
        hash_data=kw.pop("hash_data", False),
        **kw,
    )
    svc = service(batch_rows)
    report = svc.run(request)
    return report, svc.json(report)

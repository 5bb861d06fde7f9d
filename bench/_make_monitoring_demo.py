"""Generate the demo monitoring data: six months of RISK-V decisions in which a
drift is injected from the fourth month (fictional; deterministic).

    .venv/bin/python bench/_make_monitoring_demo.py

writes src/ombud/resources/demo/audit/risk-v-monitoring.parquet. Known answers: in
January to March the false positive rate of files of people born outside the
EU/EEA is about that of people born in Sweden (ratio near 1); from April the model
adds +1.2 to their log-odds, and the ratio rises to about 3, so the rule
"FPR ratio outside [0.8, 1.25]" is breached in April, May and June only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).parents[1] / "src/ombud/resources/demo/audit/risk-v-monitoring.parquet"
PER_MONTH = 6000


def main() -> None:
    rng = np.random.default_rng(2026)
    frames = []
    for month in range(1, 7):
        n = PER_MONTH
        start = datetime(2026, month, 1)
        days = rng.integers(0, 28, n)
        seconds = rng.integers(0, 86400, n)
        when = [
            start + timedelta(days=int(d), seconds=int(s))
            for d, s in zip(days, seconds, strict=True)
        ]
        region = rng.choice(["Sweden", "EU/EEA", "outside EU/EEA"], n, p=[0.7, 0.12, 0.18])
        sex = rng.choice(["female", "male"], n)
        label = rng.random(n) < 0.11
        logit = -0.7 + 1.8 * label + rng.normal(0, 0.9, n)
        if month >= 4:
            logit = logit + np.where(region == "outside EU/EEA", 1.2, 0.0)
        score = 1 / (1 + np.exp(-logit))
        frames.append(
            pa.table(
                {
                    "decided_at": pa.array(when, pa.timestamp("s")),
                    "birth_region": region,
                    "sex": sex,
                    "risk_score": np.round(score, 4),
                    "irregularity_found": label.astype(np.int8),
                }
            )
        )
    pq.write_table(pa.concat_tables(frames), OUT, compression="zstd")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

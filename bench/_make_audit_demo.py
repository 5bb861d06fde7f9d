"""Generate the demo audit data set (src/ombud/resources/demo/audit/), with a known injected bias.

A fictional record of the demo system "Risk-based selection of benefit files
for verification (RISK-V)" of the National Benefits and Employment Agency:
20,000 benefit files, each scored by the model, selected for verification when
the score reaches 0.5, and later checked (``irregularity_found``).

What is injected, so that an audit has something to find (the known answers):

- The true rate of irregularities does not depend on birth region or sex.
- The model adds +1.1 to the log-odds of files of people born outside the
  EU/EEA and +0.35 for correspondence in Arabic or Somali: their selection
  rate and false positive rate are about two to three times those of people
  born in Sweden, at an equal base rate.
- ``correspondence_language`` is a proxy of ``birth_region``.
- 65+ are under-represented against the population of recipients.
- ``birth_region`` is NULL in about 2% of files (a group of its own), and 12
  files record sex as "x" (a group under the minimum size: suppressed).

Deterministic (seeded). Run: .venv/bin/python bench/_make_audit_demo.py
Files starting with an underscore are not benchmarks: `make bench` skips them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parent.parent / "src" / "ombud" / "resources" / "demo" / "audit"
ROWS = 20_000
SEED = 2024

POPULATION = {
    "birth_region": {"Sweden": 0.70, "EU/EEA": 0.08, "outside EU/EEA": 0.22},
    "sex": {"female": 0.52, "male": 0.48},
    "age_band": {"18-29": 0.22, "30-44": 0.31, "45-64": 0.32, "65+": 0.15},
}


def generate(rows: int = ROWS, seed: int = SEED) -> pa.Table:
    rng = np.random.default_rng(seed)
    region = rng.choice(list(POPULATION["birth_region"]), rows, p=[0.68, 0.09, 0.23])
    sex = rng.choice(["female", "male"], rows, p=[0.53, 0.47]).astype(object)
    sex[rng.choice(rows, 12, replace=False)] = "x"
    age = rng.choice(list(POPULATION["age_band"]), rows, p=[0.25, 0.34, 0.33, 0.08])
    outside = region == "outside EU/EEA"
    language = np.where(
        region == "Sweden",
        rng.choice(["Swedish", "English"], rows, p=[0.97, 0.03]),
        np.where(
            outside,
            rng.choice(
                ["Swedish", "Arabic", "Somali", "English", "other"],
                rows,
                p=[0.30, 0.30, 0.15, 0.15, 0.10],
            ),
            rng.choice(["Swedish", "English", "other"], rows, p=[0.35, 0.45, 0.20]),
        ),
    )
    household = rng.choice(["single", "couple", "single parent", "couple with children"], rows)
    income = np.round(rng.lognormal(10.0, 0.45, rows) / 1000, 1)  # thousand SEK a month
    earlier = rng.random(rows) < 0.12  # an irregularity found in an earlier check
    changes = rng.poisson(1.2, rows)  # reported changes in the last year

    # the truth: depends on the file, not on who the person is
    truth_logit = -2.9 + 1.6 * earlier + 0.35 * changes - 0.02 * (income - 22)
    irregular = rng.random(rows) < 1 / (1 + np.exp(-truth_logit))

    # the model: sees the same signals, and the injected bias
    arabic_somali = np.isin(language, ["Arabic", "Somali"])
    model_logit = (
        -1.55
        + 1.4 * earlier
        + 0.3 * changes
        + 1.2 * irregular  # what the model learnt from the signals it sees
        + 1.1 * outside  # injected: birth outside the EU/EEA
        + 0.35 * arabic_somali  # injected: language of correspondence
        + rng.normal(0, 0.9, rows)
    )
    score = np.round(1 / (1 + np.exp(-model_logit)), 4)

    region_out = region.astype(object)
    region_out[rng.random(rows) < 0.02] = None  # not recorded
    return pa.table(
        {
            "file_id": pa.array([f"F{i:06d}" for i in range(rows)]),
            "sex": pa.array(sex, pa.string()),
            "age_band": pa.array(age),
            "birth_region": pa.array(region_out, pa.string()),
            "correspondence_language": pa.array(language),
            "household": pa.array(household),
            "monthly_income_ksek": pa.array(income),
            "reported_changes": pa.array(changes.astype(np.int16)),
            "risk_score": pa.array(score),
            "selected": pa.array((score >= 0.5).astype(np.int8)),
            "irregularity_found": pa.array(irregular.astype(np.int8)),
        }
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    table = generate()
    pq.write_table(table, OUT / "risk-v-selections.parquet", compression="zstd")
    (OUT / "population.json").write_text(json.dumps(POPULATION, indent=2) + "\n", "utf-8")
    size = (OUT / "risk-v-selections.parquet").stat().st_size
    print(json.dumps({"rows": table.num_rows, "bytes": size, "path": str(OUT)}))


if __name__ == "__main__":
    main()

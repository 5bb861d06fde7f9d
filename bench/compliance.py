"""Benchmark: the compliance matrix of 10,000 systems in one organisation.

Seeds 10,000 published systems in one organisation, then times
ComplianceService.for_organisation: load every system (in batches), decide which
instruments apply by the declarative rules and evaluate every requirement.
Target (issue 4): under 5 s on SQLite. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any

from _common import database, seed
from ombud.compliance.domain import Status
from ombud.kernel.access import Principal, Role


def run(backend: str, n: int, rounds: int) -> dict[str, Any]:
    with database(backend) as c:
        (org_id,) = seed(c, n, random.Random(7), organisations_count=1)
        actor = Principal(user_id=1, email="bench@example.org", memberships={org_id: Role.VIEWER})
        c.compliance.for_organisation(actor, org_id)  # warm-up
        times = []
        result = None
        for _ in range(rounds):
            t0 = time.perf_counter()
            result = c.compliance.for_organisation(actor, org_id)
            times.append(time.perf_counter() - t0)
        assert result is not None
        counts = result.counts
        return {
            "systems": len(result.systems),
            "requirements": len(result.by_requirement),
            "evaluations": len(result.systems) * len(result.by_requirement),
            "median_s": round(statistics.median(times), 3),
            "max_s": round(max(times), 3),
            "rounds": rounds,
            "status_counts": {s.value: counts[s] for s in Status},
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--systems", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    out: dict[str, Any] = {"benchmark": "compliance", "targets": {"sqlite_s": 5}}
    for b in backends:
        out[b] = run(b, args.systems, args.rounds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Benchmark: public register search and export over 100,000 published systems.

Seeds the systems in bulk (SQLite in a temporary directory, and a temporary
PostgreSQL database on 127.0.0.1:5432), then measures:
- search: text + two filters, first page, through the public register service
  and over HTTP against a live server (p50/p95 over many varied queries);
- export: /register.json streamed over HTTP for all 100,000 systems (seconds),
  and the peak Python memory of producing it (tracemalloc).
Targets (issue 3): search p95 < 50 ms; export < 10 s without holding all rows.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import socket
import statistics
import threading
import time
import tracemalloc
from typing import Any

import httpx
import uvicorn

from _common import SECTORS, STAGES, WORDS, database, seed
from ombud.app import create_app
from ombud.bootstrap import Container
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import Sector
from ombud.register.ports import SystemFilter
from ombud.register.public import _json_stream


def percentiles(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    q = statistics.quantiles(samples, n=100)
    return {
        "p50_ms": round(q[49] * 1000, 2),
        "p95_ms": round(q[94] * 1000, 2),
        "max_ms": round(samples[-1] * 1000, 2),
    }


def queries(rng: random.Random, count: int) -> list[dict[str, str]]:
    out = []
    for _ in range(count):
        out.append(
            {
                "q": rng.choice(WORDS)[: rng.choice([4, 5, 6, 20])],
                "sector": rng.choice(SECTORS).value,
                "stage": rng.choice(STAGES).value,
            }
        )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(c: Container, n: int, rng: random.Random, rounds: int) -> dict[str, Any]:
    qs = queries(rng, rounds)
    # Service level.
    for q in qs[:20]:
        c.public_register.search(_flt(q), 0, 20)
    samples = []
    for q in qs:
        t0 = time.perf_counter()
        c.public_register.search(_flt(q), 0, 20)
        samples.append(time.perf_counter() - t0)
    service = percentiles(samples)

    # Memory of producing the whole export (service iteration + JSON encoding).
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    size = 0
    for chunk in _json_stream(c.public_register.iter_published()):
        size += len(chunk)
    export_gen_s = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # HTTP level against a live server.
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(c), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    http_samples = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for q in qs[:20]:
            client.get("/register", params=q)
        for q in qs:
            t0 = time.perf_counter()
            r = client.get("/register", params=q)
            http_samples.append(time.perf_counter() - t0)
            assert r.status_code == 200
        t0 = time.perf_counter()
        received = 0
        count_ids = 0
        tail = b""
        with client.stream("GET", "/register.json") as r:
            for part in r.iter_bytes():
                received += len(part)
                window = tail + part
                count_ids += window.count(b'{"id":')
                tail = window[-5:]  # shorter than the marker: never counted twice
        export_http_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        csv_bytes = 0
        with client.stream("GET", "/register.csv") as r:
            for part in r.iter_bytes():
                csv_bytes += len(part)
        export_csv_s = time.perf_counter() - t0
    server.should_exit = True
    thread.join(timeout=10)
    return {
        "search_service": service,
        "search_http": percentiles(http_samples),
        "search_queries": len(qs),
        "export_json_http_s": round(export_http_s, 2),
        "export_json_records": count_ids,
        "export_json_bytes": received,
        "export_csv_http_s": round(export_csv_s, 2),
        "export_csv_bytes": csv_bytes,
        "export_generate_traced_s": round(export_gen_s, 2),
        "export_peak_python_mb": round(peak / 1e6, 1),
        "export_bytes_generated": size,
    }


def _flt(q: dict[str, str]) -> SystemFilter:
    return SystemFilter(
        text=q["q"], sector=Sector(q["sector"]), lifecycle_stage=LifecycleStage(q["stage"])
    )


def run(backend: str, n: int, rounds: int) -> dict[str, Any]:
    rng = random.Random(1234)
    with database(backend) as c:
        t0 = time.perf_counter()
        seed(c, n, rng)
        seeded = time.perf_counter() - t0
        return {"seed_s": round(seeded, 1), **measure(c, n, rng, rounds)}


def main() -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--systems", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    out: dict[str, Any] = {
        "benchmark": "register",
        "systems": args.systems,
        "targets": {"search_p95_ms": 50, "export_s": 10},
    }
    for b in backends:
        out[b] = run(b, args.systems, args.queries)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

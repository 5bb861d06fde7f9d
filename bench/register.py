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
import os
import random
import socket
import statistics
import tempfile
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from sqlalchemy import insert

from ombud.adapters.db.tables import ai_systems, organisations
from ombud.bootstrap import Container, bootstrap
from ombud.config import Environment, Settings
from ombud.domain.lifecycle import LifecycleStage
from ombud.domain.ports import SystemFilter
from ombud.domain.systems import RiskLevel, Sector
from ombud.web.app import create_app
from ombud.web.public.register import _json_stream

PG_ADMIN = os.environ.get("OMBUD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
WORDS = [
    "fraud",
    "risk",
    "scoring",
    "benefit",
    "claims",
    "chatbot",
    "translation",
    "facial",
    "recognition",
    "events",
    "policing",
    "hotspot",
    "forecast",
    "cv",
    "screening",
    "ranking",
    "candidates",
    "school",
    "allocation",
    "traffic",
    "lights",
    "tax",
    "anomaly",
    "sepsis",
    "warning",
    "housing",
    "asylum",
    "transcription",
    "court",
    "anonymisation",
    "parking",
    "plates",
    "energy",
    "demand",
    "library",
    "recommendation",
    "deepfake",
    "election",
    "integrity",
]
STAGES = [s for s in LifecycleStage]
SECTORS = [s for s in Sector]
RISKS = [r for r in RiskLevel]


def settings_for(url: str, data_dir: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        env=Environment.TEST,
        database_url=url,
        data_dir=data_dir,
        secret_key="bench-" + "x" * 40,
        public_rate_limit="off",
        login_rate_limit="off",
    )


def seed(c: Container, n: int, rng: random.Random) -> None:
    now = time.time()
    with c.engines.write.begin() as conn:
        org_ids = []
        for i in range(50):
            org_ids.append(
                conn.execute(
                    insert(organisations)
                    .values(
                        name=f"Bench organisation {i}",
                        slug=f"bench-{i}",
                        kind="public_authority",
                        country="SE",
                        created_at=_dt(now),
                    )
                    .returning(organisations.c.id)
                ).scalar_one()
            )
    batch: list[dict[str, Any]] = []
    for i in range(n):
        words = rng.sample(WORDS, 6)
        name = " ".join(words[:3]).capitalize() + f" {i}"
        purpose = "Supports " + " ".join(words) + " decisions for residents and staff."
        org = rng.choice(org_ids)
        batch.append(
            {
                "organisation_id": org,
                "name": name,
                "purpose": purpose,
                "intended_use": "Caseworkers review every output.",
                "deployment_context": "",
                "sector": rng.choice(SECTORS).value,
                "legal_basis": "Act 12, section 3.",
                "decisions": "",
                "decision_role": "human_decides_with_ai_support",
                "effect_on_people": "",
                "human_oversight": "A person reviews every case.",
                "affected_groups": ["residents"],
                "affects_children": False,
                "affects_persons_with_disabilities": False,
                "data_sources": [
                    {
                        "name": "Case records",
                        "role": "training",
                        "provenance": "own",
                        "personal_data": True,
                        "special_categories": False,
                        "description": "",
                    }
                ],
                "model_technique": "Gradient boosting",
                "provider": "In house",
                "vendor": "",
                "sourcing": "built_in_house",
                "scope_exemption": "none",
                "scope_justification": "",
                "military_use": False,
                "autonomy_in_critical_functions": False,
                "risks_and_safeguards": "",
                "contact_point": "ai@example.org",
                "contest_information": "Write to us.",
                "interaction_notice": "",
                "lifecycle_stage": rng.choice(STAGES).value,
                "publication_state": "published",
                "risk_level": rng.choice(RISKS).value,
                "revision": 1,
                "created_at": _dt(now),
                "updated_at": _dt(now - rng.random() * 3e7),
                "published_at": _dt(now),
                "search_text": f"{name} {purpose} bench organisation {org}".lower(),
            }
        )
        if len(batch) == 5000:
            with c.engines.write.begin() as conn:
                conn.execute(insert(ai_systems), batch)
            batch = []
    if batch:
        with c.engines.write.begin() as conn:
            conn.execute(insert(ai_systems), batch)
    if c.engines.dialect == "postgresql":
        with c.engines.write.connect() as conn:
            conn.exec_driver_sql("ANALYZE ai_systems")
            conn.commit()
    else:
        with c.engines.write.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def _dt(ts: float) -> Any:
    from datetime import datetime

    return datetime.utcfromtimestamp(ts)


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
    with tempfile.TemporaryDirectory() as tmp:
        admin = None
        name = ""
        if backend == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            name = f"ombud_bench_{uuid.uuid4().hex[:8]}"
            admin = psycopg.connect(PG_ADMIN, autocommit=True)
            admin.execute(f'CREATE DATABASE "{name}"')
            url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
        try:
            c = bootstrap(settings_for(url, Path(tmp)), fast_password_hashing=True)
            c.migrations.upgrade()
            t0 = time.perf_counter()
            seed(c, n, rng)
            seeded = time.perf_counter() - t0
            result = {"seed_s": round(seeded, 1), **measure(c, n, rng, rounds)}
            c.close()
            return result
        finally:
            if admin is not None:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()


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

"""Shared by the benchmarks: settings, a throw-away database, bulk seeding.

Files starting with an underscore are not benchmarks: `make bench` skips them.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert

from ombud.accounts.tables import organisations
from ombud.bootstrap import Container, bootstrap
from ombud.kernel.config import Environment, Settings
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.systems import RiskLevel, Sector
from ombud.register.tables import ai_systems

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


def seed(c: Container, n: int, rng: random.Random, organisations_count: int = 50) -> list[int]:
    """Bulk-insert ``n`` published systems over ``organisations_count`` organisations."""
    now = time.time()
    with c.engines.write.begin() as conn:
        org_ids = []
        for i in range(organisations_count):
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
    return org_ids


def _dt(ts: float) -> Any:
    from datetime import datetime

    return datetime.utcfromtimestamp(ts)


@contextmanager
def database(backend: str) -> Iterator[Container]:
    """A migrated, empty database (temporary SQLite file or PostgreSQL database)."""
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
        c = bootstrap(settings_for(url, Path(tmp)), fast_password_hashing=True)
        try:
            c.migrations.upgrade()
            yield c
        finally:
            c.close()
            if admin is not None:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()

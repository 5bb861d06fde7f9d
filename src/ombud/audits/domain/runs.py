"""Audit runs: a bias audit as a job (queued, running, done, failed) and, when done,
as evidence on record for a system (coe-fc:10, unga-78-265:op6.h).

A run keeps what is needed to check it again: the data file's sha256, the row
count, the parameters and the engine's name and version; a rerun on the same
data must give the same document.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ombud.audits.domain.metrics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_MIN_GROUP_SIZE,
    DEFAULT_REPLICATES,
)
from ombud.audits.domain.request import AuditRequest

MAX_ATTEMPTS = 3
DATA_NAME_MAX = 300


class RunState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Purpose(enum.StrEnum):
    PRE_DEPLOYMENT = "pre_deployment"  # testing before first use (coe-fc:16.2.g)
    MONITORING = "monitoring"  # while in use (coe-fc:16.2.e)


@dataclass
class AuditRun:
    id: int
    organisation_id: int
    system_id: int
    purpose: Purpose
    state: RunState
    parameters: dict[str, Any]  # the request as given (see request_parameters)
    data_name: str  # what the person chose (file name or server path), for display
    requested_by: str
    requested_at: datetime
    progress: float = 0.0
    message: str = ""
    data_sha256: str | None = None
    data_rows: int | None = None
    engine: str = ""
    result: dict[str, Any] | None = None
    error: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_until: datetime | None = None
    attempts: int = 0
    published: bool = False

    @property
    def finished(self) -> bool:
        return self.state in (RunState.DONE, RunState.FAILED)

    def held_by(self, attempt: int) -> bool:
        """Whether the worker that claimed this run as its ``attempt``-th try still holds
        it: a worker whose lease ran out and whose run another worker took over (a
        later attempt) must not finish or requeue it, or the run would be finished
        twice, each time with its own ledger entry."""
        return self.state is RunState.RUNNING and self.attempts == attempt


# A run on the server is bounded: an assessor's request must not hold a worker for hours.
MAX_REPLICATES = 100_000
MAX_PROXIES = 100


@dataclass(frozen=True, kw_only=True)
class RunRequest(AuditRequest):
    """An audit asked for on the web or the API: the audit request itself (every field
    of `ombud audit run` but --no-hash: a run on record always keeps the data's sha256),
    with its data named once it is stored, and what the run is for."""

    data: tuple[str, ...] = ()  # filled in when the run executes: the stored data's path
    purpose: Purpose = Purpose.PRE_DEPLOYMENT
    rerun_of: int | None = None

    def problems(self) -> dict[str, str]:
        """The audit request's problems (but the data, which comes separately), and the
        bounds of a run on the server."""
        found = {k: v for k, v in super().problems().items() if k != "data"}
        if self.replicates > MAX_REPLICATES:
            found["bootstrap"] = f"At most {MAX_REPLICATES:,} bootstrap replicates on the server."
        if self.proxies > MAX_PROXIES:
            found["proxies"] = f"List at most {MAX_PROXIES} proxies per attribute."
        return found

    def on(self, data: tuple[str, ...]) -> RunRequest:
        """The same request, on the stored data."""
        return replace(self, data=data)

    def as_json(self) -> dict[str, Any]:
        """The request as stored with the run (``parameters``). The fields the web has
        always had are always there; the others only when they differ from the CLI's
        defaults, so that a run asked for the old way is stored exactly as before."""
        found: dict[str, Any] = {
            "label": self.label,
            "groups": list(self.groups),
            "prediction": self.prediction,
            "score": self.score,
            "threshold": self.threshold,
            "intersect": self.intersect,
            "references": dict(self.references),
            "filter": self.filter,
            "min_group_size": self.min_group_size,
            "rerun_of": self.rerun_of,
            "time_column": self.time_column,
            "window": self.window,
            "alerts": list(self.alerts),
        }
        optional: dict[str, Any] = {
            "intersections": [list(c) for c in self.intersections],
            "population": {k: dict(v) for k, v in self.population.items()},
            "proxies": self.proxies,
            "bootstrap": self.replicates,
            "confidence": self.confidence,
            "seed": self.seed,
        }
        return found | {k: v for k, v in optional.items() if v != _DEFAULTS[k]}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], purpose: Purpose) -> RunRequest:
        """A stored request (any version: missing fields take the CLI's defaults)."""
        return cls(
            label=raw["label"],
            groups=tuple(raw["groups"]),
            prediction=raw.get("prediction"),
            score=raw.get("score"),
            threshold=raw.get("threshold"),
            intersect=bool(raw.get("intersect", False)),
            intersections=tuple(tuple(c) for c in raw.get("intersections") or ()),
            references=dict(raw.get("references") or {}),
            filter=raw.get("filter"),
            min_group_size=int(raw.get("min_group_size", DEFAULT_MIN_GROUP_SIZE)),
            confidence=float(raw.get("confidence", DEFAULT_CONFIDENCE)),
            replicates=int(raw.get("bootstrap", DEFAULT_REPLICATES)),
            seed=int(raw.get("seed", 0)),
            population={k: dict(v) for k, v in (raw.get("population") or {}).items()},
            proxies=int(raw.get("proxies", 0)),
            purpose=purpose,
            rerun_of=raw.get("rerun_of"),
            time_column=raw.get("time_column"),
            window=raw.get("window"),
            alerts=tuple(raw.get("alerts") or ()),
        )


_DEFAULTS: dict[str, Any] = {
    "intersections": [],
    "population": {},
    "proxies": 0,
    "bootstrap": DEFAULT_REPLICATES,
    "confidence": DEFAULT_CONFIDENCE,
    "seed": 0,
}


def data_sha256(result: Mapping[str, Any]) -> str | None:
    """One digest for the data of a result: the file's, or (several files) their list's."""
    files = result.get("data", {}).get("files", [])
    digests = [f.get("sha256") for f in files]
    if not digests or any(d is None for d in digests):
        return None
    if len(digests) == 1:
        return str(digests[0])
    return hashlib.sha256(",".join(str(d) for d in digests).encode()).hexdigest()


def comparable(result: Mapping[str, Any]) -> dict[str, Any]:
    """A result without what legitimately differs between two runs (timings, paths)."""
    out = {k: v for k, v in result.items() if k not in ("engine", "data")}
    out["data_sha256"] = data_sha256(result)
    out["engine"] = {k: v for k, v in result.get("engine", {}).items() if k != "seconds"}
    return out


def largest_difference(a: Any, b: Any) -> float | None:
    """The largest absolute difference between numbers at the same place in two
    documents; None when their shapes differ (other groups, other fields)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return 0.0 if a == b else None
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(float(a) - float(b))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if set(a) != set(b):
            return None
        worst = 0.0
        for key in a:
            d = largest_difference(a[key], b[key])
            if d is None:
                return None
            worst = max(worst, d)
        return worst
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return None
        worst = 0.0
        for x, y in zip(a, b, strict=True):
            d = largest_difference(x, y)
            if d is None:
                return None
            worst = max(worst, d)
        return worst
    return 0.0 if a == b else None


def public_summary(run: AuditRun) -> dict[str, Any]:
    """What the public register shows of a published audit: when, how much data, which
    attributes, which disparities were flagged; no per-row data, no suppressed numbers."""
    result = run.result or {}
    flagged = [
        {
            "attributes": d["attributes"],
            "reference": d["reference"],
            "metric": d["metric"],
            "ratio": d["ratio"],
        }
        for d in result.get("disparities", [])
        if d.get("flagged") and not d.get("suppressed")
    ]
    return {
        "run": run.id,
        "date": (run.finished_at or run.requested_at).date().isoformat(),
        "purpose": run.purpose.value,
        "rows": result.get("rows"),
        "attributes": result.get("parameters", {}).get("groups", []),
        "flagged": flagged,
        "data_sha256": run.data_sha256,
    }


class FindingState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass
class Finding:
    """Something found on a system that needs an answer, e.g. a monitoring alert."""

    id: int
    system_id: int
    organisation_id: int
    audit_run_id: int | None
    source: str  # "monitoring"
    title: str  # what it is about: the rule and the group (one open finding per title)
    detail: dict[str, Any]
    state: FindingState
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str = ""
    resolution: str = ""

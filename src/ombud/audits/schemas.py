"""The API schemas of audit runs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ombud.audits.domain.metrics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_REPLICATES,
    WINDOWS,
)
from ombud.audits.domain.runs import (
    MAX_PROXIES,
    MAX_REPLICATES,
    AuditRun,
    Purpose,
    RunRequest,
    RunState,
)
from ombud.kernel.web.schemas import UtcDateTime


class AuditIn(BaseModel):
    """A bias audit of data on the server: every field of `ombud audit run` (but
    --no-hash), the same defaults; the request's own checks name the field at fault."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1,
        max_length=300,
        description="File, folder or glob under the server's audit data folder "
        "(OMBUD_AUDIT_DATA_ROOT).",
    )
    label: str = Field(min_length=1, max_length=200)
    groups: list[str] = Field(min_length=1, max_length=20)
    prediction: str | None = Field(None, max_length=200)
    score: str | None = Field(None, max_length=200)
    threshold: float | None = None
    intersect: bool = False
    references: dict[str, str] = Field(default_factory=dict)
    filter: str | None = Field(None, max_length=2000)
    min_group_size: int = Field(30, ge=1, le=1_000_000)
    purpose: Purpose = Purpose.PRE_DEPLOYMENT
    time_column: str | None = Field(None, max_length=200, description="Monitoring: timestamp.")
    window: str | None = Field(None, description=", ".join(WINDOWS))
    alerts: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="e.g. 'FPR ratio outside [0.8, 1.25]'; a breach opens a finding.",
    )
    intersections: list[list[str]] = Field(
        default_factory=list,
        max_length=20,
        description="Audit these intersections, e.g. [['race', 'sex']] (--intersection).",
    )
    population: dict[str, dict[str, float]] | None = Field(
        None,
        description="{column: {value: share}}: check representation (--population).",
    )
    proxies: int = Field(
        0, description=f"Screen other columns as proxies; list the top N, at most {MAX_PROXIES}."
    )
    bootstrap: int = Field(
        DEFAULT_REPLICATES,
        description=f"Bootstrap replicates for the intervals of differences (0: none; at most "
        f"{MAX_REPLICATES:,}).",
    )
    confidence: float = Field(DEFAULT_CONFIDENCE, description="Level of the intervals.")
    seed: int = Field(0, description="Seed of the bootstrap.")

    def run_request(self) -> RunRequest:
        return RunRequest(
            label=self.label,
            groups=tuple(self.groups),
            prediction=self.prediction,
            score=self.score,
            threshold=self.threshold,
            intersect=self.intersect,
            intersections=tuple(tuple(c) for c in self.intersections),
            references=self.references,
            filter=self.filter,
            min_group_size=self.min_group_size,
            confidence=self.confidence,
            replicates=self.bootstrap,
            seed=self.seed,
            population=self.population or {},
            proxies=self.proxies,
            purpose=self.purpose,
            time_column=self.time_column,
            window=self.window,
            alerts=tuple(self.alerts),
        )


class AuditOut(BaseModel):
    id: int
    system_id: int
    purpose: Purpose
    state: RunState
    progress: float
    message: str
    data_name: str
    data_sha256: str | None
    data_rows: int | None
    engine: str
    error: str
    requested_by: str
    requested_at: UtcDateTime
    finished_at: UtcDateTime | None
    published: bool
    parameters: dict[str, Any]
    result: dict[str, Any] | None = Field(description="When done: the audit document.")

    @classmethod
    def of(cls, r: AuditRun, with_result: bool = True) -> AuditOut:
        return cls(
            id=r.id,
            system_id=r.system_id,
            purpose=r.purpose,
            state=r.state,
            progress=r.progress,
            message=r.message,
            data_name=r.data_name,
            data_sha256=r.data_sha256,
            data_rows=r.data_rows,
            engine=r.engine,
            error=r.error,
            requested_by=r.requested_by,
            requested_at=r.requested_at,
            finished_at=r.finished_at,
            published=r.published,
            parameters={k: v for k, v in r.parameters.items() if k != "data_path"},
            result=r.result if with_result else None,
        )


class AuditList(BaseModel):
    items: list[AuditOut]


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published: bool

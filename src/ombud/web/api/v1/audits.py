"""Bias audits as evidence: request a run (server path or upload), follow it, read the
stored result (the JSON of docs/audit-json-schema.md), publish a summary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from ombud.domain.audit_runs import AuditRun, Purpose, RunRequest, RunState
from ombud.kernel.files import clean_name
from ombud.kernel.web.api import PathId, errors
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.kernel.web.schemas import UtcDateTime

router = APIRouter(tags=["audits"])


class AuditIn(BaseModel):
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
    window: str | None = Field(None, description="day, week, month, quarter or year")
    alerts: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="e.g. 'FPR ratio outside [0.8, 1.25]'; a breach opens a finding.",
    )

    def run_request(self) -> RunRequest:
        return RunRequest(
            label=self.label,
            groups=tuple(self.groups),
            prediction=self.prediction,
            score=self.score,
            threshold=self.threshold,
            intersect=self.intersect,
            references=self.references,
            filter=self.filter,
            min_group_size=self.min_group_size,
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


@router.post(
    "/systems/{system_id}/audits",
    status_code=202,
    summary="Audit data on the server",
    responses=errors(404),
)
def request_audit(
    system_id: PathId, body: AuditIn, c: ContainerDep, principal: ApiPrincipal
) -> AuditOut:
    """Queue a bias audit of data under the audit data folder; poll GET /audits/{id}."""
    rr = body.run_request()
    path = c.audit_runs.server_path(principal, system_id, body.path)
    return AuditOut.of(c.audit_runs.request(principal, system_id, rr, path, body.path))


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(1 << 20):
        yield chunk


@router.post(
    "/systems/{system_id}/audits/upload",
    status_code=202,
    summary="Upload data and audit it",
    responses=errors(404),
)
async def upload_audit(
    system_id: PathId,
    c: ContainerDep,
    principal: ApiPrincipal,
    file: Annotated[UploadFile, File(description="CSV or Parquet")],
    label: Annotated[str, Form(min_length=1, max_length=200)],
    groups: Annotated[str, Form(min_length=1, max_length=1000, description="Comma-separated")],
    prediction: Annotated[str | None, Form(max_length=200)] = None,
    score: Annotated[str | None, Form(max_length=200)] = None,
    threshold: Annotated[float | None, Form()] = None,
    intersect: Annotated[bool, Form()] = False,
    filter: Annotated[str | None, Form(max_length=2000)] = None,
    min_group_size: Annotated[int, Form(ge=1, le=1_000_000)] = 30,
    purpose: Annotated[Purpose, Form()] = Purpose.PRE_DEPLOYMENT,
) -> AuditOut:
    """Multipart: the file and the audit's fields; the data is streamed to disk and hashed."""
    rr = RunRequest(
        label=label,
        groups=tuple(g.strip() for g in groups.split(",") if g.strip()),
        prediction=prediction or None,
        score=score or None,
        threshold=threshold,
        intersect=intersect,
        filter=filter or None,
        min_group_size=min_group_size,
        purpose=purpose,
    )
    c.audit_runs.may_run(principal, system_id)
    name = clean_name(file.filename or "data")
    path = await c.audit_runs.store_upload(principal, system_id, name, _chunks(file))
    return AuditOut.of(c.audit_runs.request(principal, system_id, rr, path, name))


@router.get("/systems/{system_id}/audits", summary="A system's audits", responses=errors(404))
def system_audits(system_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> AuditList:
    """Newest first, without the result documents (GET each audit for its result)."""
    return AuditList(
        items=[AuditOut.of(r, False) for r in c.audit_runs.for_system(principal, system_id)]
    )


@router.get("/audits/{run_id}", summary="One audit", responses=errors(404))
def get_audit(run_id: PathId, c: ContainerDep, principal: ApiPrincipal) -> AuditOut:
    """State and progress; when done, the stored result with the data's sha256."""
    return AuditOut.of(c.audit_runs.get(principal, run_id)[0])


@router.post("/audits/{run_id}/publish", summary="Publish a summary", responses=errors(404))
def publish_audit(
    run_id: PathId, body: PublishIn, c: ContainerDep, principal: ApiPrincipal
) -> AuditOut:
    """Show (or stop showing) a summary on the public register page of the system."""
    return AuditOut.of(c.audit_runs.set_published(principal, run_id, body.published), False)

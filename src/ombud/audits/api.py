"""Bias audits as evidence: request a run (server path or upload), follow it, read the
stored result (the JSON of docs/audit-json-schema.md), publish a summary."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from ombud.audits import forms
from ombud.audits.analysis import parse_intersections
from ombud.audits.domain.metrics import DEFAULT_CONFIDENCE, DEFAULT_REPLICATES, WINDOWS
from ombud.audits.domain.runs import Purpose, RunRequest
from ombud.audits.schemas import AuditIn, AuditList, AuditOut, PublishIn
from ombud.kernel.errors import Invalid
from ombud.kernel.files import clean_name
from ombud.kernel.web.api import PathId, errors
from ombud.kernel.web.deps import ApiPrincipal, ContainerDep
from ombud.kernel.web.forms import file_chunks

router = APIRouter(tags=["audits"])

# Plain `def` handlers: they call the (synchronous) services, so FastAPI runs them in its
# thread pool; an upload is received (spooled to a temporary file) before the call.


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


@router.post(
    "/systems/{system_id}/audits/upload",
    status_code=202,
    summary="Upload data and audit it",
    responses=errors(404),
)
def upload_audit(
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
    references: Annotated[
        str | None, Form(max_length=5000, description="One COLUMN=VALUE per line.")
    ] = None,
    intersections: Annotated[
        str | None,
        Form(max_length=5000, description="One intersection per line: COLUMN,COLUMN[,...]."),
    ] = None,
    population: Annotated[
        str | None,
        Form(max_length=100_000, description="YAML or JSON {column: {value: share}}."),
    ] = None,
    proxies: Annotated[int, Form(description="List the top N proxies (0: off).")] = 0,
    bootstrap: Annotated[int, Form(description="Bootstrap replicates (0: none).")] = (
        DEFAULT_REPLICATES
    ),
    confidence: Annotated[float, Form(description="Level of the intervals.")] = (
        DEFAULT_CONFIDENCE
    ),
    seed: Annotated[int, Form(description="Seed of the bootstrap.")] = 0,
    time_column: Annotated[str | None, Form(max_length=200, description="Monitoring.")] = None,
    window: Annotated[str | None, Form(description=", ".join(WINDOWS))] = None,
    alerts: Annotated[str | None, Form(max_length=5000, description="One rule per line.")] = None,
) -> AuditOut:
    """Multipart: the file and the audit's fields (those of the web form: text fields of
    one item per line); the data is streamed to disk and hashed."""
    problems: dict[str, str] = {}
    rr = RunRequest(
        label=label,
        groups=tuple(g.strip() for g in groups.split(",") if g.strip()),
        prediction=prediction or None,
        score=score or None,
        threshold=threshold,
        intersect=intersect,
        intersections=parse_intersections(forms.lines(intersections)),
        references=forms.references(references, problems),
        filter=filter or None,
        min_group_size=min_group_size,
        confidence=confidence,
        replicates=bootstrap,
        seed=seed,
        population=forms.population(population, problems),
        proxies=proxies,
        purpose=purpose,
        time_column=time_column or None,
        window=window or None,
        alerts=tuple(forms.lines(alerts)),
    )
    if problems:
        raise Invalid.from_fields(problems)
    c.audit_runs.may_run(principal, system_id)
    c.audit_runs.check(rr)  # before the upload is stored
    name = clean_name(file.filename or "data")
    path = c.audit_runs.store_upload(principal, system_id, name, file_chunks(file))
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

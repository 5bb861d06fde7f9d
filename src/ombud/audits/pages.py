"""Bias audits in the web app: request one on a system (upload or server path), follow
its progress, read the report with its plots, publish a summary, rerun, cite."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from ombud.audits.domain.monitoring import over_time
from ombud.audits.domain.runs import Purpose, RunRequest
from ombud.kernel.errors import Invalid
from ombud.kernel.safe_load import whole_number
from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.forms import text
from ombud.kernel.web.templating import redirect, render

router = APIRouter()
CHUNK = 1 << 20
OVER_TIME_METRICS = ("fpr", "selection_rate", "tpr")


REQUEST_FIELDS = (
    "label", "prediction", "score", "threshold", "groups", "intersect", "references",
    "filter", "min_group_size", "purpose", "time_column", "window", "alerts",
)  # fmt: skip


def run_request(fields: Mapping[str, Any]) -> RunRequest:
    """The audit asked for in a form (or a JSON body of the same field names)."""

    def get(key: str) -> str:
        value = fields.get(key)
        return "" if value is None else str(value).strip()

    errors: dict[str, str] = {}
    threshold: float | None = None
    if get("threshold"):
        try:
            threshold = float(get("threshold"))
        except ValueError:
            errors["threshold"] = "A number, e.g. 0.5."
    try:
        min_size = int(get("min_group_size") or 30)
    except ValueError:
        errors["min_group_size"] = "A whole number, e.g. 30."
        min_size = 30
    references: dict[str, str] = {}
    for n, line in enumerate(get("references").splitlines(), start=1):
        if not line.strip():
            continue
        column, sep, value = line.partition("=")
        if not sep or not column.strip():
            errors["references"] = f"Line {n}: write COLUMN=VALUE, e.g. sex=female."
            break
        references[column.strip()] = value.strip()
    try:
        purpose = Purpose(get("purpose") or Purpose.PRE_DEPLOYMENT.value)
    except ValueError:
        errors["purpose"] = "Choose pre-deployment testing or monitoring."
        purpose = Purpose.PRE_DEPLOYMENT
    if errors:
        raise Invalid.from_fields(errors)
    return RunRequest(
        label=get("label"),
        groups=tuple(g.strip() for g in get("groups").split(",") if g.strip()),
        prediction=get("prediction") or None,
        score=get("score") or None,
        threshold=threshold,
        intersect=get("intersect") in ("1", "on", "true", "True", "yes"),
        references=references,
        filter=get("filter") or None,
        min_group_size=min_size,
        purpose=purpose,
        time_column=get("time_column") or None,
        window=get("window") or None,
        alerts=tuple(a.strip() for a in get("alerts").splitlines() if a.strip()),
    )


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


def _page(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    system_id: int,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    view = c.register.get(principal, system_id)
    return render(
        request,
        "audits/system.html",
        {
            "s": view.system,
            "runs": c.audit_runs.for_system(principal, system_id),
            "can_run": c.audit_runs.can_run(principal, system_id),
            "server_paths": c.settings.audit_data_root is not None,
            "values": values or {"min_group_size": "30", "purpose": "pre_deployment"},
            "errors": errors or {},
            "message": message,
        },
        status_code,
    )


@router.get("/systems/{system_id}/audits", response_class=HTMLResponse)
def system_audits(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    return _page(request, c, principal, system_id)


@router.post("/systems/{system_id}/audits", response_class=HTMLResponse)
async def request_audit(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    form = await request.form()
    values = {k: text(form, k) for k in (*REQUEST_FIELDS, "path", "source")}
    values["intersect"] = "1" if text(form, "intersect") else ""
    try:
        rr = run_request({k: text(form, k) for k in REQUEST_FIELDS})
        c.audit_runs.may_run(principal, system_id)
        upload = form.get("file")
        if text(form, "source") == "path":
            path = c.audit_runs.server_path(principal, system_id, text(form, "path"))
            name = text(form, "path")
        elif isinstance(upload, UploadFile) and upload.filename:
            from ombud.kernel.files import clean_name

            name = clean_name(upload.filename)
            path = await c.audit_runs.store_upload(principal, system_id, name, _chunks(upload))
        else:
            raise Invalid.from_fields({"file": "Choose a CSV or Parquet file to audit."})
        run = c.audit_runs.request(principal, system_id, rr, path, name)
    except Invalid as exc:
        return _page(
            request, c, principal, system_id, values, exc.field_messages(), exc.message, 422
        )
    return redirect(request, f"/audits/{run.id}", "Audit queued.")


@router.get("/audits/{run_id:int}", response_class=HTMLResponse)
def show(request: Request, run_id: int, c: ContainerDep, principal: PagePrincipal) -> Response:
    run, system = c.audit_runs.get(principal, run_id)
    assessments = c.assessments.for_system(principal, system.id) if run.result else []
    result = run.result or {}
    windows = result.get("windows")
    breaches = result.get("alerts", {}).get("breaches", [])
    return render(
        request,
        "audits/run.html",
        {
            "run": run,
            "s": system,
            "r": result,
            "groupings": result.get("groupings", []),
            "groups": result.get("groups", []),
            "flagged": [d for d in result.get("disparities", []) if d.get("flagged")],
            "windows": windows,
            "over_time": [(m, over_time(windows, m, "ratio", breaches)) for m in OVER_TIME_METRICS]
            if windows
            else [],
            "breaches": breaches,
            "assessments": assessments,
            "can_run": c.audit_runs.can_run(principal, system.id),
            "shown_parameters": {
                k: v for k, v in run.parameters.items() if k not in ("data_path", "rerun_check")
            },
        },
    )


@router.get("/audits/{run_id:int}.json")
def result_json(run_id: int, c: ContainerDep, principal: PagePrincipal) -> Response:
    run, _ = c.audit_runs.get(principal, run_id)
    if run.result is None:
        raise Invalid(f"Audit {run_id} has no result yet ({run.state.value}).")
    return Response(
        json.dumps(run.result, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="audit-{run_id}.json"'},
    )


@router.get("/audits/{run_id}/plots/{kind}.svg")
def plot(run_id: int, kind: str, c: ContainerDep, principal: PagePrincipal) -> Response:
    return Response(c.audit_runs.plot(principal, run_id, kind), media_type="image/svg+xml")


@router.post("/audits/{run_id}/publish")
async def publish(
    request: Request, run_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    form = await request.form()
    on = text(form, "published") == "1"
    c.audit_runs.set_published(principal, run_id, on)
    return redirect(
        request,
        f"/audits/{run_id}",
        "A summary is shown on the public register." if on else "No longer shown in public.",
    )


@router.post("/audits/{run_id}/rerun")
def rerun(request: Request, run_id: int, c: ContainerDep, principal: PagePrincipal) -> Response:
    again = c.audit_runs.rerun(principal, run_id)
    return redirect(request, f"/audits/{again.id}", f"Rerun of audit {run_id} queued.")


@router.post("/audits/{run_id}/cite")
async def cite(
    request: Request, run_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    form = await request.form()
    raw = text(form, "assessment")
    assessment_id = whole_number(raw)
    if assessment_id is None:
        raise Invalid.from_fields({"assessment": "Choose the assessment that cites this audit."})
    c.audit_runs.cite(principal, assessment_id, run_id)
    return redirect(request, f"/audits/{run_id}", f"Cited in assessment {raw}.")


@router.post("/findings/{finding_id}/resolve")
async def resolve_finding(
    request: Request, finding_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    form = await request.form()
    finding = c.audit_runs.resolve_finding(principal, finding_id, text(form, "resolution"))
    return redirect(request, f"/systems/{finding.system_id}", "Finding resolved.")

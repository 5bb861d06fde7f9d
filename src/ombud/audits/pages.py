"""Bias audits in the web app: request one on a system (upload or server path), follow
its progress, read the report with its plots, publish a summary, rerun, cite."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ombud.audits.domain.metrics import CHART_METRICS, TABLE_METRICS, WINDOWS, Metric
from ombud.audits.domain.monitoring import over_time, over_time_views
from ombud.audits.forms import DEFAULTS, REQUEST_FIELDS, input_errors, run_request
from ombud.kernel.errors import Invalid
from ombud.kernel.safe_load import whole_number
from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.forms import SubmittedForm, chosen_file, file_chunks, text
from ombud.kernel.web.templating import redirect, render

router = APIRouter()

# Handlers are plain `def`: they call the (synchronous) services, so FastAPI runs them in
# its thread pool; the form (and an uploaded file) is read beforehand, on the event
# loop, by the SubmittedForm dependency.


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
            "values": values or dict(DEFAULTS),
            "errors": errors or {},
            "message": message,
            "window_choices": WINDOWS,
        },
        status_code,
    )


@router.get("/systems/{system_id}/audits", response_class=HTMLResponse)
def system_audits(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    return _page(request, c, principal, system_id)


@router.post("/systems/{system_id}/audits", response_class=HTMLResponse)
def request_audit(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    values = {k: text(form, k) for k in (*REQUEST_FIELDS, "path", "source")}
    values["intersect"] = "1" if text(form, "intersect") else ""
    try:
        rr = run_request({k: values[k] for k in REQUEST_FIELDS})
        c.audit_runs.may_run(principal, system_id)
        c.audit_runs.check(rr)  # before an upload is stored
        upload = chosen_file(form, "file")
        if text(form, "source") == "path":
            path = c.audit_runs.server_path(principal, system_id, text(form, "path"))
            name = text(form, "path")
        elif upload is not None:
            from ombud.kernel.files import clean_name

            name = clean_name(upload.filename or "data")
            path = c.audit_runs.store_upload(principal, system_id, name, file_chunks(upload))
        else:
            raise Invalid.from_fields({"file": "Choose a CSV or Parquet file to audit."})
        run = c.audit_runs.request(principal, system_id, rr, path, name)
    except Invalid as exc:
        return _page(request, c, principal, system_id, values, input_errors(exc), exc.message, 422)
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
            "over_time": [
                (metric, kind, over_time(windows, metric, kind, breaches))
                for metric, kind in over_time_views(result.get("alerts"))
            ]
            if windows
            else [],
            "chart_metrics": CHART_METRICS,
            "table_metrics": TABLE_METRICS,
            "metric_labels": {m.value: m.label for m in Metric},
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
def publish(
    request: Request, run_id: int, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
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
def cite(
    request: Request, run_id: int, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    raw = text(form, "assessment")
    assessment_id = whole_number(raw)
    if assessment_id is None:
        raise Invalid.from_fields({"assessment": "Choose the assessment that cites this audit."})
    c.audit_runs.cite(principal, assessment_id, run_id)
    return redirect(request, f"/audits/{run_id}", f"Cited in assessment {raw}.")


@router.post("/findings/{finding_id}/resolve")
def resolve_finding(
    request: Request,
    finding_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    finding = c.audit_runs.resolve_finding(principal, finding_id, text(form, "resolution"))
    return redirect(request, f"/systems/{finding.system_id}", "Finding resolved.")

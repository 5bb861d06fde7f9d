"""Assessment pages: start, answer (autosave with HTMX, plain form without), submit,
sign off, comment, red-line decisions, report (HTML and PDF), and what is due."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ombud.assessments.domain import EVIDENCE_MAX_BYTES, RedLineDecisionKind
from ombud.assessments.forms import answers_from_form
from ombud.kernel.errors import Conflict, Invalid
from ombud.kernel.safe_load import whole_number
from ombud.kernel.web.deps import ContainerDep, PagePrincipal
from ombud.kernel.web.forms import (
    SubmittedForm,
    chosen_file,
    file_content,
    required_choice,
    text,
)
from ombud.kernel.web.security import content_disposition
from ombud.kernel.web.templating import is_htmx, redirect, render

router = APIRouter()


def _date(raw: str, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid.from_fields({name: "Use a date such as 2026-12-31."}) from None


@router.get("/systems/{system_id}/assessments", response_class=HTMLResponse)
def system_assessments(
    request: Request, system_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    view = c.register.get(principal, system_id)
    found = [
        c.assessments.get(principal, a.id) for a in c.assessments.for_system(principal, system_id)
    ]
    return render(
        request,
        "assessments/list.html",
        {
            "view": view,
            "assessments": found,
            "templates": c.assessments.latest_templates(),
        },
    )


@router.post("/systems/{system_id}/assessments")
def start(
    request: Request,
    system_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    a = c.assessments.start(principal, system_id, text(form, "template"))
    return redirect(
        request,
        f"/assessments/{a.id}",
        "Assessment started: answer in any order; every save is kept.",
    )


@router.get("/assessments", response_class=HTMLResponse)
def due(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    return render(request, "assessments/due.html", {"due": c.assessments.due(principal)})


def _page(
    request: Request,
    c: ContainerDep,
    principal: PagePrincipal,
    assessment_id: int,
    errors: dict[str, str] | None = None,
    message: str | None = None,
    status_code: int = 200,
    typed: dict[str, object] | None = None,
) -> Response:
    view = c.assessments.get(principal, assessment_id)
    answers = {**view.assessment.answers, **(typed or {})}
    return render(
        request,
        "assessments/form.html",
        {
            "v": view,
            "a": view.assessment,
            "t": view.template,
            "answers": answers,
            "errors": errors or {},
            "message": message,
            "evidence": c.assessments.evidence(principal, assessment_id),
            "audits": c.audit_runs.cited_in(principal, assessment_id),
        },
        status_code,
    )


@router.get("/assessments/{assessment_id}", response_class=HTMLResponse)
def show(
    request: Request, assessment_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    return _page(request, c, principal, assessment_id)


@router.post("/assessments/{assessment_id}", response_class=HTMLResponse)
def save(
    request: Request,
    assessment_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    """Save answers (the plain form, and HTMX autosave with a small status reply)."""
    view = c.assessments.get(principal, assessment_id)
    answers = answers_from_form(view.template, form)
    revision_raw = text(form, "revision")
    revision = whole_number(revision_raw)
    try:
        saved = c.assessments.save_answers(principal, assessment_id, answers, revision)
    except Invalid as exc:
        if is_htmx(request):
            return render(
                request,
                "assessments/_status.html",
                {"errors": exc.field_messages(), "v": view},
                422,
            )
        return _page(
            request,
            c,
            principal,
            assessment_id,
            exc.field_messages(),
            "Some answers are not valid; nothing was saved. Correct them below.",
            422,
            answers,
        )
    except Conflict as exc:
        if is_htmx(request):
            return render(
                request, "assessments/_status.html", {"conflict": exc.message, "v": view}, 409
            )
        return _page(request, c, principal, assessment_id, None, exc.message, 409, answers)
    fresh = c.assessments.get(principal, assessment_id)
    if is_htmx(request):
        return render(request, "assessments/_status.html", {"v": fresh, "saved": saved})
    if "submit" in form:
        try:
            c.assessments.submit(principal, assessment_id)
        except Invalid as exc:
            return _page(
                request, c, principal, assessment_id, exc.field_messages(), exc.message, 422
            )
        return redirect(request, f"/assessments/{assessment_id}", "Submitted for sign-off.")
    return redirect(request, f"/assessments/{assessment_id}", "Answers saved.")


REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; form-action 'none'; base-uri 'none'"
)
ANSWERS_UPLOAD_MAX = 1_000_000
ANSWERS_SUFFIXES = (".yaml", ".yml", ".json")


@router.post("/assessments/{assessment_id}/answers-file", response_class=HTMLResponse)
def upload_answers(
    request: Request,
    assessment_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    """Answers from a YAML or JSON file; a broken file changes nothing and says where."""
    upload = chosen_file(form, "answers_file")
    if upload is None or not upload.filename:
        raise Invalid.from_fields({"answers_file": "Choose a YAML or JSON file of answers."})
    name = upload.filename.rsplit("/", 1)[-1]
    if not name.lower().endswith(ANSWERS_SUFFIXES):
        raise Invalid.from_fields({"answers_file": f"{name}: use a .yaml, .yml or .json file."})
    data = file_content(upload, ANSWERS_UPLOAD_MAX)
    if len(data) > ANSWERS_UPLOAD_MAX:
        raise Invalid.from_fields(
            {"answers_file": f"{name} is larger than {ANSWERS_UPLOAD_MAX} bytes."}
        )
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid.from_fields(
            {"answers_file": f"{name} is not UTF-8 text (byte {exc.start})."}
        ) from None
    try:
        # Parsing is bounded (ombud.kernel.safe_load), and in the thread pool.
        c.assessments.run_answers_file(principal, assessment_id, name, content)
    except Invalid as exc:
        return _page(
            request,
            c,
            principal,
            assessment_id,
            exc.field_messages(),
            f"Nothing was saved: {exc.message}",
            422,
        )
    return redirect(request, f"/assessments/{assessment_id}", f"Answers from {name} saved.")


@router.post("/assessments/{assessment_id}/evidence", response_class=HTMLResponse)
def attach_evidence(
    request: Request,
    assessment_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    upload = chosen_file(form, "evidence_file")
    if upload is None or not upload.filename:
        raise Invalid.from_fields({"evidence_file": "Choose a file to attach."})
    data = file_content(upload, EVIDENCE_MAX_BYTES)
    try:
        f = c.assessments.attach_evidence(principal, assessment_id, upload.filename, data)
    except Invalid as exc:
        return _page(
            request,
            c,
            principal,
            assessment_id,
            exc.field_messages(),
            f"Not attached: {exc.message}",
            422,
        )
    return redirect(
        request,
        f"/assessments/{assessment_id}#evidence",
        f"Attached {f.name} (sha256 {f.sha256[:12]}…).",
    )


@router.get("/evidence/{file_id}")
def download_evidence(file_id: int, c: ContainerDep, principal: PagePrincipal) -> Response:
    f, data = c.assessments.evidence_file(principal, file_id)
    return Response(
        data,
        media_type=f.content_type,
        headers={
            "content-disposition": content_disposition(f.name),
            "x-content-type-options": "nosniff",
            "cache-control": "private, no-store",
        },
    )


@router.post("/assessments/{assessment_id}/sign")
def sign(
    request: Request,
    assessment_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    digest = c.assessments.sign(
        principal, assessment_id, _date(text(form, "review_date"), "review_date")
    )
    return redirect(
        request,
        f"/assessments/{assessment_id}",
        f"Signed. Content sha256 {digest[:16]}… is on the ledger.",
    )


@router.post("/assessments/{assessment_id}/comments")
def comment(
    request: Request,
    assessment_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    c.assessments.comment(principal, assessment_id, text(form, "text"))
    return redirect(request, f"/assessments/{assessment_id}#comments", "Comment added.")


@router.post("/assessments/{assessment_id}/decisions")
def decide(
    request: Request,
    assessment_id: int,
    c: ContainerDep,
    principal: PagePrincipal,
    form: SubmittedForm,
) -> Response:
    c.assessments.decide_red_line(
        principal,
        assessment_id,
        text(form, "rule_id"),
        required_choice(form, "kind", RedLineDecisionKind),
        text(form, "reason"),
        _date(text(form, "until"), "until"),
        text(form, "legal_basis"),
        _date(text(form, "review_date"), "review_date"),
    )
    return redirect(request, f"/assessments/{assessment_id}", "Decision recorded.")


@router.get("/assessments/{assessment_id}/report", response_class=HTMLResponse)
def report(assessment_id: int, c: ContainerDep, principal: PagePrincipal) -> Response:
    # A self-contained document: its own inline styles (and the heat map's), no script.
    return HTMLResponse(
        c.assessments.report_html(principal, assessment_id, links=True),
        headers={"content-security-policy": REPORT_CSP},
    )


@router.get("/assessments/{assessment_id}/report.pdf")
def report_pdf(assessment_id: int, c: ContainerDep, principal: PagePrincipal) -> Response:
    pdf = c.assessments.report_pdf(principal, assessment_id)
    name = f"assessment-{assessment_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )

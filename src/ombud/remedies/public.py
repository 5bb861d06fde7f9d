"""The public side of remedies: report, complain or ask for human review about a
published system, and follow the case with its tracking code and key (no account)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData

from ombud.bootstrap import Container
from ombud.kernel.errors import Invalid, NotFound
from ombud.kernel.files import Upload, clean_name, describe_types
from ombud.kernel.web.deps import ContainerDep, client_address
from ombud.kernel.web.errors import error_body
from ombud.kernel.web.forms import (
    SubmittedForm,
    chosen_files,
    file_content,
    required_choice,
    text,
)
from ombud.kernel.web.security import FORM_TOKEN_FIELD, form_token, form_token_problem
from ombud.kernel.web.templating import redirect, render
from ombud.register.domain.systems import AISystem
from ombud.remedies.domain import ATTACHMENT_TYPES, CaseKind, Category, PublicReport

router = APIRouter()

# Spam resistance without third parties: a field people do not see stays empty.
HONEYPOT = "website"


def _report_page(
    request: Request,
    c: Container,
    system: AISystem,
    values: dict[str, str | bool],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "remedies/report.html",
        {
            "s": system,
            "values": values,
            "errors": errors,
            "Category": Category,
            "form_token": form_token(c.settings.resolved_secret_key(), time.time()),
            "limits": c.remedies.limits,
            "accept": ",".join(sorted(ATTACHMENT_TYPES)),
            "file_types": describe_types(ATTACHMENT_TYPES),
        },
        status_code,
    )


def uploads_of(form: FormData) -> list[Upload]:
    """The files chosen in a form's 'attachments' field (empty file inputs ignored)."""
    return [
        Upload(clean_name(f.filename or ""), file_content(f))
        for f in chosen_files(form, "attachments")
    ]


def check_form(request: Request, c: Container, form: FormData) -> None:
    """Spam resistance without third parties: an empty honeypot and a signed time stamp."""
    if text(form, HONEYPOT):
        raise Invalid.from_fields({HONEYPOT: "This form was filled in by a program."})
    problem = form_token_problem(
        c.settings.resolved_secret_key(),
        text(form, FORM_TOKEN_FIELD),
        time.time(),
        c.settings.public_min_fill_seconds,
    )
    if problem:
        raise Invalid.from_fields({FORM_TOKEN_FIELD: problem})


@router.get("/register/{system_id:int}/report", response_class=HTMLResponse)
def report_form(request: Request, system_id: int, c: ContainerDep) -> Response:
    listing = c.public_register.get(system_id)
    return _report_page(request, c, listing.system, {}, {})


@router.post("/register/{system_id:int}/report", response_class=HTMLResponse)
def submit_report(
    request: Request, system_id: int, c: ContainerDep, form: SubmittedForm
) -> Response:
    request.app.state.rate_limits.hit(
        c.settings.public_rate_limit, "public-intake", client_address(request)
    )
    listing = c.public_register.get(system_id)
    values: dict[str, str | bool] = {
        k: text(form, k)
        for k in ("kind", "category", "description", "contact", "decision_reference")
    }
    removal = "removal_requested" in form
    values["removal_requested"] = removal
    try:
        check_form(request, c, form)
        receipt = c.remedies.submit(
            PublicReport(
                system_id,
                required_choice(form, "kind", CaseKind),
                required_choice(form, "category", Category),
                text(form, "description"),
                text(form, "contact"),
                text(form, "decision_reference"),
                removal,
            ),
            uploads_of(form),
        )
    except Invalid as exc:
        errors = exc.field_messages()
        if "attachments" in errors:
            errors["attachments"] += " Please choose the files again."
        return _report_page(request, c, listing.system, values, errors, 422)
    return render(
        request,
        "remedies/received.html",
        {
            "code": receipt.tracking_code,
            "follow": f"/follow/{receipt.tracking_code}/{receipt.secret}",
        },
        201,
    )


@router.get("/follow/{code}/{key}", response_class=HTMLResponse)
def follow(request: Request, code: str, key: str, c: ContainerDep) -> Response:
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        status = c.remedies.follow(code[:20], key[:100])
    except NotFound as exc:
        if wants_json:
            return JSONResponse(error_body(exc.code, exc.message), exc.http_status)
        raise
    if wants_json:
        return JSONResponse(status)
    return _follow_page(request, c, status, code, key)


def _follow_page(
    request: Request,
    c: Container,
    status: dict[str, Any],
    code: str,
    key: str,
    errors: dict[str, str] | None = None,
    typed: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "remedies/follow.html",
        {
            "st": status,
            "code": code,
            "key": key,
            "errors": errors or {},
            "typed": typed,
            "limits": c.remedies.limits,
            "accept": ",".join(sorted(ATTACHMENT_TYPES)),
            "file_types": describe_types(ATTACHMENT_TYPES),
        },
        status_code,
    )


@router.post("/follow/{code}/{key}/escalate")
def escalate(request: Request, code: str, key: str, c: ContainerDep) -> Response:
    c.remedies.escalate_overdue(code[:20], key[:100])
    return redirect(request, f"/follow/{code}/{key}", "Your case was passed to the oversight body.")


@router.post("/follow/{code}/{key}")
def add_information(
    request: Request, code: str, key: str, c: ContainerDep, form: SubmittedForm
) -> Response:
    request.app.state.rate_limits.hit(
        c.settings.public_rate_limit, "public-intake", client_address(request)
    )
    try:
        c.remedies.add_information(code[:20], key[:100], text(form, "text"), uploads_of(form))
    except Invalid as exc:
        errors = exc.field_messages()
        if "attachments" in errors:
            errors["attachments"] += " Please choose the files again."
        status = c.remedies.follow(code[:20], key[:100])
        return _follow_page(request, c, status, code, key, errors, text(form, "text"), 422)
    return redirect(request, f"/follow/{code}/{key}", "Your information was added to the case.")


# -- the AI notice (coe-fc:15.2) -------------------------------------------------

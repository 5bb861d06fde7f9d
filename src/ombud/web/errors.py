"""Errors, mapped once: an HTML page (HTMX-aware) for pages, a JSON body for the API.

JSON error body: {"error": {"code": ..., "message": ..., "fields": [{"loc": [...], "msg": ...}]}}
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ombud.errors import Invalid, OmbudError
from ombud.web.deps import LoginRequired
from ombud.web.templating import is_htmx, redirect, render

log = logging.getLogger("ombud.web")

_HTTP_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
}


def _validation_fields(exc: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for e in exc.errors():
        loc = [p for p in e.get("loc", ())]
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == "json_invalid":
            ctx = e.get("ctx") or {}
            msg = f"Malformed JSON: {ctx.get('error', 'could not be parsed')}"
        fields.append({"loc": loc, "msg": msg})
    return fields


def _summary(fields: list[dict[str, Any]]) -> str:
    parts = []
    for f in fields[:5]:
        where = ".".join(str(p) for p in f["loc"][1:]) or str(f["loc"][0] if f["loc"] else "")
        parts.append(f"{where}: {f['msg']}" if where else f["msg"])
    return "Invalid request — " + "; ".join(parts)


def error_body(
    code: str, message: str, fields: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return {"error": body}


def install_api_handlers(app: FastAPI) -> None:
    @app.exception_handler(OmbudError)
    async def ombud_error(_request: Request, exc: OmbudError) -> Response:
        fields = [p.as_dict() for p in exc.problems] if isinstance(exc, Invalid) else None
        headers = {"www-authenticate": "Bearer"} if exc.http_status == 401 else None
        return JSONResponse(
            error_body(exc.code, exc.message, fields), exc.http_status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        fields = _validation_fields(exc)
        return JSONResponse(error_body("invalid", _summary(fields), fields), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        message = _HTTP_MESSAGES.get(exc.status_code, message)
        return JSONResponse(error_body("http_error", message), exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            error_body("internal", "Something went wrong on our side; nothing was changed."), 500
        )


def install_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        url = f"/login?next={quote(target)}"
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": url})
        if request.method != "GET":
            # A form sent with an expired session: say so, change nothing.
            return render(
                request,
                "error.html",
                {
                    "status": 401,
                    "title": "Please sign in again",
                    "message": exc.message,
                    "login_url": url,
                },
                401,
            )
        return redirect(request, url, exc.message)

    @app.exception_handler(OmbudError)
    async def ombud_error(request: Request, exc: OmbudError) -> Response:
        problems = exc.problems if isinstance(exc, Invalid) else ()
        return render(
            request,
            "error.html",
            {
                "status": exc.http_status,
                "title": _title(exc.http_status),
                "message": exc.message,
                "problems": problems,
            },
            exc.http_status,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = _validation_fields(exc)
        return render(
            request,
            "error.html",
            {"status": 422, "title": "Invalid request", "message": _summary(fields)},
            422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = _HTTP_MESSAGES.get(exc.status_code) or str(exc.detail)
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "title": _title(exc.status_code), "message": message},
            exc.status_code,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return render(
            request,
            "error.html",
            {
                "status": 500,
                "title": "Something went wrong",
                "message": "Something went wrong on our side; nothing was changed.",
            },
            500,
        )


def _title(status: int) -> str:
    return {
        400: "Bad request",
        401: "Please sign in",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict",
        413: "Too large",
        422: "Invalid input",
        429: "Too many requests",
    }.get(status, "Error")

"""Errors, mapped once: an HTML page (HTMX-aware) for pages, a JSON body for the API.

JSON error body: {"error": {"code": ..., "message": ..., "fields": [{"loc": [...], "msg": ...}]}}
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ombud.kernel.errors import Invalid, OmbudError, TooManyRequests
from ombud.kernel.web.deps import LoginRequired
from ombud.kernel.web.security import BodyRefused, BodyTooLarge
from ombud.kernel.web.templating import is_htmx, redirect, render

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


def _error_headers(exc: Exception) -> dict[str, str] | None:
    if isinstance(exc, TooManyRequests):
        return {"retry-after": str(exc.retry_after)}
    if isinstance(exc, BodyTooLarge):  # the rest of the body is not read: do not reuse
        return {"connection": "close"}
    return None


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
            error_body(exc.code, exc.message, fields),
            exc.http_status,
            headers=headers or _error_headers(exc),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        fields = _validation_fields(exc)
        return JSONResponse(error_body("invalid", _summary(fields), fields), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        message = _HTTP_MESSAGES.get(exc.status_code, message)
        if isinstance(exc, BodyRefused):
            fields = [{"loc": ["body"], "msg": message}] if exc.status_code == 422 else None
            return JSONResponse(
                error_body(exc.code, message, fields), exc.status_code, headers=_error_headers(exc)
            )
        return JSONResponse(error_body("http_error", message), exc.status_code)

    app.add_exception_handler(Exception, unexpected_api_error)


async def unexpected_api_error(_request: Request, exc: Exception) -> Response:
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
        response = render(
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
        response.headers.update(_error_headers(exc) or {})
        return response

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
        response = render(
            request,
            "error.html",
            {"status": exc.status_code, "title": _title(exc.status_code), "message": message},
            exc.status_code,
        )
        response.headers.update(_error_headers(exc) or {})
        return response

    # UnhandledErrorMiddleware answers first; this stays for an app without it.
    app.add_exception_handler(Exception, unexpected_page_error)


async def unexpected_page_error(request: Request, exc: Exception) -> Response:
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


ErrorResponder = Callable[[Request, Exception], Awaitable[Response]]


class UnhandledErrorMiddleware:
    """Answers an unexpected exception with ``respond`` (the 500 page) and keeps the
    connection open.

    Starlette's outermost ServerErrorMiddleware answers with the registered handler
    but then raises the exception again, and uvicorn closes the connection of a
    request whose application raised: every keep-alive client (a browser's other
    tabs, a proxy's pooled connection) lost its connection with one bad request.
    Here the exception ends: logged once, answered, and the connection serves on.
    """

    def __init__(self, app: ASGIApp, respond: ErrorResponder) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = complete = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if complete:  # answered by a mounted app's handler (the API), which logged it
                return
            if started:  # cut off mid-body: the server has to close this connection
                log.exception("unexpected error after the response started", exc_info=exc)
                return
            try:
                response = await self.respond(Request(scope, receive), exc)
            except Exception:  # the error page itself failed: a plain answer still
                log.exception("the error page failed")
                response = PlainTextResponse("Something went wrong on our side.", 500)
            await response(scope, receive, send)


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

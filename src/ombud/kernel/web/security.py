"""Cookies, CSRF tokens, security headers, body limits and download names for the web app.

CSRF: a signed-in user's forms carry the token stored with their session
(synchronizer pattern). Anonymous forms (sign-in, public forms) use a signed
double-submit cookie: the form carries HMAC(secret, cookie value).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from urllib.parse import quote

import anyio.to_thread
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ombud.kernel.safe_load import Limits, json_shape_problem

SESSION_COOKIE = "ombud_session"
CSRF_COOKIE = "ombud_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def new_anonymous_csrf_cookie() -> str:
    return secrets.token_urlsafe(32)


def anonymous_csrf_token(secret: str, cookie_value: str) -> str:
    return hmac.new(secret.encode(), cookie_value.encode(), hashlib.sha256).hexdigest()


def tokens_match(expected: str, given: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged token).
    return (
        bool(expected)
        and bool(given)
        and hmac.compare_digest(
            expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
        )
    )


# -- public forms: a signed time stamp against bots (no third-party CAPTCHA) ---------

FORM_TOKEN_FIELD = "form_token"
FORM_TOKEN_MAX_AGE = 24 * 3600


def form_token(secret: str, now: float) -> str:
    """When the form was served, signed: '<unix seconds>.<hmac>'."""
    issued = str(int(now))
    mac = hmac.new(secret.encode(), b"public-form:" + issued.encode(), hashlib.sha256)
    return f"{issued}.{mac.hexdigest()[:32]}"


def form_token_problem(secret: str, token: str, now: float, min_seconds: float) -> str | None:
    """Why a public form may not be taken (missing, forged, expired, too fast), or None."""
    issued = token.partition(".")[0]
    # ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
    if not (issued.isascii() and issued.isdigit() and len(issued) <= 12) or not tokens_match(
        form_token(secret, int(issued)), token
    ):
        return "This form is incomplete. Please send it from the form page again."
    age = now - int(issued)
    if age > FORM_TOKEN_MAX_AGE:
        return "This form was opened more than a day ago. Please check it and send it again."
    if age < min_seconds:
        return "This form was sent very quickly, as programs do. Please check it and send it again."
    return None


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name (RFC 6266 / 5987):
    any name a person gave a file (non-Latin letters, control characters, quotes) makes
    a valid header, and is never shown inline."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _signed_in(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return True
        if name == b"cookie" and SESSION_COOKIE.encode() + b"=" in value:
            return True
    return False


class SecurityHeadersMiddleware:
    """Adds security headers to every response (pure ASGI: streaming stays streaming).

    A response to a signed-in request (session cookie or API token) is also marked
    ``Cache-Control: no-store``: it may show what only that person may see, and a
    shared or back-button cache must not keep it. Static files stay cacheable."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = _signed_in(scope) and not scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
                if private:
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyRefused(HTTPException):
    """A request body refused while it is read. An HTTPException because FastAPI
    passes those on from reading a body (any other error there becomes a bare 400),
    so the page or API error handler answers it in its own shape."""

    code = "invalid"


class BodyTooLarge(BodyRefused):
    code = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


# JSON bodies are measured before the parser recurses into them: a few kilobytes of
# brackets would otherwise end in a RecursionError deep inside json.loads.
JSON_BODY_LIMITS = Limits(max_depth=64, max_nodes=200_000)
_JSON_CHECK_INLINE = 64 * 1024  # larger bodies are measured off the event loop


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return bool(media == b"application/json" or media.endswith(b"+json"))
    return False


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413 before they reach a handler,
    whether the size is announced (Content-Length) or not (chunked); and JSON bodies
    nested too deeply or holding too many values with 422."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        overrides: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app = app
        self.default = max_bytes
        self.overrides = list(overrides)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        is_json = _is_json(scope)
        # Large uploads (audit data) come as files; a JSON body is parsed whole.
        limit = min(self.default, self._limit(path)) if is_json else self._limit(path)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(send, limit)
                return
        received = 0
        chunks: list[bytes] = []
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                received += len(body)
                if received > limit:
                    raise BodyTooLarge(limit)
                if is_json:
                    chunks.append(body)
                    if not message.get("more_body", False):
                        await self._check_json(b"".join(chunks))
                        chunks.clear()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyRefused as exc:
            if started:  # answered already; nothing more can be said
                return
            if isinstance(exc, BodyTooLarge):
                await self._refuse(send, limit)
            else:
                await self._send(send, 422, exc.code, exc.detail)

    def _limit(self, path: str) -> int:
        return next((n for p, n in self.overrides if p.match(path)), self.default)

    async def _check_json(self, body: bytes) -> None:
        if len(body) <= _JSON_CHECK_INLINE:
            problem = json_shape_problem(body, JSON_BODY_LIMITS)
        else:
            problem = await anyio.to_thread.run_sync(json_shape_problem, body, JSON_BODY_LIMITS)
        if problem:
            raise BodyRefused(422, f"The JSON body {problem}")

    async def _refuse(self, send: Send, limit: int) -> None:
        await self._send(send, 413, "too_large", f"The request body is larger than {limit} bytes.")

    async def _send(self, send: Send, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})

"""Cookies, CSRF tokens, security headers and body-size limits for the web app.

CSRF: a signed-in user's forms carry the token stored with their session
(synchronizer pattern). Anonymous forms (sign-in, public forms) use a signed
double-submit cookie: the form carries HMAC(secret, cookie value).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


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
    if not issued.isdigit() or not tokens_match(form_token(secret, int(issued)), token):
        return "This form is incomplete. Please send it from the form page again."
    age = now - int(issued)
    if age > FORM_TOKEN_MAX_AGE:
        return "This form was opened more than a day ago. Please check it and send it again."
    if age < min_seconds:
        return "This form was sent very quickly, as programs do. Please check it and send it again."
    return None


class SecurityHeadersMiddleware:
    """Adds security headers to every response (pure ASGI: streaming stays streaming)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if self.hsts:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413 before they reach a handler."""

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
        limit = next((n for p, n in self.overrides if p.match(path)), self.default)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(send, limit)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = (
            f'{{"error":{{"code":"too_large","message":"The request body is larger than '
            f'{limit} bytes."}}}}'
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"body over {limit} bytes")

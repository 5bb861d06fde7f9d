"""Sign in, sign out, setting a password through a link, password and personal API tokens."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from ombud.kernel.errors import Forbidden, Invalid, NotFound, Unauthenticated
from ombud.kernel.safe_load import whole_number
from ombud.kernel.web.deps import ContainerDep, PagePrincipal, client_address
from ombud.kernel.web.forms import SubmittedForm, text
from ombud.kernel.web.security import SESSION_COOKIE
from ombud.kernel.web.templating import redirect, render, set_session_cookie

router = APIRouter()

# A set-password token (secrets.token_urlsafe(32) is 43 characters).
LinkToken = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
# The page holds a credential: no copy in caches, no address in a Referer header.
_PRIVATE_HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer"}


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect to another host after sign-in."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/systems"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, next: Annotated[str, Query(max_length=500)] = "/systems"
) -> Response:
    return render(request, "accounts/login.html", {"next": _safe_next(next), "email": ""})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, c: ContainerDep, form: SubmittedForm) -> Response:
    email, password = text(form, "email"), form.get("password", "")
    target = _safe_next(text(form, "next") or "/systems")
    request.app.state.rate_limits.hit(c.settings.login_rate_limit, "login", client_address(request))
    if not email or not isinstance(password, str) or not password:
        return render(
            request,
            "accounts/login.html",
            {"next": target, "email": email, "error": "Enter your e-mail address and password."},
            422,
        )
    try:
        signed_in = c.accounts.login(email, password)
    except (Unauthenticated, Forbidden) as exc:
        return render(
            request,
            "accounts/login.html",
            {"next": target, "email": email, "error": exc.message},
            exc.http_status,
        )
    response = redirect(request, target, "Signed in.")
    set_session_cookie(request, response, signed_in.session_token)
    return response


@router.post("/logout")
def logout(request: Request, c: ContainerDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        c.accounts.logout(token)
    response = redirect(request, "/", "Signed out.")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, c: ContainerDep, principal: PagePrincipal) -> Response:
    return render(
        request,
        "accounts/account.html",
        {
            "tokens": c.accounts.tokens(principal),
            "memberships": c.accounts.memberships(principal),
        },
    )


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(
    request: Request, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    days_raw = text(form, "expires_days") or "90"
    ctx: dict[str, object] = {"memberships": c.accounts.memberships(principal)}
    try:
        days = whole_number(days_raw, 100_000)
        if days is None:
            raise Invalid.from_fields({"expires_days": "Expiry must be a whole number of days."})
        issued = c.accounts.create_token(principal, text(form, "name"), days)
    except Invalid as exc:
        ctx.update(tokens=c.accounts.tokens(principal), errors=exc.field_messages())
        return render(request, "accounts/account.html", ctx, 422)
    ctx.update(tokens=c.accounts.tokens(principal), new_token=issued.token)
    return render(request, "accounts/account.html", ctx, 201)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: int, c: ContainerDep, principal: PagePrincipal
) -> Response:
    c.accounts.revoke_token(principal, token_id)
    return redirect(request, "/account", "Token revoked.")


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request, c: ContainerDep, principal: PagePrincipal, form: SubmittedForm
) -> Response:
    current, new = form.get("current_password", ""), form.get("new_password", "")
    try:
        c.accounts.change_password(
            principal,
            current if isinstance(current, str) else "",
            new if isinstance(new, str) else "",
        )
    except Invalid as exc:
        return render(
            request,
            "accounts/account.html",
            {
                "tokens": c.accounts.tokens(principal),
                "memberships": c.accounts.memberships(principal),
                "errors": exc.field_messages(),
            },
            422,
        )
    response = redirect(
        request,
        "/login",
        "Password changed: you were signed out everywhere and your API tokens were revoked. "
        "Please sign in again.",
    )
    response.delete_cookie(SESSION_COOKIE)
    return response


# -- set a password through a link (an invitation, or one from the operator) --------


@router.get("/set-password/{token}", response_class=HTMLResponse)
def set_password_form(request: Request, token: LinkToken, c: ContainerDep) -> Response:
    try:
        link = c.accounts.password_link(token)
    except NotFound as exc:
        return render(request, "accounts/set_password.html", {"gone": exc.message}, 404)
    response = render(request, "accounts/set_password.html", {"link": link, "errors": {}})
    response.headers.update(_PRIVATE_HEADERS)
    return response


@router.post("/set-password/{token}", response_class=HTMLResponse)
def set_password(
    request: Request, token: LinkToken, c: ContainerDep, form: SubmittedForm
) -> Response:
    password, again = form.get("password", ""), form.get("password_again", "")
    password = password if isinstance(password, str) else ""
    try:
        link = c.accounts.password_link(token)
    except NotFound as exc:
        return render(request, "accounts/set_password.html", {"gone": exc.message}, 404)
    errors: dict[str, str] = {}
    if password != again:
        errors["password_again"] = "The two passwords differ; type the same one twice."
    else:
        try:
            c.accounts.set_password_with_link(token, password)
        except NotFound as exc:
            return render(request, "accounts/set_password.html", {"gone": exc.message}, 404)
        except Invalid as exc:
            errors = exc.field_messages()
    if errors:
        response = render(
            request, "accounts/set_password.html", {"link": link, "errors": errors}, 422
        )
        response.headers.update(_PRIVATE_HEADERS)
        return response
    # Nobody is signed in by this: the person signs in with the password they chose.
    return redirect(request, "/login", "Your password is set. Sign in with it.")

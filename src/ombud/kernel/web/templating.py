"""Jinja2 rendering shared by the pages: CSRF token, signed-in user, flash messages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from ombud.kernel.access import OrganisationKind, Role
from ombud.kernel.module import Module, contributions
from ombud.kernel.web.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    anonymous_csrf_token,
    new_anonymous_csrf_cookie,
)

# The shell's templates (base, macros, errors), then each area's own templates/ folder,
# whose files sit under the area's name (remedies/case.html) so names never collide.
_PACKAGE = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [Path(__file__).parent / "templates", *sorted(_PACKAGE.glob("*/templates"))]
TEMPLATES = Jinja2Templates(directory=[str(d) for d in TEMPLATE_DIRS])
TEMPLATES.env.add_extension("jinja2.ext.i18n")
# English unless a page passes its language's gettext (the public AI notice does).
TEMPLATES.env.install_null_translations(newstyle=False)  # type: ignore[attr-defined]
FLASH_COOKIE = "ombud_flash"

# Labels of values for the `label` filter, {kind: {value: label}}: the kernel's own here,
# each area's added by install_area_templates (its module's `labels`).
LABELS: dict[str, dict[str, str]] = {
    "role": {r.value: r.value.capitalize() for r in Role},
    "organisation_kind": {k.value: k.label for k in OrganisationKind},
}


def label(value: Any, kind: str) -> str:
    key = getattr(value, "value", value)
    return LABELS.get(kind, {}).get(str(key), str(key))


def fmt_dt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def fmt_date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "—"


def provision_href(provision_id: str) -> str:
    """/instruments/coe-fc#16.2.g for coe-fc:16.2.g; /instruments/ipu-148 for ipu-148."""
    instrument, _, ref = provision_id.partition(":")
    return f"/instruments/{quote(instrument)}" + (f"#{quote(ref)}" if ref else "")


def provision_link(provision_id: str) -> Markup:
    """A cited provision as a link to its place in the instruments catalogue."""
    return Markup('<a class="provision" href="{}">{}</a>').format(
        provision_href(provision_id), provision_id
    )


def show_value(value: Any) -> str:
    """A snapshot value as a person reads it (for diffs)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict):
                flags = [
                    k.replace("_", " ")
                    for k in ("personal_data", "special_categories")
                    if item.get(k)
                ]
                extra = f"; {', '.join(flags)}" if flags else ""
                parts.append(f"{item.get('name', '')} ({item.get('role', '')}{extra})")
            else:
                parts.append(str(item))
        return "; ".join(parts) or "—"
    return str(value)


TEMPLATES.env.globals.update(LABELS=LABELS, Role=Role, OrganisationKind=OrganisationKind)
TEMPLATES.env.filters.update(
    label=label,
    dt=fmt_dt,
    date=fmt_date,
    provision=provision_link,
    provision_href=provision_href,
    show=show_value,
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render_fragment(template: str, context: dict[str, Any]) -> str:
    """A piece of HTML as text (e.g. a snippet to copy), escaped like any page."""
    html: str = TEMPLATES.env.get_template(template).render(**context)
    return html


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with what every page needs; sets the anonymous CSRF cookie if missing."""
    container = request.app.state.container
    info = getattr(request.state, "session_info", None)
    ctx: dict[str, Any] = {
        "request": request,
        "session": info,
        "principal": info.principal if info else None,
        "flash": unquote(request.cookies.get(FLASH_COOKIE, "")) or None,
    }
    new_cookie: str | None = None
    if info is not None:
        ctx["csrf_token"] = info.csrf_token
    else:
        cookie = request.cookies.get(CSRF_COOKIE) or new_anonymous_csrf_cookie()
        if cookie != request.cookies.get(CSRF_COOKIE):
            new_cookie = cookie
        ctx["csrf_token"] = anonymous_csrf_token(container.settings.resolved_secret_key(), cookie)
    ctx.update(context or {})
    response = TEMPLATES.TemplateResponse(request, template, ctx, status_code=status_code)
    secure = container.settings.secure_cookies
    if new_cookie:
        response.set_cookie(CSRF_COOKIE, new_cookie, httponly=True, samesite="lax", secure=secure)
    if ctx["flash"]:
        response.delete_cookie(FLASH_COOKIE)
    return response


def redirect(request: Request, url: str, flash: str | None = None) -> RedirectResponse:
    """303 See Other after a successful POST, with an optional one-time message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        secure = request.app.state.container.settings.secure_cookies
        response.set_cookie(
            FLASH_COOKIE, quote(flash), max_age=60, httponly=True, samesite="lax", secure=secure
        )
    return response


def set_session_cookie(request: Request, response: Any, token: str) -> None:
    settings = request.app.state.container.settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def install_area_templates(modules: Iterable[Module]) -> None:
    """Add each area's template globals (its enums, field labels) and value labels."""
    modules = list(modules)
    for found_globals in contributions(modules, "template_globals"):
        TEMPLATES.env.globals.update(found_globals)
    for found_labels in contributions(modules, "labels"):
        LABELS.update(found_labels)

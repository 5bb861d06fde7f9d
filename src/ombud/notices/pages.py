"""The AI notice of a published system (coe-fc:15.2): the page in a language the
organisation offers, its QR code and the printable PDF."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ombud.bootstrap import Container
from ombud.kernel.web.deps import ContainerDep
from ombud.kernel.web.templating import render, render_fragment

router = APIRouter()


def _page_url(c: Container, system_id: int) -> str:
    # OMBUD_PUBLIC_URL, never the request's Host header: a printed QR code or a copied
    # snippet must not point wherever a forged Host said.
    return f"{c.settings.base_url}/register/{system_id}"


LangQuery = Annotated[str | None, Query(max_length=10, pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")]


def _language(request: Request, c: Container, system_id: int, lang: str | None) -> str:
    chosen, _ = c.notices.language(system_id, lang, request.headers.get("accept-language", ""))
    return chosen


@router.get("/register/{system_id:int}/notice", response_class=HTMLResponse)
def notice(request: Request, system_id: int, c: ContainerDep, lang: LangQuery = None) -> Response:
    """The AI notice in a language the organisation offers (?lang=, or Accept-Language)."""
    listing = c.public_register.get(system_id)
    chosen = _language(request, c, system_id, lang)
    url = _page_url(c, system_id)
    words = c.i18n.context(chosen)
    snippet = render_fragment("notices/_snippet.html", {**words, "s": listing.system, "url": url})
    response = render(
        request,
        "notices/notice.html",
        {
            **words,
            "s": listing.system,
            "org": listing.organisation,
            "qr": c.notices.qr_svg(system_id, f"{url}/notice?lang={chosen}"),
            "snippet": snippet,
            "languages": listing.organisation.notice_languages,
        },
    )
    response.headers["Content-Language"] = chosen
    response.headers["Vary"] = "Accept-Language"
    return response


@router.get("/register/{system_id:int}/notice.svg")
def notice_qr(
    request: Request, system_id: int, c: ContainerDep, lang: LangQuery = None
) -> Response:
    chosen = _language(request, c, system_id, lang)
    svg = c.notices.qr_svg(system_id, f"{_page_url(c, system_id)}/notice?lang={chosen}")
    return Response(svg, media_type="image/svg+xml")


@router.get("/register/{system_id:int}/notice.pdf")
def notice_pdf(
    request: Request, system_id: int, c: ContainerDep, lang: LangQuery = None
) -> Response:
    chosen = _language(request, c, system_id, lang)
    pdf = c.notices.notice_pdf(system_id, _page_url(c, system_id), chosen)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="ai-notice-{system_id}-{chosen}.pdf"',
            "content-language": chosen,
        },
    )

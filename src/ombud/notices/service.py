"""The AI notice of a published system (coe-fc:15.2): a page, a printable PDF and a
QR code, telling people they are dealing with an AI system, what it does, who is
responsible, and how to ask for an explanation or review and to complain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ombud.kernel.errors import NotFound
from ombud.kernel.service import Service
from ombud.register.public_service import PublicRegisterService


class NoticeRenderer(Protocol):
    def qr_svg(self, url: str) -> str: ...

    def notice_html(self, context: dict[str, Any]) -> str: ...

    def pdf(self, html: str) -> bytes: ...


class NoticeService(Service):
    def __init__(
        self,
        public_register: PublicRegisterService,
        renderer: NoticeRenderer,
        negotiate: Callable[[str, tuple[str, ...]], str] = lambda _accept, offered: offered[0],
    ) -> None:
        super().__init__(public_register.uow_factory, public_register.clock)
        self.public_register = public_register
        self.renderer = renderer
        self.negotiate = negotiate

    def language(self, system_id: int, lang: str | None, accept: str = "") -> tuple[str, str]:
        """(language, note): ``lang`` if the organisation publishes its notices in it,
        else the best match of Accept-Language among its languages. A language it
        does not offer: NotFound naming those it does."""
        listing = self.public_register.get(system_id)
        offered = listing.organisation.notice_languages or ("en",)
        if lang:
            if lang not in offered:
                raise NotFound(
                    f"This notice is not available in '{lang[:10]}'; it is in: "
                    f"{', '.join(offered)}."
                )
            return lang, ""
        return self.negotiate(accept, offered), ""

    def qr_svg(self, system_id: int, page_url: str) -> str:
        self.public_register.get(system_id)  # published systems only
        return self.renderer.qr_svg(page_url)

    def notice_html(self, system_id: int, page_url: str, lang: str = "en") -> str:
        """A self-contained notice (for printing and the PDF); NotFound unless published."""
        listing = self.public_register.get(system_id)
        return self.renderer.notice_html(
            {
                "s": listing.system,
                "org": listing.organisation,
                "qr": self.renderer.qr_svg(f"{page_url}/notice?lang={lang}"),
                "url": page_url,
                "lang": lang,
            }
        )

    def notice_pdf(self, system_id: int, page_url: str, lang: str = "en") -> bytes:
        return self.renderer.pdf(self.notice_html(system_id, page_url, lang))

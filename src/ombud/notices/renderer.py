"""The notice service's renderer port, implemented: QR code (segno), the printable
notice (Jinja2) and its PDF (WeasyPrint)."""

from __future__ import annotations

from typing import Any

from ombud.kernel.documents.pdf import html_to_pdf
from ombud.kernel.documents.qr import qr_svg
from ombud.notices.document import notice_html


class NoticeDocuments:
    """The NoticeRenderer port (notices/service.py)."""

    def pdf(self, html: str) -> bytes:
        return html_to_pdf(html)

    def notice_html(self, context: dict[str, Any]) -> str:
        return notice_html(context)

    def qr_svg(self, url: str) -> str:
        return qr_svg(url)

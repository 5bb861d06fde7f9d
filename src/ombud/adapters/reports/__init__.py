"""Report rendering: charts (matplotlib, SVG) and PDF (WeasyPrint)."""

from __future__ import annotations

from typing import Any

from ombud.domain.assessments import Score
from ombud.kernel.documents.charts import heatmap_svg
from ombud.kernel.documents.html import assessment_html
from ombud.kernel.documents.pdf import html_to_pdf
from ombud.kernel.documents.qr import qr_svg
from ombud.notices.document import notice_html


class Reports:
    """The ReportRenderer (assessments) and NoticeRenderer (notices) ports."""

    def heatmap_svg(self, score: Score, thresholds: list[tuple[float, str]]) -> str:
        return heatmap_svg(score, thresholds)

    def pdf(self, html: str) -> bytes:
        return html_to_pdf(html)

    def assessment_html(self, context: dict[str, Any]) -> str:
        return assessment_html(context)

    def notice_html(self, context: dict[str, Any]) -> str:
        return notice_html(context)

    def qr_svg(self, url: str) -> str:
        return qr_svg(url)

"""The assessment service's renderer port, implemented: the heat map (matplotlib, SVG),
the report document (Jinja2) and its PDF (WeasyPrint)."""

from __future__ import annotations

from typing import Any

from ombud.assessments.document import assessment_html
from ombud.assessments.domain import Score
from ombud.assessments.heatmap import heatmap_svg
from ombud.kernel.documents.pdf import html_to_pdf


class AssessmentDocuments:
    """The ReportRenderer port (assessments/ports.py)."""

    def heatmap_svg(self, score: Score, thresholds: list[tuple[float, str]]) -> str:
        return heatmap_svg(score, thresholds)

    def pdf(self, html: str) -> bytes:
        return html_to_pdf(html)

    def assessment_html(self, context: dict[str, Any]) -> str:
        return assessment_html(context)

"""The assessment report as a self-contained HTML document (for the page and the PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
)


def assessment_html(context: dict[str, Any]) -> str:
    return _ENV.get_template("assessment_report.html").render(**context)

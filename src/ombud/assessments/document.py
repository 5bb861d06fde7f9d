"""The assessment report as a self-contained HTML document (for the page and the PDF)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ombud.assessments.domain import Option

_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_ENV.install_null_translations(newstyle=False)  # type: ignore[attr-defined]


def _labels(options: Iterable[Option], value: Any) -> Any:
    """Answers as the person saw them: option labels instead of stored values."""
    by_value = {o.value: o.label for o in options}
    if isinstance(value, list):
        return ", ".join(by_value.get(v, str(v)) for v in value)
    return by_value.get(value, value) if isinstance(value, str) else value


_ENV.filters["labels"] = _labels


def assessment_html(context: dict[str, Any]) -> str:
    return _ENV.get_template("assessments/report_document.html").render(**context)

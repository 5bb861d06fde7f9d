"""The printable AI notice as an HTML document (made into a PDF by the kernel's documents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ombud.kernel.i18n import Catalogues

_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)
_ENV.install_null_translations(newstyle=False)  # type: ignore[attr-defined]


def notice_html(context: dict[str, Any]) -> str:
    """The printable notice in ``context['lang']`` (default English)."""
    lang = str(context.get("lang", "en"))
    return _ENV.get_template("notices/printed.html").render(
        **{**Catalogues().context(lang), **context}
    )

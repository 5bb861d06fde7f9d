"""The audit engine (issue 6): one streaming pass over CSV or Parquet, numpy for the counting.

bootstrap.py builds it: ``AuditService(ArrowAuditEngine(), HtmlAuditReport())``. Its two
classes load on first use, with numpy and pyarrow: the package's light modules (files:
which files, their sha256) can be used before, as `ombud audit run` does.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ombud.audits.engine.engine import ArrowAuditEngine
    from ombud.audits.engine.report import HtmlAuditReport

__all__ = ["ArrowAuditEngine", "HtmlAuditReport"]
_WHERE = {"ArrowAuditEngine": "engine", "HtmlAuditReport": "report"}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)

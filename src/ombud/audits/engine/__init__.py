"""The audit engine (issue 6): one streaming pass over CSV or Parquet, numpy for the counting.

bootstrap.py builds it: ``AuditService(ArrowAuditEngine(), HtmlAuditReport())``.
"""

from ombud.audits.engine.engine import ArrowAuditEngine
from ombud.audits.engine.report import HtmlAuditReport

__all__ = ["ArrowAuditEngine", "HtmlAuditReport"]

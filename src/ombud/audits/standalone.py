"""The bias audit service on its own: `ombud audit run` needs no database, and loading
the whole composition root (bootstrap.py) would double the command's start-up."""

from __future__ import annotations

from ombud.audits.analysis import AuditService
from ombud.kernel.errors import Invalid


def audit_service(engine: str = "arrow") -> AuditService:
    """The bias audit service (issue 6); heavy libraries load only when an audit runs.
    ``engine``: ``arrow`` (one machine, out of core) or ``spark`` (Spark through Ibis)."""
    from ombud.audits.engine import ArrowAuditEngine, HtmlAuditReport

    if engine == "spark":
        from ombud.audits.engine.spark import SparkAuditEngine

        return AuditService(SparkAuditEngine(), HtmlAuditReport())
    if engine != "arrow":
        raise Invalid(f"--engine {engine!r}: use arrow or spark.")
    return AuditService(ArrowAuditEngine(), HtmlAuditReport())

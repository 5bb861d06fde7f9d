"""The bias audit service on its own: `ombud audit run` needs no database, and loading
the whole composition root (bootstrap.py) would double the command's start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ombud.audits.analysis import AuditService
from ombud.kernel.errors import Invalid

if TYPE_CHECKING:
    from ombud.audits.engine.files import FileDigests


def audit_service(engine: str = "arrow", digests: FileDigests | None = None) -> AuditService:
    """The bias audit service (issue 6); heavy libraries load only when an audit runs.
    ``engine``: ``arrow`` (one machine, out of core) or ``spark`` (Spark through Ibis).
    ``digests``: the sha256 of the data files, begun already (by `ombud audit run`)."""
    if engine not in ("arrow", "spark"):
        raise Invalid(f"--engine {engine!r}: use arrow or spark.")
    from ombud.audits.engine import ArrowAuditEngine, HtmlAuditReport

    if engine == "spark":
        from ombud.audits.engine.spark import SparkAuditEngine

        return AuditService(SparkAuditEngine(digests=digests), HtmlAuditReport())
    return AuditService(ArrowAuditEngine(digests=digests), HtmlAuditReport())

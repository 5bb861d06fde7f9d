"""What the audit services need from outside: the counting engine, the report renderer,
the stored runs and the data they read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from ombud.audits.domain.metrics import Confusion, Metric
from ombud.audits.domain.report import AuditReport
from ombud.audits.domain.request import AuditRequest
from ombud.audits.domain.tabulation import BootstrapInterval, Tabulation

if TYPE_CHECKING:  # `ombud audit run` needs the engine's ports, not the stored runs'
    from ombud.audits.domain.runs import AuditRun, Finding

ProgressFn = Callable[[int, int | None], None]


class AuditEngine(Protocol):
    """Port: counts confusion matrices per group in one pass, and resamples them."""

    def tabulate(self, request: AuditRequest, progress: ProgressFn | None = None) -> Tabulation:
        """Read the data once; raise Invalid (kernel.errors) for unknown columns and bad values."""
        ...

    def bootstrap(
        self,
        groups: Sequence[Confusion],
        reference: int,
        metrics: Sequence[Metric],
        replicates: int,
        seed: Sequence[int],
        confidence: float,
    ) -> list[dict[Metric, BootstrapInterval]]:
        """Percentile intervals of (group - reference) and (group / reference), per group."""
        ...


class AuditReportRenderer(Protocol):
    def html(self, report: AuditReport, doc: Mapping[str, Any]) -> str:
        """``doc``: the report's JSON document, which the charts are drawn from, and whose
        ``windows`` and ``alerts`` sections are shown when the audit was per time window."""
        ...


class AuditPlotter(Protocol):
    """The charts of a stored audit (its JSON document), as SVG files."""

    def rates(self, result: Mapping[str, Any], metric: Metric) -> str: ...
    def disparities(self, result: Mapping[str, Any]) -> str: ...


class AuditRunRepository(Protocol):
    def add(self, run: AuditRun) -> AuditRun: ...
    def get(self, run_id: int, for_update: bool = False) -> AuditRun | None: ...
    def save(self, run: AuditRun) -> None: ...
    def progress(self, run_id: int, progress: float, message: str, lease: datetime) -> None: ...
    def claim_next(self, now: datetime, lease: timedelta) -> AuditRun | None: ...
    def for_system(self, system_id: int) -> list[AuditRun]: ...
    def done_purposes(self, system_ids: list[int]) -> dict[int, frozenset[str]]: ...
    def latest_published(self, system_id: int) -> AuditRun | None: ...
    def cite(self, assessment_id: int, run_id: int, by: str, at: datetime) -> bool: ...
    def cited_in(self, assessment_id: int) -> list[AuditRun]: ...


class FindingRepository(Protocol):
    def add(self, finding: Finding) -> Finding: ...
    def get(self, finding_id: int, for_update: bool = False) -> Finding | None: ...
    def save(self, finding: Finding) -> None: ...
    def for_system(self, system_id: int) -> list[Finding]: ...
    def open_titled(self, system_id: int, title: str) -> Finding | None: ...


class AuditData(Protocol):
    """Where the data of audits lives (uploads, and paths on the server)."""

    def save_upload(self, name: str, chunks: Iterable[bytes]) -> tuple[str, str]:
        """Blocking file I/O: called from the web's thread pool, never the event loop."""
        ...

    def server_path(self, raw: str) -> str: ...

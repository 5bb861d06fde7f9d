"""SQL repositories of audit runs (jobs and results) and of the findings opened on systems."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, or_, select, update

from ombud.audits.domain.runs import (
    MAX_ATTEMPTS,
    AuditRun,
    Finding,
    FindingState,
    Purpose,
    RunState,
)
from ombud.audits.tables import assessment_audits, audit_runs, findings
from ombud.kernel.module import RepositoryFactory

_FIELDS = (
    "organisation_id",
    "system_id",
    "progress",
    "message",
    "parameters",
    "data_name",
    "data_sha256",
    "data_rows",
    "engine",
    "result",
    "error",
    "requested_by",
    "requested_at",
    "started_at",
    "finished_at",
    "lease_until",
    "attempts",
    "published",
)


def _run(m: Any) -> AuditRun:
    return AuditRun(
        id=m["id"],
        purpose=Purpose(m["purpose"]),
        state=RunState(m["state"]),
        **{f: m[f] for f in _FIELDS},
    )


def _values(r: AuditRun) -> dict[str, Any]:
    return {
        "purpose": r.purpose.value,
        "state": r.state.value,
        **{f: getattr(r, f) for f in _FIELDS},
    }


class SqlAuditRunRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, run: AuditRun) -> AuditRun:
        run.id = self.conn.execute(
            insert(audit_runs).values(**_values(run)).returning(audit_runs.c.id)
        ).scalar_one()
        return run

    def get(self, run_id: int, for_update: bool = False) -> AuditRun | None:
        q = select(audit_runs).where(audit_runs.c.id == run_id)
        if for_update:
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        return _run(row._mapping) if row else None

    def save(self, run: AuditRun) -> None:
        self.conn.execute(
            update(audit_runs).where(audit_runs.c.id == run.id).values(**_values(run))
        )

    def progress(self, run_id: int, progress: float, message: str, lease: datetime) -> None:
        self.conn.execute(
            update(audit_runs)
            .where(audit_runs.c.id == run_id, audit_runs.c.state == RunState.RUNNING.value)
            .values(progress=progress, message=message[:300], lease_until=lease)
        )

    def claim_next(self, now: datetime, lease: timedelta) -> AuditRun | None:
        """The oldest queued run, or a running one whose worker's lease has expired
        (the worker died), marked running under a new lease; None if there is none."""
        q = (
            select(audit_runs)
            .where(
                or_(
                    audit_runs.c.state == RunState.QUEUED.value,
                    and_(
                        audit_runs.c.state == RunState.RUNNING.value,
                        audit_runs.c.lease_until < now,
                    ),
                ),
                audit_runs.c.attempts < MAX_ATTEMPTS + 1,
            )
            .order_by(audit_runs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = self.conn.execute(q).first()
        if row is None:
            return None
        run = _run(row._mapping)
        run.state = RunState.RUNNING
        run.attempts += 1
        run.started_at = now
        run.lease_until = now + lease
        run.progress = 0.0
        run.message = "started" if run.attempts == 1 else f"started again (attempt {run.attempts})"
        self.save(run)
        return run

    def for_system(self, system_id: int) -> list[AuditRun]:
        rows = self.conn.execute(
            select(audit_runs)
            .where(audit_runs.c.system_id == system_id)
            .order_by(audit_runs.c.id.desc())
        )
        return [_run(r._mapping) for r in rows]

    def done_purposes(self, system_ids: list[int]) -> dict[int, frozenset[str]]:
        """Per system, the purposes of its finished audits (for the compliance matrix)."""
        found: dict[int, set[str]] = {}
        for start in range(0, len(system_ids), 500):
            chunk = system_ids[start : start + 500]
            rows = self.conn.execute(
                select(audit_runs.c.system_id, audit_runs.c.purpose)
                .where(
                    audit_runs.c.system_id.in_(chunk),
                    audit_runs.c.state == RunState.DONE.value,
                )
                .distinct()
            )
            for system_id, purpose in rows:
                found.setdefault(system_id, set()).add(purpose)
        return {k: frozenset(v) for k, v in found.items()}

    def latest_published(self, system_id: int) -> AuditRun | None:
        row = self.conn.execute(
            select(audit_runs)
            .where(
                audit_runs.c.system_id == system_id,
                audit_runs.c.state == RunState.DONE.value,
                audit_runs.c.published.is_(True),
            )
            .order_by(audit_runs.c.finished_at.desc(), audit_runs.c.id.desc())
            .limit(1)
        ).first()
        return _run(row._mapping) if row else None

    def cite(self, assessment_id: int, run_id: int, by: str, at: datetime) -> bool:
        exists = self.conn.execute(
            select(assessment_audits.c.audit_run_id).where(
                assessment_audits.c.assessment_id == assessment_id,
                assessment_audits.c.audit_run_id == run_id,
            )
        ).first()
        if exists:
            return False
        self.conn.execute(
            insert(assessment_audits).values(
                assessment_id=assessment_id, audit_run_id=run_id, cited_by=by, cited_at=at
            )
        )
        return True

    def cited_in(self, assessment_id: int) -> list[AuditRun]:
        rows = self.conn.execute(
            select(audit_runs)
            .join(assessment_audits, assessment_audits.c.audit_run_id == audit_runs.c.id)
            .where(assessment_audits.c.assessment_id == assessment_id)
            .order_by(audit_runs.c.id)
        )
        return [_run(r._mapping) for r in rows]


_FINDING_FIELDS = (
    "system_id",
    "organisation_id",
    "audit_run_id",
    "source",
    "title",
    "detail",
    "created_at",
    "resolved_at",
    "resolved_by",
    "resolution",
)


def _finding(m: Any) -> Finding:
    return Finding(id=m["id"], state=FindingState(m["state"]), **{f: m[f] for f in _FINDING_FIELDS})


class SqlFindingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, finding: Finding) -> Finding:
        values = {f: getattr(finding, f) for f in _FINDING_FIELDS}
        finding.id = self.conn.execute(
            insert(findings).values(**values, state=finding.state.value).returning(findings.c.id)
        ).scalar_one()
        return finding

    def get(self, finding_id: int, for_update: bool = False) -> Finding | None:
        q = select(findings).where(findings.c.id == finding_id)
        if for_update:
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        return _finding(row._mapping) if row else None

    def save(self, finding: Finding) -> None:
        values = {f: getattr(finding, f) for f in _FINDING_FIELDS}
        self.conn.execute(
            update(findings)
            .where(findings.c.id == finding.id)
            .values(**values, state=finding.state.value)
        )

    def for_system(self, system_id: int) -> list[Finding]:
        rows = self.conn.execute(
            select(findings).where(findings.c.system_id == system_id).order_by(findings.c.id.desc())
        )
        return [_finding(r._mapping) for r in rows]

    def open_titled(self, system_id: int, title: str) -> Finding | None:
        row = self.conn.execute(
            select(findings).where(
                findings.c.system_id == system_id,
                findings.c.title == title,
                findings.c.state == FindingState.OPEN.value,
            )
        ).first()
        return _finding(row._mapping) if row else None


# The unit of work's attributes this area provides (kernel/module.py: RepositoryFactory).
REPOSITORIES: dict[str, RepositoryFactory] = {
    "audit_runs": lambda conn, dialect: SqlAuditRunRepository(conn),
    "findings": lambda conn, dialect: SqlFindingRepository(conn),
}

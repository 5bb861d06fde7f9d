"""SQL repository of findings on systems (e.g. opened by monitoring alerts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from ombud.adapters.db.tables import findings
from ombud.domain.audit_runs import Finding, FindingState

_FIELDS = (
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
    return Finding(id=m["id"], state=FindingState(m["state"]), **{f: m[f] for f in _FIELDS})


class SqlFindingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, finding: Finding) -> Finding:
        values = {f: getattr(finding, f) for f in _FIELDS}
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
        values = {f: getattr(finding, f) for f in _FIELDS}
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

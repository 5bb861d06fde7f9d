"""SQL repository for confirmed incidents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from ombud.incidents.domain import Incident, IncidentStatus, Severity
from ombud.incidents.tables import incidents
from ombud.kernel.module import RepositoryFactory
from ombud.remedies.domain import Category

_FIELDS = (
    "system_id",
    "organisation_id",
    "case_id",
    "title",
    "harm",
    "people_affected",
    "root_cause",
    "corrective_action",
    "public_summary",
    "occurred_at",
    "recorded_at",
    "recorded_by",
    "resolved_at",
)


def _incident(m: Any) -> Incident:
    return Incident(
        id=m["id"],
        category=Category(m["category"]),
        severity=Severity(m["severity"]),
        status=IncidentStatus(m["status"]),
        external=dict(m["external"] or {}),
        **{f: m[f] for f in _FIELDS},
    )


def _values(i: Incident) -> dict[str, Any]:
    return {
        "category": i.category.value,
        "severity": i.severity.value,
        "status": i.status.value,
        "external": i.external,
        **{f: getattr(i, f) for f in _FIELDS},
    }


class SqlIncidentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, incident: Incident) -> Incident:
        incident.id = self.conn.execute(
            insert(incidents).values(**_values(incident)).returning(incidents.c.id)
        ).scalar_one()
        return incident

    def get(self, incident_id: int, for_update: bool = False) -> Incident | None:
        q = select(incidents).where(incidents.c.id == incident_id)
        if for_update:
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        return _incident(row._mapping) if row else None

    def save(self, incident: Incident) -> None:
        self.conn.execute(
            update(incidents).where(incidents.c.id == incident.id).values(**_values(incident))
        )

    def _list(self, *conds: ColumnElement[bool]) -> list[Incident]:
        rows = self.conn.execute(
            select(incidents)
            .where(*conds)
            .order_by(incidents.c.recorded_at.desc(), incidents.c.id.desc())
        )
        return [_incident(r._mapping) for r in rows]

    def for_system(self, system_id: int) -> list[Incident]:
        return self._list(incidents.c.system_id == system_id)

    def for_systems(self, system_ids: list[int]) -> dict[int, list[Incident]]:
        found: dict[int, list[Incident]] = {}
        for start in range(0, len(system_ids), 500):  # stay under bound-parameter limits
            chunk = system_ids[start : start + 500]
            for incident in self._list(incidents.c.system_id.in_(chunk)):
                found.setdefault(incident.system_id, []).append(incident)
        return found

    def for_case(self, case_id: int) -> list[Incident]:
        return self._list(incidents.c.case_id == case_id)

    def for_organisations(
        self, org_ids: frozenset[int], offset: int, limit: int, open_only: bool = False
    ) -> tuple[list[Incident], int]:
        conds: list[ColumnElement[bool]] = [incidents.c.organisation_id.in_(sorted(org_ids))]
        if open_only:
            conds.append(incidents.c.status == IncidentStatus.OPEN.value)
        total = int(
            self.conn.execute(
                select(func.count()).select_from(incidents).where(*conds)
            ).scalar_one()
        )
        rows = self.conn.execute(
            select(incidents)
            .where(*conds)
            .order_by(incidents.c.recorded_at.desc(), incidents.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_incident(r._mapping) for r in rows], total


# The unit of work's attributes this area provides (kernel/module.py: RepositoryFactory).
REPOSITORIES: dict[str, RepositoryFactory] = {
    "incidents": lambda conn, dialect: SqlIncidentRepository(conn),
}

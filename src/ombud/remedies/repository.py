"""SQL repository for cases (reports, complaints, human review requests) and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ombud.kernel.files import Upload
from ombud.kernel.module import RepositoryFactory
from ombud.remedies.domain import (
    Case,
    CaseAttachment,
    CaseKind,
    CaseMessage,
    CaseState,
    Category,
)
from ombud.remedies.tables import case_attachments, case_messages, cases

_FIELDS = (
    "system_id",
    "organisation_id",
    "description",
    "contact",
    "decision_reference",
    "removal_requested",
    "tracking_code",
    "secret_hash",
    "created_at",
    "updated_at",
    "deadline",
    "assigned_to",
    "original_decider",
    "outcome",
    "escalated_at",
)


def _case(m: Any) -> Case:
    return Case(
        id=m["id"],
        kind=CaseKind(m["kind"]),
        category=Category(m["category"]),
        state=CaseState(m["state"]),
        **{f: m[f] for f in _FIELDS},
    )


def _values(c: Case) -> dict[str, Any]:
    return {
        "kind": c.kind.value,
        "category": c.category.value,
        "state": c.state.value,
        **{f: getattr(c, f) for f in _FIELDS},
    }


# Built once, values bound at execution: SQLAlchemy then reuses the compiled statement
# instead of building a bound parameter (and a cache key) per value per call.
_INSERT = insert(cases).returning(cases.c.id)
# A new case whose tracking code is taken inserts nothing: no error to roll back, no
# lookup before the insert (under SQLite's write lock, every statement counts).
_INSERT_NEW = {
    "sqlite": sqlite.insert(cases)
    .on_conflict_do_nothing(index_elements=[cases.c.tracking_code])
    .returning(cases.c.id),
    "postgresql": postgresql.insert(cases)
    .on_conflict_do_nothing(index_elements=[cases.c.tracking_code])
    .returning(cases.c.id),
}


class SqlCaseRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, case: Case) -> Case | None:
        insert_new = _INSERT_NEW.get(self.conn.dialect.name, _INSERT)
        case_id = self.conn.execute(insert_new, _values(case)).scalar_one_or_none()
        if case_id is None:
            return None
        case.id = case_id
        return case

    def get(self, case_id: int, for_update: bool = False) -> Case | None:
        q = select(cases).where(cases.c.id == case_id)
        if for_update:
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        return _case(row._mapping) if row else None

    def by_tracking_code(self, code: str) -> Case | None:
        row = self.conn.execute(select(cases).where(cases.c.tracking_code == code)).first()
        return _case(row._mapping) if row else None

    def save(self, case: Case) -> None:
        self.conn.execute(update(cases).where(cases.c.id == case.id).values(**_values(case)))

    def for_organisations(
        self,
        org_ids: frozenset[int],
        state: CaseState | None,
        offset: int,
        limit: int,
        escalated_only: bool = False,
    ) -> tuple[list[Case], int]:
        conds: list[ColumnElement[bool]] = [cases.c.organisation_id.in_(sorted(org_ids))]
        if escalated_only:
            conds.append(cases.c.escalated_at.is_not(None))
        if state is not None:
            conds.append(cases.c.state == state.value)
        total = int(
            self.conn.execute(select(func.count()).select_from(cases).where(*conds)).scalar_one()
        )
        rows = self.conn.execute(
            select(cases)
            .where(*conds)
            .order_by(cases.c.created_at.desc(), cases.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_case(r._mapping) for r in rows], total

    def add_message(self, message: CaseMessage) -> None:
        self.conn.execute(
            insert(case_messages).values(
                case_id=message.case_id,
                at=message.at,
                author=message.author,
                text=message.text,
                internal=message.internal,
                organisation_id=message.organisation_id,
            )
        )

    def messages(self, case_id: int) -> list[CaseMessage]:
        rows = self.conn.execute(
            select(case_messages)
            .where(case_messages.c.case_id == case_id)
            .order_by(case_messages.c.id)
        )
        return [
            CaseMessage(
                r._mapping["case_id"],
                r._mapping["at"],
                r._mapping["author"],
                r._mapping["text"],
                bool(r._mapping["internal"]),
                r._mapping["organisation_id"],
            )
            for r in rows
        ]

    def add_attachment(
        self, case_id: int, upload: Upload, content_type: str, at: datetime
    ) -> CaseAttachment:
        values: dict[str, Any] = {
            "case_id": case_id,
            "name": upload.name,
            "content_type": content_type,
            "size": len(upload.data),
            "sha256": upload.sha256,
            "uploaded_at": at,
        }
        new_id = self.conn.execute(
            insert(case_attachments)
            .values(**values, data=upload.data)
            .returning(case_attachments.c.id)
        ).scalar_one()
        return CaseAttachment(id=new_id, **values)

    _META = (
        case_attachments.c.id,
        case_attachments.c.case_id,
        case_attachments.c.name,
        case_attachments.c.content_type,
        case_attachments.c.size,
        case_attachments.c.sha256,
        case_attachments.c.uploaded_at,
    )

    def attachments(self, case_id: int) -> list[CaseAttachment]:
        rows = self.conn.execute(
            select(*self._META)
            .where(case_attachments.c.case_id == case_id)
            .order_by(case_attachments.c.id)
        )
        return [CaseAttachment(**r._mapping) for r in rows]

    def attachment_data(
        self, case_id: int, attachment_id: int
    ) -> tuple[CaseAttachment, bytes] | None:
        row = self.conn.execute(
            select(*self._META, case_attachments.c.data).where(
                case_attachments.c.case_id == case_id, case_attachments.c.id == attachment_id
            )
        ).first()
        if row is None:
            return None
        meta = {k: v for k, v in row._mapping.items() if k != "data"}
        return CaseAttachment(**meta), bytes(row._mapping["data"])


# The unit of work's attributes this area provides (kernel/module.py: RepositoryFactory).
REPOSITORIES: dict[str, RepositoryFactory] = {
    "cases": lambda conn, dialect: SqlCaseRepository(conn),
}

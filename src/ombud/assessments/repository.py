"""SQL repository for assessments, their authors and comments, and red-line decisions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from ombud.assessments.domain import (
    Assessment,
    AssessmentStatus,
    Comment,
    EvidenceFile,
    RedLineDecision,
    RedLineDecisionKind,
)
from ombud.assessments.tables import (
    assessment_authors,
    assessment_comments,
    assessments,
    evidence_files,
    red_line_decisions,
)
from ombud.kernel.module import RepositoryFactory

_FIELDS = (
    "system_id",
    "organisation_id",
    "template_urn",
    "template_version",
    "answers",
    "level",
    "created_by",
    "created_at",
    "updated_at",
    "revision",
    "submitted_at",
    "signed_at",
    "signed_by",
    "content_hash",
    "system_revision",
    "review_date",
    "stale_at",
    "stale_reason",
)


def _assessment(row: Row[Any]) -> Assessment:
    m = row._mapping
    return Assessment(
        id=m["id"], status=AssessmentStatus(m["status"]), **{f: m[f] for f in _FIELDS}
    )


def _values(a: Assessment) -> dict[str, Any]:
    return {"status": a.status.value, **{f: getattr(a, f) for f in _FIELDS}}


def _decision(row: Row[Any]) -> RedLineDecision:
    m = row._mapping
    return RedLineDecision(
        id=m["id"],
        system_id=m["system_id"],
        assessment_id=m["assessment_id"],
        rule_id=m["rule_id"],
        provision=m["provision"],
        kind=RedLineDecisionKind(m["kind"]),
        until=m["until"],
        legal_basis=m["legal_basis"],
        reason=m["reason"],
        decided_by=m["decided_by"],
        decided_at=m["decided_at"],
        review_date=m["review_date"],
    )


class SqlAssessmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, assessment: Assessment) -> Assessment:
        values = _values(assessment)
        new_id = self.conn.execute(
            insert(assessments).values(**values).returning(assessments.c.id)
        ).scalar_one()
        assessment.id = new_id
        return assessment

    def get(self, assessment_id: int, for_update: bool = False) -> Assessment | None:
        q = select(assessments).where(assessments.c.id == assessment_id)
        if for_update:
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        return _assessment(row) if row else None

    def save(self, assessment: Assessment) -> None:
        self.conn.execute(
            update(assessments)
            .where(assessments.c.id == assessment.id)
            .values(**_values(assessment))
        )

    def for_system(self, system_id: int) -> list[Assessment]:
        rows = self.conn.execute(
            select(assessments)
            .where(assessments.c.system_id == system_id)
            .order_by(assessments.c.id.desc())
        )
        return [_assessment(r) for r in rows]

    def for_systems(self, system_ids: Sequence[int]) -> dict[int, list[Assessment]]:
        out: dict[int, list[Assessment]] = defaultdict(list)
        for chunk in _chunks(system_ids):
            rows = self.conn.execute(select(assessments).where(assessments.c.system_id.in_(chunk)))
            for r in rows:
                a = _assessment(r)
                out[a.system_id].append(a)
        return out

    def for_organisations(self, org_ids: frozenset[int]) -> list[Assessment]:
        rows = self.conn.execute(
            select(assessments)
            .where(assessments.c.organisation_id.in_(sorted(org_ids)))
            .order_by(assessments.c.updated_at.desc())
        )
        return [_assessment(r) for r in rows]

    def add_author(self, assessment_id: int, user_id: int) -> None:
        exists = self.conn.execute(
            select(assessment_authors.c.user_id).where(
                assessment_authors.c.assessment_id == assessment_id,
                assessment_authors.c.user_id == user_id,
            )
        ).first()
        if not exists:
            self.conn.execute(
                insert(assessment_authors).values(assessment_id=assessment_id, user_id=user_id)
            )

    def authors(self, assessment_id: int) -> set[int]:
        rows = self.conn.execute(
            select(assessment_authors.c.user_id).where(
                assessment_authors.c.assessment_id == assessment_id
            )
        )
        return {r[0] for r in rows}

    def add_comment(self, comment: Comment) -> None:
        self.conn.execute(
            insert(assessment_comments).values(
                assessment_id=comment.assessment_id,
                at=comment.at,
                actor=comment.actor,
                text=comment.text,
            )
        )

    def comments(self, assessment_id: int) -> list[Comment]:
        rows = self.conn.execute(
            select(assessment_comments)
            .where(assessment_comments.c.assessment_id == assessment_id)
            .order_by(assessment_comments.c.id)
        )
        return [
            Comment(
                r._mapping["assessment_id"],
                r._mapping["at"],
                r._mapping["actor"],
                r._mapping["text"],
            )
            for r in rows
        ]

    def mark_stale(self, system_id: int, at: datetime, reason: str) -> list[int]:
        """Signed, still-fresh assessments of the system become stale; their ids."""
        c = assessments.c
        ids = [
            r[0]
            for r in self.conn.execute(
                select(c.id).where(
                    c.system_id == system_id,
                    c.status == AssessmentStatus.SIGNED.value,
                    c.stale_at.is_(None),
                )
            )
        ]
        if ids:
            self.conn.execute(
                update(assessments).where(c.id.in_(ids)).values(stale_at=at, stale_reason=reason)
            )
        return ids

    def add_decision(self, decision: RedLineDecision) -> RedLineDecision:
        values = {
            k: getattr(decision, k)
            for k in (
                "system_id",
                "assessment_id",
                "rule_id",
                "provision",
                "until",
                "legal_basis",
                "reason",
                "decided_by",
                "decided_at",
                "review_date",
            )
        }
        new_id = self.conn.execute(
            insert(red_line_decisions)
            .values(kind=decision.kind.value, **values)
            .returning(red_line_decisions.c.id)
        ).scalar_one()
        return RedLineDecision(**{**decision.__dict__, "id": new_id})

    def decisions(self, system_id: int) -> list[RedLineDecision]:
        rows = self.conn.execute(
            select(red_line_decisions)
            .where(red_line_decisions.c.system_id == system_id)
            .order_by(red_line_decisions.c.id.desc())
        )
        return [_decision(r) for r in rows]

    def decisions_for_systems(self, system_ids: Sequence[int]) -> dict[int, list[RedLineDecision]]:
        out: dict[int, list[RedLineDecision]] = defaultdict(list)
        for chunk in _chunks(system_ids):
            rows = self.conn.execute(
                select(red_line_decisions).where(red_line_decisions.c.system_id.in_(chunk))
            )
            for r in rows:
                d = _decision(r)
                out[d.system_id].append(d)
        return out


def _chunks(ids: Sequence[int], size: int = 500) -> list[list[int]]:
    items = list(ids)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _evidence(m: Any) -> EvidenceFile:
    return EvidenceFile(
        id=m["id"],
        assessment_id=m["assessment_id"],
        name=m["name"],
        content_type=m["content_type"],
        size=m["size"],
        sha256=m["sha256"],
        uploaded_by=m["uploaded_by"],
        uploaded_at=m["uploaded_at"],
    )


_EVIDENCE_META = [c for c in evidence_files.c if c.name != "data"]


class SqlEvidenceRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, f: EvidenceFile, data: bytes) -> EvidenceFile:
        new_id = self.conn.execute(
            insert(evidence_files)
            .values(
                assessment_id=f.assessment_id,
                name=f.name,
                content_type=f.content_type,
                size=f.size,
                sha256=f.sha256,
                data=data,
                uploaded_by=f.uploaded_by,
                uploaded_at=f.uploaded_at,
            )
            .returning(evidence_files.c.id)
        ).scalar_one()
        return EvidenceFile(**{**f.__dict__, "id": new_id})

    def for_assessment(self, assessment_id: int) -> list[EvidenceFile]:
        rows = self.conn.execute(
            select(*_EVIDENCE_META)
            .where(evidence_files.c.assessment_id == assessment_id)
            .order_by(evidence_files.c.id)
        )
        return [_evidence(r._mapping) for r in rows]

    def get(self, file_id: int) -> tuple[EvidenceFile, bytes] | None:
        row = self.conn.execute(
            select(evidence_files).where(evidence_files.c.id == file_id)
        ).first()
        return (_evidence(row._mapping), bytes(row._mapping["data"])) if row else None


# The unit of work's attributes this area provides (kernel/module.py: RepositoryFactory).
REPOSITORIES: dict[str, RepositoryFactory] = {
    "assessments": lambda conn, dialect: SqlAssessmentRepository(conn),
    "evidence": lambda conn, dialect: SqlEvidenceRepository(conn),
}

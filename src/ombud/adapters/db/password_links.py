"""SQL repository of set-password links (only the sha256 of each token is stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ombud.adapters.db.tables import password_links
from ombud.domain.accounts import LinkPurpose, PasswordLink


def _link(m: Any) -> PasswordLink:
    return PasswordLink(
        id=m["id"],
        user_id=m["user_id"],
        purpose=LinkPurpose(m["purpose"]),
        organisation_id=m["organisation_id"],
        created_by=m["created_by"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        used_at=m["used_at"],
    )


class SqlPasswordLinkRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        user_id: int,
        token_hash: str,
        purpose: LinkPurpose,
        organisation_id: int | None,
        created_by: str,
        at: datetime,
        expires_at: datetime,
    ) -> PasswordLink:
        link_id = self.conn.execute(
            insert(password_links)
            .values(
                user_id=user_id,
                token_hash=token_hash,
                purpose=purpose.value,
                organisation_id=organisation_id,
                created_by=created_by,
                created_at=at,
                expires_at=expires_at,
            )
            .returning(password_links.c.id)
        ).scalar_one()
        return PasswordLink(
            link_id, user_id, purpose, organisation_id, created_by, at, expires_at, None
        )

    def get_by_hash(self, token_hash: str, for_update: bool = False) -> PasswordLink | None:
        query = select(password_links).where(password_links.c.token_hash == token_hash)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return _link(row._mapping) if row else None

    def use(self, link_id: int, at: datetime) -> bool:
        result = self.conn.execute(
            update(password_links)
            .where(password_links.c.id == link_id, password_links.c.used_at.is_(None))
            .values(used_at=at)
        )
        return result.rowcount == 1

    def retire_unused(self, user_id: int, at: datetime) -> int:
        result = self.conn.execute(
            update(password_links)
            .where(password_links.c.user_id == user_id, password_links.c.used_at.is_(None))
            .values(used_at=at)
        )
        return int(result.rowcount or 0)

    def inviting_organisation(self, user_id: int) -> int | None:
        row = self.conn.execute(
            select(password_links.c.organisation_id)
            .where(
                password_links.c.user_id == user_id,
                password_links.c.purpose == LinkPurpose.INVITATION.value,
            )
            .order_by(password_links.c.id)
            .limit(1)
        ).first()
        return int(row[0]) if row and row[0] is not None else None

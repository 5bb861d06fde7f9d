"""SQL repositories of organisations, users, credentials (sessions, API tokens), set-password
links and the sign-in throttle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from ombud.accounts.domain import (
    ApiToken,
    LinkPurpose,
    Membership,
    Organisation,
    PasswordLink,
    SignInThrottle,
    User,
    WebSession,
)
from ombud.accounts.tables import (
    api_tokens,
    jurisdictions,
    memberships,
    organisations,
    password_links,
    sign_in_throttle,
    users,
    web_sessions,
)
from ombud.kernel.access import OrganisationKind, Role
from ombud.kernel.module import RepositoryFactory


def _org(row: Row[Any]) -> Organisation:
    m = row._mapping
    return Organisation(
        id=m["id"],
        name=m["name"],
        slug=m["slug"],
        kind=OrganisationKind(m["kind"]),
        country=m["country"],
        created_at=m["created_at"],
        notice_languages=tuple(x for x in (m["notice_languages"] or "en").split(",") if x),
    )


def _user(row: Row[Any]) -> User:
    m = row._mapping
    return User(
        id=m["id"],
        email=m["email"],
        display_name=m["display_name"],
        password_hash=m["password_hash"],
        is_superuser=bool(m["is_superuser"]),
        is_active=bool(m["is_active"]),
        created_at=m["created_at"],
        claimed=bool(m["claimed"]),
    )


def _token(row: Row[Any]) -> ApiToken:
    m = row._mapping
    return ApiToken(
        id=m["id"],
        user_id=m["user_id"],
        name=m["name"],
        prefix=m["prefix"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
        last_used_at=m["last_used_at"],
    )


class SqlOrganisationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, name: str, slug: str, kind: OrganisationKind, country: str, at: datetime
    ) -> Organisation:
        org_id = self.conn.execute(
            insert(organisations)
            .values(name=name, slug=slug, kind=kind.value, country=country, created_at=at)
            .returning(organisations.c.id)
        ).scalar_one()
        return Organisation(org_id, name, slug, kind, country, at)

    def set_notice_languages(self, org_id: int, languages: tuple[str, ...]) -> None:
        self.conn.execute(
            update(organisations)
            .where(organisations.c.id == org_id)
            .values(notice_languages=",".join(languages))
        )

    def get(self, org_id: int, for_update: bool = False) -> Organisation | None:
        q = select(organisations).where(organisations.c.id == org_id)
        if for_update:
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        return _org(row) if row else None

    def get_by_slug(self, slug: str) -> Organisation | None:
        row = self.conn.execute(select(organisations).where(organisations.c.slug == slug)).first()
        return _org(row) if row else None

    def all(self) -> list[Organisation]:
        rows = self.conn.execute(select(organisations).order_by(organisations.c.name))
        return [_org(r) for r in rows]

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(organisations)).scalar_one())

    def add_jurisdiction(self, oversight_id: int, org_id: int) -> bool:
        exists = self.conn.execute(
            select(jurisdictions.c.oversight_id).where(
                jurisdictions.c.oversight_id == oversight_id,
                jurisdictions.c.organisation_id == org_id,
            )
        ).first()
        if exists:
            return False
        self.conn.execute(
            insert(jurisdictions).values(oversight_id=oversight_id, organisation_id=org_id)
        )
        return True

    def remove_jurisdiction(self, oversight_id: int, org_id: int) -> bool:
        result = self.conn.execute(
            delete(jurisdictions).where(
                jurisdictions.c.oversight_id == oversight_id,
                jurisdictions.c.organisation_id == org_id,
            )
        )
        return bool(result.rowcount)

    def jurisdiction_of(self, oversight_ids: Sequence[int]) -> frozenset[int]:
        if not oversight_ids:
            return frozenset()
        rows = self.conn.execute(
            select(jurisdictions.c.organisation_id).where(
                jurisdictions.c.oversight_id.in_(list(oversight_ids))
            )
        )
        return frozenset(r[0] for r in rows)

    def overseers_of(self, org_id: int) -> list[Organisation]:
        rows = self.conn.execute(
            select(organisations)
            .join(jurisdictions, jurisdictions.c.oversight_id == organisations.c.id)
            .where(jurisdictions.c.organisation_id == org_id)
            .order_by(organisations.c.name)
        )
        return [_org(r) for r in rows]


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        email: str,
        display_name: str,
        password_hash: str,
        is_superuser: bool,
        at: datetime,
        claimed: bool = True,
    ) -> User:
        user_id = self.conn.execute(
            insert(users)
            .values(
                email=email,
                display_name=display_name,
                password_hash=password_hash,
                is_superuser=is_superuser,
                is_active=True,
                failed_logins=0,  # no longer counted here: see sign_in_throttle
                created_at=at,
                claimed=claimed,
            )
            .returning(users.c.id)
        ).scalar_one()
        return User(user_id, email, display_name, password_hash, is_superuser, True, at, claimed)

    def get(self, user_id: int, for_update: bool = False) -> User | None:
        query = select(users).where(users.c.id == user_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return _user(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self.conn.execute(
            select(users).where(func.lower(users.c.email) == email.lower())
        ).first()
        return _user(row) if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self.conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=password_hash)
        )

    def mark_claimed(self, user_id: int) -> None:
        self.conn.execute(update(users).where(users.c.id == user_id).values(claimed=True))

    def set_active(self, user_id: int, active: bool) -> None:
        self.conn.execute(update(users).where(users.c.id == user_id).values(is_active=active))

    def set_membership(self, user_id: int, org_id: int, role: Role) -> Membership | None:
        """Set the role; returns the previous membership, if there was one."""
        row = self.conn.execute(
            select(memberships.c.role).where(
                memberships.c.user_id == user_id, memberships.c.organisation_id == org_id
            )
        ).first()
        if row:
            self.conn.execute(
                update(memberships)
                .where(memberships.c.user_id == user_id, memberships.c.organisation_id == org_id)
                .values(role=role.value)
            )
            return Membership(user_id, org_id, Role(row[0]))
        self.conn.execute(
            insert(memberships).values(user_id=user_id, organisation_id=org_id, role=role.value)
        )
        return None

    def remove_membership(self, user_id: int, org_id: int) -> Role | None:
        row = self.conn.execute(
            select(memberships.c.role).where(
                memberships.c.user_id == user_id, memberships.c.organisation_id == org_id
            )
        ).first()
        if not row:
            return None
        self.conn.execute(
            delete(memberships).where(
                memberships.c.user_id == user_id, memberships.c.organisation_id == org_id
            )
        )
        return Role(row[0])

    def memberships_of(self, user_id: int) -> list[tuple[Organisation, Role]]:
        rows = self.conn.execute(
            select(organisations, memberships.c.role)
            .join(memberships, memberships.c.organisation_id == organisations.c.id)
            .where(memberships.c.user_id == user_id)
            .order_by(organisations.c.name)
        )
        return [(_org(r), Role(r._mapping["role"])) for r in rows]

    def members_of(self, org_id: int) -> list[tuple[User, Role]]:
        rows = self.conn.execute(
            select(users, memberships.c.role)
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.organisation_id == org_id)
            .order_by(users.c.email)
        )
        return [(_user(r), Role(r._mapping["role"])) for r in rows]


class SqlCredentialRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_session(
        self, token_hash: str, user_id: int, csrf_token: str, at: datetime, expires_at: datetime
    ) -> None:
        self.conn.execute(
            insert(web_sessions).values(
                token_hash=token_hash,
                user_id=user_id,
                csrf_token=csrf_token,
                created_at=at,
                expires_at=expires_at,
            )
        )

    def get_session(self, token_hash: str) -> WebSession | None:
        row = self.conn.execute(
            select(web_sessions).where(web_sessions.c.token_hash == token_hash)
        ).first()
        if not row:
            return None
        m = row._mapping
        return WebSession(m["user_id"], m["csrf_token"], m["created_at"], m["expires_at"])

    def delete_session(self, token_hash: str) -> None:
        self.conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))

    def delete_sessions_of(self, user_id: int) -> None:
        self.conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))

    def add_token(
        self,
        user_id: int,
        name: str,
        token_hash: str,
        prefix: str,
        at: datetime,
        expires_at: datetime | None,
    ) -> ApiToken:
        token_id = self.conn.execute(
            insert(api_tokens)
            .values(
                user_id=user_id,
                name=name,
                token_hash=token_hash,
                prefix=prefix,
                created_at=at,
                expires_at=expires_at,
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
        return ApiToken(token_id, user_id, name, prefix, at, expires_at, None, None)

    def get_token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash)
        ).first()
        return _token(row) if row else None

    def get_token(self, token_id: int) -> ApiToken | None:
        row = self.conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        return _token(row) if row else None

    def tokens_of(self, user_id: int) -> list[ApiToken]:
        rows = self.conn.execute(
            select(api_tokens)
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.created_at.desc())
        )
        return [_token(r) for r in rows]

    def revoke_token(self, token_id: int, at: datetime) -> None:
        self.conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=at)
        )

    def revoke_tokens_of(self, user_id: int, at: datetime) -> list[ApiToken]:
        """Revoke every token of the user not yet revoked (expired ones too: a revoked
        token says why it stopped); returns those it revoked."""
        rows = self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(*api_tokens.c)
        ).all()
        return sorted((_token(r) for r in rows), key=lambda t: t.id)

    def touch_token(self, token_id: int, at: datetime) -> None:
        self.conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=at)
        )


class SqlSignInThrottleRepository:
    """Failed sign-ins per sha256 of the normalised address (known account or not)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, email_hash: str) -> SignInThrottle | None:
        row = self.conn.execute(
            select(sign_in_throttle).where(sign_in_throttle.c.email_hash == email_hash)
        ).first()
        if row is None:
            return None
        m = row._mapping
        return SignInThrottle(m["failures"], m["not_before"], m["updated_at"])

    def add_failure(self, email_hash: str, at: datetime, forget_before: datetime) -> int:
        # One statement, so that concurrent failures for one address each count (the
        # row is locked by the upsert until the transaction ends).
        t = sign_in_throttle
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t).values(email_hash=email_hash, failures=1, updated_at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.email_hash],
            set_={
                "failures": case((t.c.updated_at < forget_before, 1), else_=t.c.failures + 1),
                "not_before": case((t.c.updated_at < forget_before, None), else_=t.c.not_before),
                "updated_at": at,
            },
        ).returning(t.c.failures)
        return int(self.conn.execute(stmt).scalar_one())

    def set_not_before(self, email_hash: str, not_before: datetime | None) -> None:
        self.conn.execute(
            update(sign_in_throttle)
            .where(sign_in_throttle.c.email_hash == email_hash)
            .values(not_before=not_before)
        )

    def clear(self, email_hash: str) -> None:
        self.conn.execute(
            delete(sign_in_throttle).where(sign_in_throttle.c.email_hash == email_hash)
        )

    def prune(self, before: datetime) -> int:
        result = self.conn.execute(
            delete(sign_in_throttle).where(sign_in_throttle.c.updated_at < before)
        )
        return int(result.rowcount or 0)


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


# The unit of work's attributes this area provides (kernel/module.py: RepositoryFactory).
REPOSITORIES: dict[str, RepositoryFactory] = {
    "organisations": lambda conn, dialect: SqlOrganisationRepository(conn),
    "users": lambda conn, dialect: SqlUserRepository(conn),
    "credentials": lambda conn, dialect: SqlCredentialRepository(conn),
    "password_links": lambda conn, dialect: SqlPasswordLinkRepository(conn),
    "sign_in_throttle": lambda conn, dialect: SqlSignInThrottleRepository(conn),
}

"""SQL repositories: translate between tables and domain dataclasses."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    case,
    column,
    delete,
    func,
    insert,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from ombud.adapters.db.tables import (
    ai_systems,
    api_tokens,
    jurisdictions,
    lifecycle_transitions,
    memberships,
    organisations,
    sign_in_throttle,
    system_revisions,
    users,
    web_sessions,
)
from ombud.domain.accounts import (
    ApiToken,
    Membership,
    Organisation,
    SignInThrottle,
    User,
    WebSession,
)
from ombud.domain.lifecycle import LifecycleStage
from ombud.domain.ports import NewSystem, SystemFilter, SystemListing
from ombud.domain.revisions import Revision, Transition
from ombud.domain.systems import (
    DETAIL_FIELDS,
    AISystem,
    PublicationState,
    RiskLevel,
    SystemDetails,
)
from ombud.kernel.access import OrganisationKind, Role
from ombud.kernel.db.queries import like_pattern
from ombud.kernel.ports import Page, PageResult

# The SQLite FTS5 trigram index over ai_systems.search_text (created by migration).
_fts = table("ai_systems_fts", column("rowid"), column("search_text"))
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
MAX_SEARCH_TOKENS = 8
# SQLite text search is a hybrid, chosen per query by a cheap probe of the FTS5
# trigram index: a term with fewer than FTS_PROBE matches is looked up in the
# index; a common term is matched with LIKE while walking the (state, updated_at)
# index, which stops after the first page. Counting a common term stops at
# COUNT_CAP (shown as "more than ..."). Measured in bench/register.py.
FTS_PROBE = 1000
COUNT_CAP = 1000


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


def _details_values(details: SystemDetails) -> dict[str, Any]:
    return details.snapshot()


def _system(m: Any) -> AISystem:
    details = SystemDetails.from_snapshot({f: m[f] for f in DETAIL_FIELDS})
    return AISystem(
        id=m["id"],
        organisation_id=m["organisation_id"],
        details=details,
        lifecycle_stage=LifecycleStage(m["lifecycle_stage"]),
        publication_state=PublicationState(m["publication_state"]),
        risk_level=RiskLevel(m["risk_level"]),
        revision=m["revision"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        published_at=m["published_at"],
        significant_modification_at=m["significant_modification_at"],
    )


_ORG_COLS = [
    organisations.c.name.label("org_name"),
    organisations.c.slug.label("org_slug"),
    organisations.c.kind.label("org_kind"),
    organisations.c.country.label("org_country"),
    organisations.c.created_at.label("org_created_at"),
    organisations.c.notice_languages.label("org_notice_languages"),
]


def _listing(row: Row[Any]) -> SystemListing:
    m = row._mapping
    org = Organisation(
        id=m["organisation_id"],
        name=m["org_name"],
        slug=m["org_slug"],
        kind=OrganisationKind(m["org_kind"]),
        country=m["org_country"],
        created_at=m["org_created_at"],
        notice_languages=tuple(x for x in (m["org_notice_languages"] or "en").split(",") if x),
    )
    return SystemListing(_system(m), org)


def search_tokens(text: str) -> list[str]:
    """Words of a search text, lower-cased; bounded so a query stays cheap."""
    return [t.lower()[:64] for t in _TOKEN_RE.findall(text)][:MAX_SEARCH_TOKENS]


class SqlSystemRepository:
    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect

    def _search_text(self, organisation_id: int, details: SystemDetails) -> str:
        org_name = self.conn.execute(
            select(organisations.c.name).where(organisations.c.id == organisation_id)
        ).scalar_one()
        parts = [details.name, details.purpose, details.intended_use, org_name]
        return " ".join(p for p in parts if p).lower()

    def add(self, new: NewSystem) -> AISystem:
        values = _details_values(new.details)
        system_id = self.conn.execute(
            insert(ai_systems)
            .values(
                organisation_id=new.organisation_id,
                lifecycle_stage=new.lifecycle_stage.value,
                publication_state=new.publication_state.value,
                risk_level=new.risk_level.value,
                revision=1,
                created_at=new.at,
                updated_at=new.at,
                search_text=self._search_text(new.organisation_id, new.details),
                **values,
            )
            .returning(ai_systems.c.id)
        ).scalar_one()
        return AISystem(
            id=system_id,
            organisation_id=new.organisation_id,
            details=new.details,
            lifecycle_stage=new.lifecycle_stage,
            publication_state=new.publication_state,
            risk_level=new.risk_level,
            revision=1,
            created_at=new.at,
            updated_at=new.at,
        )

    def get(self, system_id: int, for_update: bool = False) -> AISystem | None:
        q = select(ai_systems).where(ai_systems.c.id == system_id)
        if for_update:
            q = q.with_for_update()  # PostgreSQL row lock; SQLite writers are serialised
        row = self.conn.execute(q).first()
        return _system(row._mapping) if row else None

    def save(self, system: AISystem) -> None:
        self.conn.execute(
            update(ai_systems)
            .where(ai_systems.c.id == system.id)
            .values(
                lifecycle_stage=system.lifecycle_stage.value,
                publication_state=system.publication_state.value,
                risk_level=system.risk_level.value,
                revision=system.revision,
                updated_at=system.updated_at,
                published_at=system.published_at,
                significant_modification_at=system.significant_modification_at,
                search_text=self._search_text(system.organisation_id, system.details),
                **_details_values(system.details),
            )
        )

    def delete(self, system_id: int) -> None:
        self.conn.execute(delete(ai_systems).where(ai_systems.c.id == system_id))

    def _conditions(self, flt: SystemFilter) -> list[ColumnElement[bool]]:
        c = ai_systems.c
        conds: list[ColumnElement[bool]] = []
        if flt.organisation_ids is not None:
            conds.append(c.organisation_id.in_(sorted(flt.organisation_ids)))
        if flt.organisation_id is not None:
            conds.append(c.organisation_id == flt.organisation_id)
        if flt.sector is not None:
            conds.append(c.sector == flt.sector.value)
        if flt.lifecycle_stage is not None:
            conds.append(c.lifecycle_stage == flt.lifecycle_stage.value)
        if flt.risk_level is not None:
            conds.append(c.risk_level == flt.risk_level.value)
        if flt.publication_state is not None:
            conds.append(c.publication_state == flt.publication_state.value)
        tokens = search_tokens(flt.text)
        if tokens:
            conds.extend(self._text_conditions(tokens))
        return conds

    def _text_conditions(self, tokens: list[str]) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        like_tokens = tokens
        long_tokens = [t for t in tokens if len(t) >= 3]
        if self.dialect == "sqlite" and long_tokens:
            fts_query = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_tokens)
            match = literal_column("ai_systems_fts").match(fts_query)
            probe = select(func.count()).select_from(
                select(_fts.c.rowid).where(match).limit(FTS_PROBE).subquery()
            )
            if int(self.conn.execute(probe).scalar_one()) < FTS_PROBE:
                conds.append(ai_systems.c.id.in_(select(_fts.c.rowid).where(match)))
                like_tokens = [t for t in tokens if len(t) < 3]
        # LIKE on search_text; on PostgreSQL the pg_trgm GIN index serves it.
        conds.extend(
            ai_systems.c.search_text.like(like_pattern(t), escape="\\") for t in like_tokens
        )
        return conds

    def search(self, flt: SystemFilter, page: Page) -> PageResult[SystemListing]:
        conds = self._conditions(flt)
        rows_q = select(ai_systems, *_ORG_COLS).join(
            organisations, organisations.c.id == ai_systems.c.organisation_id
        )
        matching = select(ai_systems.c.id).where(*conds)
        exact = True
        if self.dialect == "sqlite" and search_tokens(flt.text):
            matching = matching.limit(COUNT_CAP + 1)
        total = int(
            self.conn.execute(select(func.count()).select_from(matching.subquery())).scalar_one()
        )
        if self.dialect == "sqlite" and total > COUNT_CAP:
            total, exact = COUNT_CAP, False
        rows = self.conn.execute(
            rows_q.where(*conds)
            .order_by(ai_systems.c.updated_at.desc(), ai_systems.c.id.desc())
            .offset(page.offset)
            .limit(page.limit)
        )
        return PageResult([_listing(r) for r in rows], total, page.offset, page.limit, exact)

    def iter_listings(self, flt: SystemFilter, batch: int = 1000) -> Iterator[SystemListing]:
        """Stream listings in id order, in batches, without holding them all in memory.

        Keyset pagination on the id: each batch is its own short query, so a slow
        consumer never holds a cursor open on the database.
        """
        conds = self._conditions(flt)
        last_id = 0
        while True:
            q = (
                select(ai_systems, *_ORG_COLS)
                .join(organisations, organisations.c.id == ai_systems.c.organisation_id)
                .where(ai_systems.c.id > last_id, *conds)
                .order_by(ai_systems.c.id)
                .limit(batch)
            )
            rows = self.conn.execute(q).all()
            if not rows:
                return
            for r in rows:
                yield _listing(r)
            last_id = rows[-1]._mapping["id"]

    def organisations_with(self, state: PublicationState) -> list[Organisation]:
        """Organisations holding at least one system in ``state`` (one index probe each)."""
        has = (
            select(ai_systems.c.id)
            .where(
                ai_systems.c.organisation_id == organisations.c.id,
                ai_systems.c.publication_state == state.value,
            )
            .exists()
        )
        rows = self.conn.execute(select(organisations).where(has).order_by(organisations.c.name))
        return [_org(r) for r in rows]

    def add_revision(self, revision: Revision) -> None:
        self.conn.execute(
            insert(system_revisions).values(
                system_id=revision.system_id,
                number=revision.number,
                at=revision.at,
                actor_id=revision.actor_id,
                actor=revision.actor,
                snapshot=revision.snapshot,
                changed=list(revision.changed),
                significant=revision.significant,
                significant_reason=revision.significant_reason,
                note=revision.note,
            )
        )

    def revisions(self, system_id: int) -> list[Revision]:
        rows = self.conn.execute(
            select(system_revisions)
            .where(system_revisions.c.system_id == system_id)
            .order_by(system_revisions.c.number)
        )
        out = []
        for r in rows:
            m = r._mapping
            out.append(
                Revision(
                    system_id=m["system_id"],
                    number=m["number"],
                    at=m["at"],
                    actor_id=m["actor_id"],
                    actor=m["actor"],
                    snapshot=m["snapshot"],
                    changed=tuple(m["changed"]),
                    significant=bool(m["significant"]),
                    significant_reason=m["significant_reason"],
                    note=m["note"],
                )
            )
        return out

    def add_transition(self, transition: Transition) -> None:
        self.conn.execute(
            insert(lifecycle_transitions).values(
                system_id=transition.system_id,
                at=transition.at,
                actor_id=transition.actor_id,
                actor=transition.actor,
                from_stage=transition.from_stage.value if transition.from_stage else None,
                to_stage=transition.to_stage.value,
                reason=transition.reason,
            )
        )

    def transitions(self, system_id: int) -> list[Transition]:
        rows = self.conn.execute(
            select(lifecycle_transitions)
            .where(lifecycle_transitions.c.system_id == system_id)
            .order_by(lifecycle_transitions.c.id)
        )
        out = []
        for r in rows:
            m = r._mapping
            out.append(
                Transition(
                    system_id=m["system_id"],
                    at=m["at"],
                    actor_id=m["actor_id"],
                    actor=m["actor"],
                    from_stage=LifecycleStage(m["from_stage"]) if m["from_stage"] else None,
                    to_stage=LifecycleStage(m["to_stage"]),
                    reason=m["reason"],
                )
            )
        return out

"""SQL repositories: translate between tables and domain dataclasses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    column,
    delete,
    func,
    insert,
    literal_column,
    select,
    table,
    update,
)

from ombud.accounts.domain import (
    Organisation,
)
from ombud.accounts.repository import _org
from ombud.accounts.tables import (
    organisations,
)
from ombud.kernel.access import OrganisationKind
from ombud.kernel.db.queries import like_pattern
from ombud.kernel.module import RepositoryFactory
from ombud.kernel.paging import Page, PageResult
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.revisions import Revision, Transition
from ombud.register.domain.systems import (
    DETAIL_FIELDS,
    AISystem,
    PublicationState,
    RiskLevel,
    SystemDetails,
)
from ombud.register.ports import NewSystem, SystemFilter, SystemListing
from ombud.register.tables import ai_systems, lifecycle_transitions, system_revisions

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


# The unit of work's attributes this area provides (kernel/module.py: RepositoryFactory).
REPOSITORIES: dict[str, RepositoryFactory] = {
    "systems": lambda conn, dialect: SqlSystemRepository(conn, dialect),
}

"""In-memory fakes of the ports, for fast unit tests of the services' rules.

cosmicpython's FakeUnitOfWork is the model, with what it leaves out put back, because
the rules under test depend on it:

- a fake unit of work is a transaction: it works on its own copy of the database and
  writes it back only on ``commit``; leaving the block without committing throws its
  writes away, as the SQL one does. A read-only one refuses to write or commit;
- write units of work take turns on one lock (the database's single writer);
- repositories hand out copies, so a change reaches the database only through
  ``save``, and an aggregate changed in memory by a refused operation changes nothing.

Only what the remedies service uses is faked (cases, systems, organisations, users,
the ledger, the outbox). Every other port method, and every other repository of the
unit of work, fails the test loudly instead of answering what the SQL one would not.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, cast

from ombud.accounts.domain import Membership, Organisation, User
from ombud.kernel.access import OrganisationKind, Principal, Role
from ombud.kernel.files import Upload
from ombud.kernel.ledger.chain import seal
from ombud.kernel.ledger.domain import (
    GENESIS_HASH,
    InstallationKey,
    LedgerDraft,
    LedgerEntry,
    LedgerHead,
)
from ombud.kernel.paging import Page, PageResult
from ombud.kernel.ports import UnitOfWork
from ombud.notifications.domain import Mail, OutboxItem
from ombud.register.domain.lifecycle import LifecycleStage
from ombud.register.domain.revisions import Revision, Transition
from ombud.register.domain.systems import AISystem, PublicationState, SystemDetails
from ombud.register.ports import NewSystem, SystemFilter, SystemListing
from ombud.remedies.domain import Case, CaseAttachment, CaseMessage, CaseState

if TYPE_CHECKING:
    from ombud.accounts.ports import (
        CredentialRepository,
        OrganisationRepository,
        PasswordLinkRepository,
        SignInThrottleRepository,
        UserRepository,
    )
    from ombud.assessments.ports import AssessmentRepository, EvidenceRepository
    from ombud.audits.ports import AuditRunRepository, FindingRepository
    from ombud.incidents.ports import IncidentRepository
    from ombud.kernel.ledger.ports import LedgerFilter, LedgerRepository
    from ombud.notifications.ports import OutboxRepository
    from ombud.register.ports import SystemRepository
    from ombud.remedies.ports import CaseRepository


def _not_faked(what: str) -> NoReturn:
    raise NotImplementedError(f"{what} is not faked: extend tests/fakes.py (or use SQL)")


@dataclass
class FakeState:
    """What the database holds: one dict or list per table, and the id sequences."""

    organisations: dict[int, Organisation] = field(default_factory=dict)
    jurisdictions: set[tuple[int, int]] = field(default_factory=set)  # (overseer, overseen)
    users: dict[int, User] = field(default_factory=dict)
    memberships: dict[tuple[int, int], Role] = field(default_factory=dict)  # (user, org)
    systems: dict[int, AISystem] = field(default_factory=dict)
    cases: dict[int, Case] = field(default_factory=dict)
    messages: list[CaseMessage] = field(default_factory=list)  # in insertion order
    attachments: dict[int, tuple[CaseAttachment, bytes]] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    outbox: list[OutboxItem] = field(default_factory=list)
    last_ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        self.last_ids[table] = self.last_ids.get(table, 0) + 1
        return self.last_ids[table]


class FakeDatabase:
    """The committed state, and the lock write transactions take in turn."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.write_lock = threading.Lock()


class _Tx:
    """One transaction's working copy, as its repositories see it."""

    def __init__(self, state: FakeState, readonly: bool) -> None:
        self.state = state
        self.readonly = readonly

    def write(self) -> FakeState:
        if self.readonly:
            raise RuntimeError("write in a read-only unit of work: it would never be committed")
        return self.state


class _Repository:
    def __init__(self, tx: _Tx) -> None:
        self._tx = tx


class FakeOrganisationRepository(_Repository):
    def add(
        self, name: str, slug: str, kind: OrganisationKind, country: str, at: datetime
    ) -> Organisation:
        state = self._tx.write()
        if any(o.slug == slug for o in state.organisations.values()):
            raise ValueError(f"organisations.slug {slug!r} is taken (unique)")
        org = Organisation(state.next_id("organisations"), name, slug, kind, country, at)
        state.organisations[org.id] = org
        return org

    def get(self, org_id: int, for_update: bool = False) -> Organisation | None:
        return self._tx.state.organisations.get(org_id)  # frozen: no copy needed

    def set_notice_languages(self, org_id: int, languages: tuple[str, ...]) -> None:
        state = self._tx.write()
        if org_id in state.organisations:
            state.organisations[org_id] = replace(
                state.organisations[org_id], notice_languages=languages
            )

    def get_by_slug(self, slug: str) -> Organisation | None:
        return next((o for o in self._tx.state.organisations.values() if o.slug == slug), None)

    def all(self) -> list[Organisation]:
        return sorted(self._tx.state.organisations.values(), key=lambda o: o.name)

    def count(self) -> int:
        return len(self._tx.state.organisations)

    def add_jurisdiction(self, oversight_id: int, org_id: int) -> bool:
        state = self._tx.write()
        if (oversight_id, org_id) in state.jurisdictions:
            return False
        state.jurisdictions.add((oversight_id, org_id))
        return True

    def remove_jurisdiction(self, oversight_id: int, org_id: int) -> bool:
        state = self._tx.write()
        found = (oversight_id, org_id) in state.jurisdictions
        state.jurisdictions.discard((oversight_id, org_id))
        return found

    def jurisdiction_of(self, oversight_ids: Sequence[int]) -> frozenset[int]:
        wanted = set(oversight_ids)
        return frozenset(org for body, org in self._tx.state.jurisdictions if body in wanted)

    def overseers_of(self, org_id: int) -> list[Organisation]:
        state = self._tx.state
        bodies = [state.organisations[b] for b, org in state.jurisdictions if org == org_id]
        return sorted(bodies, key=lambda o: o.name)


class FakeUserRepository(_Repository):
    def add(
        self,
        email: str,
        display_name: str,
        password_hash: str,
        is_superuser: bool,
        at: datetime,
        claimed: bool = True,
    ) -> User:
        state = self._tx.write()
        user = User(
            state.next_id("users"),
            email,
            display_name,
            password_hash,
            is_superuser,
            True,
            at,
            claimed,
        )
        state.users[user.id] = user
        return user

    def get(self, user_id: int, for_update: bool = False) -> User | None:
        return self._tx.state.users.get(user_id)

    def get_by_email(self, email: str) -> User | None:
        users = self._tx.state.users.values()
        return next((u for u in users if u.email.lower() == email.lower()), None)

    def _change(self, user_id: int, **changes: Any) -> None:
        state = self._tx.write()
        if user_id in state.users:
            state.users[user_id] = replace(state.users[user_id], **changes)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._change(user_id, password_hash=password_hash)

    def mark_claimed(self, user_id: int) -> None:
        self._change(user_id, claimed=True)

    def set_active(self, user_id: int, active: bool) -> None:
        self._change(user_id, is_active=active)

    def set_membership(self, user_id: int, org_id: int, role: Role) -> Membership | None:
        """Set the role; returns the previous membership, if there was one."""
        state = self._tx.write()
        previous = state.memberships.get((user_id, org_id))
        state.memberships[(user_id, org_id)] = role
        return Membership(user_id, org_id, previous) if previous else None

    def remove_membership(self, user_id: int, org_id: int) -> Role | None:
        return self._tx.write().memberships.pop((user_id, org_id), None)

    def memberships_of(self, user_id: int) -> list[tuple[Organisation, Role]]:
        state = self._tx.state
        found = [
            (state.organisations[org], role)
            for (user, org), role in state.memberships.items()
            if user == user_id
        ]
        return sorted(found, key=lambda pair: pair[0].name)

    def members_of(self, org_id: int) -> list[tuple[User, Role]]:
        state = self._tx.state
        found = [
            (state.users[user], role)
            for (user, org), role in state.memberships.items()
            if org == org_id
        ]
        return sorted(found, key=lambda pair: pair[0].email)


class FakeSystemRepository(_Repository):
    """Systems by id; listing and search are the SQL repository's (not faked)."""

    def add(self, new: NewSystem) -> AISystem:
        state = self._tx.write()
        system = AISystem(
            id=state.next_id("ai_systems"),
            organisation_id=new.organisation_id,
            details=new.details,
            lifecycle_stage=new.lifecycle_stage,
            publication_state=new.publication_state,
            risk_level=new.risk_level,
            revision=1,
            created_at=new.at,
            updated_at=new.at,
        )
        state.systems[system.id] = copy.deepcopy(system)
        return system

    def get(self, system_id: int, for_update: bool = False) -> AISystem | None:
        found = self._tx.state.systems.get(system_id)
        return copy.deepcopy(found) if found else None

    def save(self, system: AISystem) -> None:
        state = self._tx.write()
        if system.id in state.systems:
            state.systems[system.id] = copy.deepcopy(system)

    def delete(self, system_id: int) -> None:
        self._tx.write().systems.pop(system_id, None)

    def search(self, flt: SystemFilter, page: Page) -> PageResult[SystemListing]:
        _not_faked("systems.search")

    def iter_listings(self, flt: SystemFilter, batch: int = 1000) -> Iterator[SystemListing]:
        _not_faked("systems.iter_listings")

    def organisations_with(self, state: PublicationState) -> list[Organisation]:
        _not_faked("systems.organisations_with")

    def add_revision(self, revision: Revision) -> None:
        _not_faked("systems.add_revision")

    def revisions(self, system_id: int) -> list[Revision]:
        _not_faked("systems.revisions")

    def add_transition(self, transition: Transition) -> None:
        _not_faked("systems.add_transition")

    def transitions(self, system_id: int) -> list[Transition]:
        _not_faked("systems.transitions")


class FakeCaseRepository(_Repository):
    def add(self, case: Case) -> Case | None:
        """Store a new case; None (nothing stored) if its tracking code is taken."""
        state = self._tx.write()
        if any(c.tracking_code == case.tracking_code for c in state.cases.values()):
            return None
        case.id = state.next_id("cases")  # as the SQL repository: the id is set in place
        state.cases[case.id] = copy.copy(case)
        return case

    def get(self, case_id: int, for_update: bool = False) -> Case | None:
        found = self._tx.state.cases.get(case_id)
        return copy.copy(found) if found else None  # Case's fields are immutable values

    def by_tracking_code(self, code: str) -> Case | None:
        cases = self._tx.state.cases.values()
        found = next((c for c in cases if c.tracking_code == code), None)
        return copy.copy(found) if found else None

    def save(self, case: Case) -> None:
        state = self._tx.write()
        if case.id in state.cases:  # an UPDATE of a row that is not there changes nothing
            state.cases[case.id] = copy.copy(case)

    def for_organisations(
        self,
        org_ids: frozenset[int],
        state: CaseState | None,
        offset: int,
        limit: int,
        escalated_only: bool = False,
    ) -> tuple[list[Case], int]:
        found = [
            c
            for c in self._tx.state.cases.values()
            if c.organisation_id in org_ids
            and (state is None or c.state is state)
            and (not escalated_only or c.escalated_at is not None)
        ]
        found.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return [copy.copy(c) for c in found[offset : offset + limit]], len(found)

    def add_message(self, message: CaseMessage) -> None:
        self._tx.write().messages.append(message)

    def messages(self, case_id: int) -> list[CaseMessage]:
        return [m for m in self._tx.state.messages if m.case_id == case_id]

    def add_attachment(
        self, case_id: int, upload: Upload, content_type: str, at: datetime
    ) -> CaseAttachment:
        state = self._tx.write()
        attachment = CaseAttachment(
            id=state.next_id("case_attachments"),
            case_id=case_id,
            name=upload.name,
            content_type=content_type,
            size=len(upload.data),
            sha256=upload.sha256,
            uploaded_at=at,
        )
        state.attachments[attachment.id] = (attachment, bytes(upload.data))
        return attachment

    def attachments(self, case_id: int) -> list[CaseAttachment]:
        stored = sorted(self._tx.state.attachments.items())
        return [meta for _, (meta, _) in stored if meta.case_id == case_id]

    def attachment_data(
        self, case_id: int, attachment_id: int
    ) -> tuple[CaseAttachment, bytes] | None:
        found = self._tx.state.attachments.get(attachment_id)
        return found if found and found[0].case_id == case_id else None


class FakeLedgerRepository(_Repository):
    """Entries chained as the SQL repository chains them (``seal``), without the MAC:
    the installation key and its checks are the ledger's own tests' business."""

    def append(self, draft: LedgerDraft, at: datetime) -> LedgerEntry:
        state = self._tx.write()
        seq, prev = (
            (state.ledger[-1].seq, state.ledger[-1].hash) if state.ledger else (0, GENESIS_HASH)
        )
        entry = seal(draft, seq + 1, at, prev)
        state.ledger.append(entry)
        return entry

    def iter_entries(self) -> Iterator[LedgerEntry]:
        return iter(list(self._tx.state.ledger))

    def head(self) -> tuple[int, str] | None:
        ledger = self._tx.state.ledger
        return (ledger[-1].seq, ledger[-1].hash) if ledger else None

    def find(self, flt: LedgerFilter, page: Page) -> PageResult[LedgerEntry]:
        _not_faked("ledger.find")

    def head_state(self, for_update: bool = False) -> LedgerHead | None:
        _not_faked("ledger.head_state")

    def count_unsealed(self) -> int:
        _not_faked("ledger.count_unsealed")

    def seal_unsealed(self, key: InstallationKey) -> int:
        _not_faked("ledger.seal_unsealed")

    def entries_of(self, entity_type: str, entity_ids: Sequence[str]) -> Iterator[LedgerEntry]:
        _not_faked("ledger.entries_of")

    def recorded_id_batches(self, entity_type: str, size: int) -> Iterator[list[str]]:
        _not_faked("ledger.recorded_id_batches")

    def record_types(self) -> frozenset[str]:
        _not_faked("ledger.record_types")

    def record_batches(
        self, entity_type: str, size: int
    ) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        _not_faked("ledger.record_batches")

    def existing_records(self, entity_type: str, entity_ids: Sequence[str]) -> set[str]:
        _not_faked("ledger.existing_records")

    def records_of(
        self, entity_type: str, entity_ids: Sequence[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        _not_faked("ledger.records_of")


class FakeOutboxRepository(_Repository):
    """Mail queued in the transaction; sending is the notification service's business."""

    def add(self, mail: Mail, at: datetime) -> None:
        state = self._tx.write()
        state.outbox.append(
            OutboxItem(
                id=state.next_id("outbox"),
                recipient=mail.recipient,
                subject=mail.subject,
                body=mail.body,
                created_at=at,
                next_attempt_at=at,
                attempts=0,
                sent_at=None,
                last_error="",
            )
        )

    def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[OutboxItem]:
        _not_faked("outbox.claim_due")

    def mark_sent(self, item_id: int, at: datetime) -> None:
        _not_faked("outbox.mark_sent")

    def mark_failed(self, item_id: int, error: str, retry_at: datetime) -> None:
        _not_faked("outbox.mark_failed")

    def recent(self, pending_only: bool, limit: int) -> list[OutboxItem]:
        items = [
            i for i in reversed(self._tx.state.outbox) if not pending_only or i.sent_at is None
        ]
        return items[:limit]


class _NotFaked:
    """A repository the fakes do not provide: any use of it fails the test."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> NoReturn:
        _not_faked(f"uow.{self._name}.{attr}")


class FakeUnitOfWork:
    """One transaction over a ``FakeDatabase``: nothing is written unless ``commit``."""

    organisations: OrganisationRepository
    users: UserRepository
    credentials: CredentialRepository
    password_links: PasswordLinkRepository
    sign_in_throttle: SignInThrottleRepository
    systems: SystemRepository
    ledger: LedgerRepository
    assessments: AssessmentRepository
    evidence: EvidenceRepository
    cases: CaseRepository
    incidents: IncidentRepository
    outbox: OutboxRepository
    audit_runs: AuditRunRepository
    findings: FindingRepository

    def __init__(self, db: FakeDatabase, readonly: bool = False) -> None:
        self._db = db
        self._readonly = readonly
        self._work: FakeState | None = None

    def __enter__(self) -> UnitOfWork:
        # A writer waits for the one before it, like SQLite's BEGIN IMMEDIATE (with its
        # busy timeout): two writers never both work on the same old state.
        if not self._readonly and not self._db.write_lock.acquire(timeout=5):
            raise TimeoutError("database is locked: another write unit of work is open")
        self._begin()
        return self

    def _begin(self) -> None:
        self._work = copy.deepcopy(self._db.state)
        tx = _Tx(self._work, self._readonly)
        self.organisations = FakeOrganisationRepository(tx)
        self.users = FakeUserRepository(tx)
        self.systems = FakeSystemRepository(tx)
        self.cases = FakeCaseRepository(tx)
        self.ledger = FakeLedgerRepository(tx)
        self.outbox = FakeOutboxRepository(tx)
        others = "credentials password_links sign_in_throttle assessments evidence incidents"
        for name in [*others.split(), "audit_runs", "findings"]:
            setattr(self, name, cast(Any, _NotFaked(name)))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._work = None  # what was not committed is gone
        if not self._readonly:
            self._db.write_lock.release()

    def commit(self) -> None:
        if self._readonly:
            raise RuntimeError("commit on a read-only unit of work")
        assert self._work is not None, "commit outside the unit of work's block"
        self._db.state = copy.deepcopy(self._work)

    def rollback(self) -> None:
        assert self._work is not None, "rollback outside the unit of work's block"
        self._begin()


class FakeUnitOfWorkFactory:
    """What services are given instead of the SQL factory; ``db`` is what they wrote."""

    def __init__(self, db: FakeDatabase | None = None) -> None:
        self.db = db or FakeDatabase()

    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        return FakeUnitOfWork(self.db, readonly=readonly)

    # -- a world to test in, written through the fake repositories ----------------

    def organisation(self, name: str, kind: OrganisationKind, at: datetime) -> Organisation:
        """A new organisation."""
        with self() as uow:
            org = uow.organisations.add(name, name.lower().replace(" ", "-"), kind, "", at)
            uow.commit()
        return org

    def member(self, email: str, org: Organisation, role: Role, at: datetime) -> Principal:
        """A new account with ``role`` in ``org``, as the person acting."""
        with self() as uow:
            user = uow.users.add(email, email.split("@")[0], "not a hash", False, at)
            uow.users.set_membership(user.id, org.id, role)
            uow.commit()
        return self.principal(email)

    def oversee(self, body: Organisation, org: Organisation) -> None:
        """Give ``body`` jurisdiction over ``org``."""
        with self() as uow:
            uow.organisations.add_jurisdiction(body.id, org.id)
            uow.commit()

    def principal(self, email: str) -> Principal:
        """Who the account is now, built as accounts.service builds it (memberships,
        the kinds of its organisations, the jurisdiction of those that oversee)."""
        with self(readonly=True) as uow:
            user = uow.users.get_by_email(email)
            assert user is not None, f"no account {email}"
            orgs = uow.users.memberships_of(user.id)
            bodies = [o.id for o, _ in orgs if o.kind.oversees]
            return Principal(
                user_id=user.id,
                email=user.email,
                memberships={o.id: role for o, role in orgs},
                org_kinds={o.id: o.kind for o, _ in orgs},
                jurisdiction=uow.organisations.jurisdiction_of(bodies),
                is_superuser=user.is_superuser,
            )

    def published_system(self, org: Organisation, name: str, at: datetime) -> AISystem:
        """A system of ``org`` published in the register (the public may report on it)."""
        with self() as uow:
            system = uow.systems.add(
                NewSystem(
                    org.id,
                    SystemDetails(name=name),
                    LifecycleStage.USE,
                    at,
                    publication_state=PublicationState.PUBLISHED,
                )
            )
            uow.commit()
        return system

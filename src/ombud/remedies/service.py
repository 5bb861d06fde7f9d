"""Reports, complaints and requests for human review from the public, and their handling.

The public side needs no account: a report about a published system returns a
tracking code and a secret; the two together (the follow link) show the case's
public status, and the code alone reveals nothing. Every acknowledged report is
committed before the answer goes out (coe-fc:14.2.c, unga-78-265:op6.c/k).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ombud.accounts.access import get_org, org_ref
from ombud.accounts.domain import Organisation
from ombud.kernel.access import Action, OrganisationRef, Principal, acting_for, is_allowed
from ombud.kernel.db.group_commit import GroupCommit
from ombud.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from ombud.kernel.files import Upload, check_file
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.paging import PageResult
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import Service, page_of, utcnow
from ombud.notifications.domain import Mail
from ombud.register.domain.systems import PublicationState
from ombud.remedies.domain import (
    ATTACHMENT_TYPES,
    MESSAGE_MAX,
    AttachmentLimits,
    Case,
    CaseAttachment,
    CaseMessage,
    CaseState,
    PublicReport,
    attachment_problems,
    new_secret,
    new_tracking_code,
    public_status,
    secret_hash,
    secret_matches,
    sender_name,
    validate_move,
    validate_report,
)
from ombud.remedies.mail import to_handlers, to_reporter_changed, to_reporter_received

REPORTER = "reporter"

# Why a case operation is refused to someone who may see the case.
_REFUSALS = {
    Action.CASE_HANDLE: "Moving, deciding and assigning this case is for the case handlers of "
    "{org}; your role does not allow it.",
    Action.CASE_WRITE: "Your role does not allow you to write on this case: notes and messages "
    "come from the case handlers of {org} or, once it is escalated, from the officers of "
    "the oversight body.",
    Action.CASE_READ: "Your role does not allow you to read this case.",
}


@dataclass(frozen=True)
class Receipt:
    tracking_code: str
    secret: str  # shown once to the reporter, stored only as a hash


@dataclass(frozen=True)
class CaseView:
    case: Case
    system_name: str
    messages: list[CaseMessage]
    overdue: bool
    next_states: list[CaseState]
    attachments: list[CaseAttachment] = field(default_factory=list)
    # What the viewer may do on this case, by action: the page offers only those forms.
    can: dict[str, bool] = field(default_factory=dict)
    # The organisations the messages were written for, by id.
    senders: dict[int, OrganisationRef] = field(default_factory=dict)
    writes_as: str = ""  # how the person would see the viewer's message signed; "" if none


class RemediesService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock = utcnow,
        limits: AttachmentLimits | None = None,
        base_url: str = "http://127.0.0.1:8000",
    ) -> None:
        super().__init__(uow_factory, clock)
        self._intake = GroupCommit(uow_factory)
        self.limits = limits or AttachmentLimits()
        self.base_url = base_url.rstrip("/")

    # -- e-mail, queued in the same transaction as the change it reports ---------

    def _queue(self, uow: UnitOfWork, mails: list[Mail], now: datetime) -> None:
        for mail in mails:
            uow.outbox.add(mail, now)

    @staticmethod
    def _handler_emails(uow: UnitOfWork, org_id: int) -> list[str]:
        org = get_org(uow, org_id)
        return [
            user.email
            for user, role in uow.users.members_of(org_id)
            if user.is_active
            and is_allowed(
                Principal(user.id, user.email, {org.id: role}, {org.id: org.kind}),
                Action.CASE_HANDLE,
                org_ref(org),
            )
        ]

    @staticmethod
    def _overseer_emails(uow: UnitOfWork, org_id: int) -> list[str]:
        return [
            user.email
            for body in uow.organisations.overseers_of(org_id)
            for user, _ in uow.users.members_of(body.id)
            if user.is_active
        ]

    @staticmethod
    def _system_name(uow: UnitOfWork, case: Case) -> str:
        system = uow.systems.get(case.system_id)
        return system.details.name if system else ""

    def _check_uploads(self, uploads: Sequence[Upload], already: int = 0) -> list[str]:
        problems = attachment_problems(uploads, self.limits, already)
        if problems:
            raise Invalid.from_fields({"attachments": " ".join(problems)})
        return [
            check_file(u.name, u.data, ATTACHMENT_TYPES, self.limits.max_bytes)[0] for u in uploads
        ]

    def _attach(
        self,
        uow: UnitOfWork,
        case: Case,
        uploads: Sequence[Upload],
        types: list[str],
        now: datetime,
    ) -> list[dict[str, str]]:
        stored = []
        for upload, content_type in zip(uploads, types, strict=True):
            uow.cases.add_attachment(case.id, upload, content_type, now)
            stored.append({"sha256": upload.sha256, "type": content_type})
        return stored

    # -- the public side ------------------------------------------------------

    def submit(self, report: PublicReport, uploads: Sequence[Upload] = ()) -> Receipt:
        """Take a report about a published system; answers only once it is committed."""
        problems = validate_report(report)
        if problems:
            raise Invalid.from_fields(problems)
        types = self._check_uploads(uploads)
        now = self.clock()
        secret = new_secret()
        key_hash = secret_hash(secret)
        # Reads first, in their own transaction: on SQLite the write transaction below
        # holds the database's only write lock, so it does nothing but write. A system
        # once published can no longer be deleted (register.delete), so it stays there;
        # one withdrawn in between still gets the report, which was sent while it was not.
        with self.uow_factory(readonly=True) as uow:
            system = uow.systems.get(report.system_id)
            if system is None or system.publication_state is not PublicationState.PUBLISHED:
                raise Invalid.from_fields(
                    {"system": f"No published AI system {report.system_id} in the register."}
                )
            handlers = self._handler_emails(uow, system.organisation_id)
        name = system.details.name
        subject = f'new {report.kind.value.replace("_", " ")} about "{name}"'

        def write(uow: UnitOfWork) -> Receipt:
            case = None
            while case is None:  # a tracking code already taken (1 in 31^9): draw again
                case = uow.cases.add(
                    Case.received(
                        report, system.organisation_id, new_tracking_code(), key_hash, now
                    )
                )
            files = self._attach(uow, case, uploads, types, now)
            # The ledger keeps what happened, not what the person wrote (PII minimisation).
            self._record(
                uow,
                None,
                LedgerAction.CREATE,
                "case",
                case.id,
                case.organisation_id,
                after={
                    "kind": report.kind.value,
                    "category": report.category.value,
                    "system_id": system.id,
                    **({"attachments": files} if files else {}),
                },
                actor_label=REPORTER,
            )
            code = case.tracking_code
            follow = f"{self.base_url}/follow/{code}/{secret}"
            mails = to_reporter_received(case, name, follow)
            self._queue(uow, mails + to_handlers(handlers, case, self.base_url, subject), now)
            return Receipt(code, secret)

        # Reports that arrive together are written and committed together (group commit).
        return self._intake.run(write)

    def _public_case(self, tracking_code: str, secret: str) -> Case:
        with self.uow_factory(readonly=True) as uow:
            case = uow.cases.by_tracking_code(tracking_code.strip().upper())
        # Same answer for an unknown code and a wrong secret: the code alone says nothing.
        if case is None or not secret_matches(case.secret_hash, secret):
            raise NotFound("No case with this tracking code and key.")
        return case

    def follow(self, tracking_code: str, secret: str) -> dict[str, Any]:
        """The public status of a case, for the person who reported it."""
        case = self._public_case(tracking_code, secret)
        with self.uow_factory(readonly=True) as uow:
            messages = uow.cases.messages(case.id)
            system = uow.systems.get(case.system_id)
            attachments = uow.cases.attachments(case.id)
            senders = self._senders(uow, messages)
        status = public_status(case, messages, self.clock(), attachments, senders)
        status["system"] = system.details.name if system else ""
        return status

    def add_information(
        self, tracking_code: str, secret: str, text: str, uploads: Sequence[Upload] = ()
    ) -> None:
        """The reporter adds information (e.g. when asked for more): text, files or both."""
        text = text.strip()
        if (not text and not uploads) or len(text) > MESSAGE_MAX:
            raise Invalid.from_fields({"text": f"Write 1 to {MESSAGE_MAX} characters."})
        case = self._public_case(tracking_code, secret)
        now = self.clock()
        with self.uow_factory() as uow:
            locked = uow.cases.get(case.id, for_update=True)
            assert locked is not None
            locked.add_information(now)  # refused on a closed case; nothing is saved then
            types = self._check_uploads(uploads, len(uow.cases.attachments(case.id)))
            files = self._attach(uow, locked, uploads, types, now)
            if text:
                uow.cases.add_message(CaseMessage(case.id, now, REPORTER, text, False))
            uow.cases.save(locked)
            self._record(
                uow,
                None,
                LedgerAction.UPDATE,
                "case",
                case.id,
                case.organisation_id,
                after={"message_from": REPORTER, **({"attachments": files} if files else {})},
                actor_label=REPORTER,
            )
            assignee = uow.users.get(locked.assigned_to) if locked.assigned_to else None
            self._queue(
                uow,
                to_handlers(
                    [assignee.email]
                    if assignee and assignee.is_active
                    else self._handler_emails(uow, case.organisation_id),
                    locked,
                    self.base_url,
                    "the person added information",
                ),
                now,
            )
            uow.commit()

    # -- the organisation's side ---------------------------------------------

    def cases(
        self, actor: Principal, state: CaseState | None = None, offset: int = 0, limit: int = 50
    ) -> PageResult[Case]:
        """The triage queue of the organisations whose cases the actor handles."""
        page = page_of(offset, limit)
        with self.uow_factory(readonly=True) as uow:
            handled = frozenset(
                o.id
                for o in uow.organisations.all()
                if is_allowed(actor, Action.CASE_HANDLE, org_ref(o))
            )
            items, total = (
                uow.cases.for_organisations(handled, state, page.offset, page.limit)
                if handled
                else ([], 0)
            )
        return PageResult(items, total, page.offset, page.limit)

    def get(self, actor: Principal, case_id: int) -> CaseView:
        """A case the actor handles, or oversees once it is escalated, with what they may do."""
        with self.uow_factory(readonly=True) as uow:
            case, org, _ = self._case_for(uow, actor, case_id, Action.CASE_READ)
            system = uow.systems.get(case.system_id)
            ref, overseers = org_ref(org), self._overseers(uow, case)
            messages = uow.cases.messages(case.id)
            writer = acting_for(actor, Action.CASE_WRITE, ref, overseers)
            return CaseView(
                case,
                system.details.name if system else "",
                messages,
                case.overdue(self.clock()),
                case.next_states,
                uow.cases.attachments(case.id),
                {
                    a.value: is_allowed(actor, a, ref, overseers)
                    for a in (Action.CASE_HANDLE, Action.CASE_WRITE, Action.INCIDENT_RECORD)
                },
                self._senders(uow, messages),
                sender_name(writer) if writer else "",
            )

    def attachment(
        self, actor: Principal, case_id: int, attachment_id: int
    ) -> tuple[CaseAttachment, bytes]:
        """A file of a case the actor handles (or oversees once escalated)."""
        with self.uow_factory(readonly=True) as uow:
            case, _, _ = self._case_for(uow, actor, case_id, Action.CASE_READ)
            found = uow.cases.attachment_data(case.id, attachment_id)
        if found is None:
            raise NotFound(f"Case {case_id} has no attachment {attachment_id}.")
        return found

    @staticmethod
    def _overseers(uow: UnitOfWork, case: Case) -> list[OrganisationRef]:
        """The bodies with jurisdiction over the case's organisation, once it is
        escalated to them (coe-fc:14.2.c); none before."""
        if not case.escalated:
            return []
        return [org_ref(o) for o in uow.organisations.overseers_of(case.organisation_id)]

    @staticmethod
    def _senders(uow: UnitOfWork, messages: Sequence[CaseMessage]) -> dict[int, OrganisationRef]:
        ids = {m.organisation_id for m in messages if m.organisation_id is not None}
        found = (uow.organisations.get(i) for i in sorted(ids))
        return {o.id: org_ref(o) for o in found if o is not None}

    def _case_for(
        self, uow: UnitOfWork, actor: Principal, case_id: int, action: Action, lock: bool = False
    ) -> tuple[Case, Organisation, OrganisationRef]:
        """The case, its organisation and on whose behalf the actor does ``action`` on
        it (domain/access.py POLICY). NotFound if the actor may not even read the case,
        so that ids of other organisations' cases do not leak; Forbidden if they read it
        but may not do ``action``."""
        case = uow.cases.get(case_id, for_update=lock)
        if case is None:
            raise NotFound(f"Case {case_id} does not exist or is not visible to you.")
        org = get_org(uow, case.organisation_id)
        ref, overseers = org_ref(org), self._overseers(uow, case)
        if not is_allowed(actor, Action.CASE_READ, ref, overseers):
            raise NotFound(f"Case {case_id} does not exist or is not visible to you.")
        acting = acting_for(actor, action, ref, overseers)
        if acting is None:
            raise Forbidden(_REFUSALS[action].format(org=org.name))
        return case, org, acting

    def move(
        self,
        actor: Principal,
        case_id: int,
        target: CaseState,
        message: str = "",
        outcome: str = "",
    ) -> Case:
        """Move a case through its states; a decision needs a reasoned outcome, which is
        sent to the person (coe-fc:14.2.b, unga-78-265:op6.k)."""
        message, outcome = message.strip(), outcome.strip()
        # Checked before the transaction too: words that cannot go out wait for no lock.
        problems = validate_move(target, message, outcome)
        if problems:
            raise Invalid.from_fields(problems)
        now = self.clock()
        with self.uow_factory() as uow:
            case, org, acting = self._case_for(uow, actor, case_id, Action.CASE_HANDLE, lock=True)
            change = case.move(target, actor, now, outcome)
            uow.cases.save(case)
            if message or outcome:
                uow.cases.add_message(
                    CaseMessage(case.id, now, actor.label, outcome or message, False, acting.id)
                )
            self._record(
                uow,
                actor,
                LedgerAction.TRANSITION,
                "case",
                case.id,
                org.id,
                before={"state": change.before.value},
                after={"state": change.after.value},
            )
            mails = to_reporter_changed(
                case, self._system_name(uow, case), self.base_url, message, sender_name(acting)
            )
            if target is CaseState.ESCALATED:
                mails += to_handlers(
                    self._overseer_emails(uow, case.organisation_id),
                    case,
                    self.base_url,
                    f"escalated to you by {org.name}",
                )
            self._queue(uow, mails, now)
            uow.commit()
            return case

    def assign(
        self, actor: Principal, case_id: int, reviewer_email: str, original_decider: str = ""
    ) -> Case:
        """Give the case to a handler. For a human review, name who took the original
        decision: the reviewer must be someone else (unga-78-265:op6.k, coe-fc:15)."""
        reviewer_email = reviewer_email.strip().lower()
        original_decider = original_decider.strip().lower()
        now = self.clock()
        with self.uow_factory() as uow:
            case, org, _ = self._case_for(uow, actor, case_id, Action.CASE_HANDLE, lock=True)
            members = {u.email.lower(): (u, r) for u, r in uow.users.members_of(org.id)}
            found = members.get(reviewer_email)
            if found is None or not is_allowed(
                Principal(found[0].id, found[0].email, {org.id: found[1]}, {org.id: org.kind}),
                Action.CASE_HANDLE,
                org_ref(org),
            ):
                raise Invalid.from_fields(
                    {"reviewer": f"{reviewer_email} does not handle cases of {org.name}."}
                )
            case.assign(found[0].id, reviewer_email, original_decider, now)
            uow.cases.save(case)
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "case",
                case.id,
                org.id,
                after={"assigned_to": reviewer_email},
            )
            if found[0].id != actor.user_id:
                self._queue(
                    uow, to_handlers([found[0].email], case, self.base_url, "assigned to you"), now
                )
            uow.commit()
            return case

    def escalate_overdue(self, tracking_code: str, secret: str) -> None:
        """The person escalates a case the organisation has left past its deadline to the
        oversight body with jurisdiction (coe-fc:14.2.c)."""
        case = self._public_case(tracking_code, secret)
        now = self.clock()
        # Asked first without the write lock (a public form), then again under it.
        refusal = case.why_not_escalate(now)
        if refusal:
            raise Conflict(refusal)
        with self.uow_factory() as uow:
            locked = uow.cases.get(case.id, for_update=True)
            assert locked is not None
            locked.escalate_overdue(now)
            uow.cases.save(locked)
            self._record(
                uow,
                None,
                LedgerAction.TRANSITION,
                "case",
                case.id,
                case.organisation_id,
                after={"state": "escalated", "by": REPORTER},
                actor_label=REPORTER,
            )
            self._queue(
                uow,
                to_reporter_changed(locked, self._system_name(uow, locked), self.base_url)
                + to_handlers(
                    self._overseer_emails(uow, case.organisation_id)
                    + self._handler_emails(uow, case.organisation_id),
                    locked,
                    self.base_url,
                    "escalated by the person: the deadline had passed",
                ),
                now,
            )
            uow.commit()

    def oversight_queue(
        self, actor: Principal, offset: int = 0, limit: int = 50
    ) -> PageResult[Case]:
        """Escalated cases of the organisations in the actor's oversight jurisdiction."""
        page = page_of(offset, limit)
        with self.uow_factory(readonly=True) as uow:
            overseen = frozenset(
                o.id
                for o in filter(None, map(uow.organisations.get, sorted(actor.jurisdiction)))
                if is_allowed(
                    actor,
                    Action.CASE_READ,
                    org_ref(o),
                    [org_ref(b) for b in uow.organisations.overseers_of(o.id)],
                )
            )
            items, total = (
                uow.cases.for_organisations(
                    overseen, None, page.offset, page.limit, escalated_only=True
                )
                if overseen
                else ([], 0)
            )
        return PageResult(items, total, page.offset, page.limit)

    def note(self, actor: Principal, case_id: int, text: str, internal: bool = True) -> None:
        """An internal note (never shown to the reporter) or a message to the reporter,
        from the case's handlers or, once it is escalated, from an officer of the
        oversight body; the person sees which organisation wrote."""
        text = text.strip()
        if not text or len(text) > MESSAGE_MAX:
            raise Invalid.from_fields({"text": f"Write 1 to {MESSAGE_MAX} characters."})
        now = self.clock()
        with self.uow_factory() as uow:
            case, org, acting = self._case_for(uow, actor, case_id, Action.CASE_WRITE, lock=True)
            uow.cases.add_message(CaseMessage(case.id, now, actor.label, text, internal, acting.id))
            case.touch(now)
            uow.cases.save(case)
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "case",
                case.id,
                case.organisation_id,
                after={
                    "note": "internal" if internal else "to reporter",
                    "written_for": acting.id,
                },
            )
            mails = []
            if not internal:
                mails += to_reporter_changed(
                    case, self._system_name(uow, case), self.base_url, text, sender_name(acting)
                )
            if acting.id != org.id:  # the organisation hears that its overseer wrote
                assignee = uow.users.get(case.assigned_to) if case.assigned_to else None
                mails += to_handlers(
                    [assignee.email]
                    if assignee and assignee.is_active
                    else self._handler_emails(uow, org.id),
                    case,
                    self.base_url,
                    f"{acting.name} wrote on the case",
                )
            self._queue(uow, mails, now)
            uow.commit()

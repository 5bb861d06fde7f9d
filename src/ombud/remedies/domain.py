"""Remedies: reports and complaints from the public, human review, incidents.

coe-fc:14 (remedies: information to contest, complaint to competent authorities),
coe-fc:15 (procedural safeguards), unga-78-265:op6.c (feedback mechanisms to report
misuse, vulnerabilities and incidents) and op6.k (human review and redress),
ipu-149 (reporting and removing AI-generated gender-based violence and deepfakes),
ipa-cis-2024 (terrorist use of AI).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ombud.kernel.access import OrganisationRef, Principal
from ombud.kernel.errors import Conflict, Forbidden, Invalid
from ombud.kernel.files import IMAGE_AND_DOCUMENT_TYPES, Upload, check_file

DESCRIPTION_MAX = 10_000
CONTACT_MAX = 320
REFERENCE_MAX = 200
MESSAGE_MAX = 5_000
# Codes people read out and type: no 0/O, 1/I/L.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class CaseKind(enum.StrEnum):
    INCIDENT = "incident"
    COMPLAINT = "complaint"
    HUMAN_REVIEW = "human_review"


class Category(enum.StrEnum):
    DISCRIMINATION = "discrimination"
    PRIVACY = "privacy"
    SAFETY = "safety"  # safety or physical harm
    DECISION_ERROR = "decision_error"  # an error affecting a decision
    MANIPULATION = "manipulation"  # manipulation or disinformation
    DEEPFAKE = "deepfake"  # deepfake or AI-generated gender-based violence (removal request)
    SECURITY = "security"  # security vulnerability
    MALICIOUS_USE = "malicious_use"  # malicious or terrorist use
    OTHER = "other"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS = {
    Category.DISCRIMINATION: "Discrimination",
    Category.PRIVACY: "Privacy",
    Category.SAFETY: "Safety or physical harm",
    Category.DECISION_ERROR: "An error affecting a decision",
    Category.MANIPULATION: "Manipulation or disinformation",
    Category.DEEPFAKE: "Deepfake or AI-generated gender-based violence (removal request)",
    Category.SECURITY: "Security vulnerability",
    Category.MALICIOUS_USE: "Malicious or terrorist use",
    Category.OTHER: "Other",
}


class CaseState(enum.StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    UNDER_REVIEW = "under_review"
    NEED_INFO = "need_info"
    DECIDED = "decided"
    CLOSED = "closed"
    ESCALATED = "escalated"


S = CaseState
CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.RECEIVED: frozenset({S.ACKNOWLEDGED, S.UNDER_REVIEW, S.ESCALATED, S.CLOSED}),
    S.ACKNOWLEDGED: frozenset({S.UNDER_REVIEW, S.NEED_INFO, S.ESCALATED, S.CLOSED}),
    S.UNDER_REVIEW: frozenset({S.NEED_INFO, S.DECIDED, S.ESCALATED}),
    S.NEED_INFO: frozenset({S.UNDER_REVIEW, S.ESCALATED, S.CLOSED}),
    S.DECIDED: frozenset({S.CLOSED, S.ESCALATED}),
    S.ESCALATED: frozenset({S.UNDER_REVIEW, S.DECIDED, S.CLOSED}),
    S.CLOSED: frozenset(),
}

# How long each step may take before the case is overdue (and may be escalated).
DEADLINES: dict[CaseState, timedelta] = {
    S.RECEIVED: timedelta(days=5),
    S.ACKNOWLEDGED: timedelta(days=30),
    S.UNDER_REVIEW: timedelta(days=30),
    S.NEED_INFO: timedelta(days=30),
    S.ESCALATED: timedelta(days=60),
}


def deadline_after(state: CaseState, now: datetime) -> datetime | None:
    """When a case that enters ``state`` at ``now`` is due; None where nothing more is
    owed to the person (decided, closed)."""
    step = DEADLINES.get(state)
    return now + step if step is not None else None


def validate_move(target: CaseState, message: str, outcome: str) -> dict[str, str]:
    """What is wrong with the words that go with a move, as {field: message}; empty when
    they are fine. A decision carries its reasons, sent to the person (coe-fc:14.2.b)."""
    if target is CaseState.DECIDED and not outcome.strip():
        return {"outcome": "A decision needs its reasons."}
    if len(message.strip()) > MESSAGE_MAX or len(outcome.strip()) > MESSAGE_MAX:
        return {"message": f"At most {MESSAGE_MAX} characters."}
    return {}


@dataclass(frozen=True)
class CaseMove:
    """A change of a case's state, as the ledger keeps it (before and after)."""

    before: CaseState
    after: CaseState


@dataclass(frozen=True)
class PublicReport:
    """What a member of the public sends: minimal, most of it optional."""

    system_id: int
    kind: CaseKind
    category: Category
    description: str
    contact: str = ""  # an e-mail address, only if the person wants news
    decision_reference: str = ""  # for complaints and human review requests
    removal_requested: bool = False


@dataclass
class Case:
    id: int
    system_id: int
    organisation_id: int
    kind: CaseKind
    category: Category
    description: str
    contact: str
    decision_reference: str
    removal_requested: bool
    state: CaseState
    tracking_code: str
    secret_hash: str
    created_at: datetime
    updated_at: datetime
    deadline: datetime | None
    assigned_to: int | None = None
    original_decider: str = ""  # who took the decision under review (human review)
    outcome: str = ""
    escalated_at: datetime | None = None

    # The case's rules live here; services load a case, call one of these, save it.
    # Every change of state goes through ``_enter``, which asks CASE_TRANSITIONS.

    @classmethod
    def received(
        cls,
        report: PublicReport,
        organisation_id: int,
        tracking_code: str,
        key_hash: str,
        now: datetime,
    ) -> Case:
        """A new case from a person's report, received at ``now`` with its first
        deadline running (coe-fc:14.2.c); ``key_hash`` is the hash of the follow key."""
        return cls(
            id=0,
            system_id=report.system_id,
            organisation_id=organisation_id,
            kind=report.kind,
            category=report.category,
            description=report.description.strip(),
            contact=report.contact.strip(),
            decision_reference=report.decision_reference.strip(),
            removal_requested=report.removal_requested,
            state=CaseState.RECEIVED,
            tracking_code=tracking_code,
            secret_hash=key_hash,
            created_at=now,
            updated_at=now,
            deadline=deadline_after(CaseState.RECEIVED, now),
        )

    def overdue(self, now: datetime) -> bool:
        """Past its deadline (a state without a deadline is never overdue)."""
        return self.deadline is not None and now > self.deadline

    @property
    def escalated(self) -> bool:
        """Once escalated, the bodies with jurisdiction over the organisation take part in
        the case for good, whatever state it is in later (coe-fc:14.2.c, coe-fc:26)."""
        return self.escalated_at is not None

    @property
    def next_states(self) -> list[CaseState]:
        """Where the case may go from its state, in a stable order."""
        return sorted(CASE_TRANSITIONS[self.state])

    def may_become(self, target: CaseState) -> bool:
        """Whether the transition table allows the move from the case's state."""
        return target in CASE_TRANSITIONS[self.state]

    def why_not_decide(self, actor: Principal) -> str | None:
        """Why ``actor`` may not decide this case, or None if they may (their role is
        the access policy's business, not the case's)."""
        if self.kind is not CaseKind.HUMAN_REVIEW:
            return None
        if self.assigned_to not in (None, actor.user_id):
            return "This human review is assigned to another reviewer; only they decide it."
        # unga-78-265:op6.k — human review by someone other than the original decider
        if self.original_decider.lower() == actor.email.lower():
            return (
                "A human review is decided by someone who had no part in the original "
                "decision (unga-78-265:op6.k)."
            )
        return None

    def why_not_escalate(self, now: datetime) -> str | None:
        """Why the person may not escalate the case themselves now, or None if they may:
        only once the organisation has let its deadline pass (coe-fc:14.2.c), and only
        where the transition table allows escalation."""
        if not self.overdue(now):
            return "The case is not overdue: the organisation still has time to answer."
        if not self.may_become(CaseState.ESCALATED):
            return f"The case is {self.state.value}."
        return None

    def may_escalate(self, now: datetime) -> bool:
        """Whether the person may escalate the case now (see ``why_not_escalate``)."""
        return self.why_not_escalate(now) is None

    def move(
        self, target: CaseState, actor: Principal, now: datetime, outcome: str = ""
    ) -> CaseMove:
        """A handler moves the case to ``target``. Invalid if the table does not allow it
        or a decision comes without reasons (coe-fc:14.2.b); Forbidden if ``actor`` may
        not decide it (``why_not_decide``). Whoever first moves an unassigned case takes it."""
        outcome = outcome.strip()
        problems = validate_move(target, "", outcome)
        if problems:
            raise Invalid.from_fields(problems)
        self._check_allowed(target)
        if target is CaseState.DECIDED and (refusal := self.why_not_decide(actor)):
            raise Forbidden(refusal)
        change = self._enter(target, now)
        if outcome:
            self.outcome = outcome
        if self.assigned_to is None:
            self.assigned_to = actor.user_id
        return change

    def escalate_overdue(self, now: datetime) -> CaseMove:
        """The person escalates a case left past its deadline to the oversight body with
        jurisdiction (coe-fc:14.2.c); Conflict if they may not (``why_not_escalate``)."""
        refusal = self.why_not_escalate(now)
        if refusal:
            raise Conflict(refusal)
        return self._enter(CaseState.ESCALATED, now)

    def add_information(self, now: datetime) -> CaseMove | None:
        """The person added information: a closed case takes no more (Conflict); one
        waiting for information goes back under review, its deadline starting again."""
        if self.state is CaseState.CLOSED:
            raise Conflict("This case is closed.")
        if self.state is CaseState.NEED_INFO:
            return self._enter(CaseState.UNDER_REVIEW, now)
        self.updated_at = now
        return None

    def assign(
        self, reviewer_id: int, reviewer_email: str, original_decider: str, now: datetime
    ) -> None:
        """Give the case to a reviewer (the service checks they handle the organisation's
        cases). A human review names who took the original decision, and the reviewer
        must be someone else (unga-78-265:op6.k, coe-fc:15)."""
        reviewer_email = reviewer_email.strip().lower()
        original_decider = original_decider.strip().lower()
        if self.kind is CaseKind.HUMAN_REVIEW:
            if not original_decider:
                raise Invalid.from_fields(
                    {
                        "original_decider": "Name who took the decision "
                        "under review: the reviewer must be someone else."
                    }
                )
            if original_decider == reviewer_email:
                raise Invalid.from_fields(
                    {
                        "reviewer": "The reviewer took part in the "
                        "original decision; choose someone else."
                    }
                )
        self.assigned_to = reviewer_id
        self.original_decider = original_decider
        self.updated_at = now

    def touch(self, now: datetime) -> None:
        """Something was added to the case (a note, a message): its state stays."""
        self.updated_at = now

    def _check_allowed(self, target: CaseState) -> None:
        if not self.may_become(target):
            allowed = ", ".join(self.next_states) or "none"
            raise Invalid.from_fields(
                {
                    "state": f"A {self.state.value} case cannot become {target.value} "
                    f"(allowed: {allowed})."
                }
            )

    def _enter(self, target: CaseState, now: datetime) -> CaseMove:
        """The one place a case changes state: checked against CASE_TRANSITIONS."""
        self._check_allowed(target)
        change = CaseMove(self.state, target)
        self.state = target
        if target is CaseState.ESCALATED and self.escalated_at is None:
            self.escalated_at = now
        self.updated_at = now
        self.deadline = deadline_after(target, now)
        return change


@dataclass(frozen=True)
class CaseAttachment:
    """A file the reporter attached (its bytes are fetched separately)."""

    id: int
    case_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


@dataclass(frozen=True)
class AttachmentLimits:
    max_bytes: int = 2_000_000
    max_files: int = 3  # per submission
    case_max: int = 10  # per case


# What the public may attach: screenshots, photos, letters (PDF) and text.
ATTACHMENT_TYPES = IMAGE_AND_DOCUMENT_TYPES


def attachment_problems(
    uploads: Sequence[Upload], limits: AttachmentLimits, already: int = 0
) -> list[str]:
    """One message per refused file (or one for too many); empty when all are fine."""
    if len(uploads) > limits.max_files:
        return [f"At most {limits.max_files} files at a time; you chose {len(uploads)}."]
    if already + len(uploads) > limits.case_max:
        left = max(limits.case_max - already, 0)
        return [f"A case holds at most {limits.case_max} files; {left} more can be added."]
    problems = []
    for upload in uploads:
        _, problem = check_file(upload.name, upload.data, ATTACHMENT_TYPES, limits.max_bytes)
        if problem:
            problems.append(problem)
    return problems


@dataclass(frozen=True)
class CaseMessage:
    case_id: int
    at: datetime
    author: str  # "reporter" or the handler's e-mail
    text: str
    internal: bool  # internal notes are never shown to the reporter
    # On whose behalf: the case's organisation or the oversight body it was escalated
    # to; None for the reporter (and for notes written before this was kept).
    organisation_id: int | None = None


# For messages from before the sender's organisation was kept.
UNKNOWN_SENDER = "the organisation"


def sender_name(org: OrganisationRef) -> str:
    """How an organisation is named to the person it writes to: by its name and, for a
    body that oversees, what it is, e.g. "AI Supervisory Authority (oversight body)".
    No handler's name or address: the ledger keeps who wrote."""
    return f"{org.name} ({org.kind.label.lower()})" if org.kind.oversees else org.name


def validate_report(report: PublicReport) -> dict[str, str]:
    problems: dict[str, str] = {}
    text = report.description.strip()
    if not text:
        problems["description"] = "Describe what happened or what you want reviewed."
    elif len(text) > DESCRIPTION_MAX:
        problems["description"] = f"At most {DESCRIPTION_MAX} characters."
    if len(report.contact) > CONTACT_MAX:
        problems["contact"] = f"At most {CONTACT_MAX} characters."
    elif report.contact and not _EMAIL.fullmatch(report.contact.strip()):
        problems["contact"] = "Leave this empty, or give an e-mail address for news."
    if len(report.decision_reference) > REFERENCE_MAX:
        problems["decision_reference"] = f"At most {REFERENCE_MAX} characters."
    if report.kind is CaseKind.HUMAN_REVIEW and not report.decision_reference.strip():
        problems["decision_reference"] = (
            "Name the decision you want reviewed by a person (its date or reference)."
        )
    return problems


def new_tracking_code() -> str:
    """Ten characters in two groups (e.g. K7QM-R2XPA): 31^9 possibilities."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(9))
    return f"{chars[:4]}-{chars[4:]}"


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(stored_hash: str, secret: str) -> bool:
    return hmac.compare_digest(stored_hash, secret_hash(secret))


def public_status(
    case: Case,
    messages: list[CaseMessage],
    now: datetime,
    attachments: Sequence[CaseAttachment] = (),
    senders: Mapping[int, OrganisationRef] | None = None,
) -> dict[str, Any]:
    """What the reporter may see: no internal notes, no handler names; each message
    from "you" or from the organisation (by ``senders``, id -> organisation) that wrote it."""
    senders = senders or {}

    def sender(m: CaseMessage) -> str:
        if m.author == "reporter":
            return "you"
        org = senders.get(m.organisation_id) if m.organisation_id is not None else None
        return sender_name(org) if org else UNKNOWN_SENDER

    return {
        "tracking_code": case.tracking_code,
        "kind": case.kind.value,
        "category": case.category.value,
        "state": case.state.value,
        "received_at": case.created_at.isoformat() + "Z",
        "updated_at": case.updated_at.isoformat() + "Z",
        "outcome": case.outcome or None,
        # "Overdue" to the person means they may now escalate it themselves.
        "overdue": case.may_escalate(now),
        "escalated": case.escalated_at is not None,
        "messages": [
            {
                "at": m.at.isoformat() + "Z",
                "from": sender(m),
                "text": m.text,
            }
            for m in messages
            if not m.internal
        ],
        "attachments": [{"name": a.name, "size": a.size, "sha256": a.sha256} for a in attachments],
    }

"""Who is told what by e-mail about a case, and in which words.

The reporter (only if they left an address) hears of the receipt, of every
change they can see on their follow page, and of the outcome; nothing else:
no internal notes, no handler names, nothing they have not seen already.
Handlers hear of new cases, information from the reporter and assignments;
the oversight body hears of an escalation. Mail carries links, not the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ombud.domain.remedies import UNKNOWN_SENDER, Case, CaseState

SUBJECT_MAX = 200
MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(minutes=1)


@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class OutboxItem:
    id: int
    recipient: str
    subject: str
    body: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int
    sent_at: datetime | None
    last_error: str

    @property
    def given_up(self) -> bool:
        return self.sent_at is None and self.attempts >= MAX_ATTEMPTS


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """Header-safe: no line breaks (no header injection), at most ``limit`` characters."""
    flat = " ".join(text.replace("\r", " ").replace("\n", " ").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def next_attempt(now: datetime, attempts: int) -> datetime:
    """Exponential back-off: 1, 2, 4, ... minutes after the n-th failure (at most a day)."""
    delay: timedelta = BACKOFF_FIRST * (2 ** min(max(attempts - 1, 0), 20))
    return now + min(delay, timedelta(days=1))


def _kind(case: Case) -> str:
    return {
        "incident": "report",
        "complaint": "complaint",
        "human_review": "request for human review",
    }[case.kind.value]


def _mail(to: str, subject: str, body: str) -> Mail:
    return Mail(one_line(to, 320), one_line(subject), body.strip() + "\n")


STATE_WORDS = {
    CaseState.RECEIVED: "received",
    CaseState.ACKNOWLEDGED: "acknowledged: the organisation is looking at it",
    CaseState.UNDER_REVIEW: "under review",
    CaseState.NEED_INFO: "waiting for information from you",
    CaseState.DECIDED: "decided",
    CaseState.CLOSED: "closed",
    CaseState.ESCALATED: "passed to the oversight body",
}


def to_reporter_received(case: Case, system_name: str, follow_url: str) -> list[Mail]:
    if not case.contact:
        return []
    return [
        _mail(
            case.contact,
            f"Your {_kind(case)} {case.tracking_code} was received",
            f"""Your {_kind(case)} about "{system_name}" was received.

Tracking code: {case.tracking_code}
Follow your case, add information or files: {follow_url}

Keep this link to yourself: anyone who has it can see your case.""",
        )
    ]


def to_reporter_changed(
    case: Case, system_name: str, base_url: str, message: str = "", sender: str = ""
) -> list[Mail]:
    """A state change, an outcome or a message the reporter will see on the follow page;
    ``sender`` names who wrote the message, as on that page (remedies.sender_name)."""
    if not case.contact:
        return []
    lines = [
        f'Your {_kind(case)} {case.tracking_code} about "{system_name}" is now '
        f"{STATE_WORDS[case.state]}."
    ]
    if case.state is CaseState.DECIDED and case.outcome:
        lines += ["", "The outcome and its reasons:", case.outcome]
    elif message:
        lines += ["", f"Message from {sender or UNKNOWN_SENDER}:", message]
    lines += [
        "",
        "Open the link you received with your tracking code to see the case and answer.",
        f"(If you lost it, the register is at {base_url}/register.)",
    ]
    return [
        _mail(
            case.contact,
            f"Your {_kind(case)} {case.tracking_code}: {case.state.value.replace('_', ' ')}",
            "\n".join(lines),
        )
    ]


def to_handlers(recipients: list[str], case: Case, base_url: str, what: str) -> list[Mail]:
    """Handlers are told there is something to do; the case itself stays in ombud."""
    return [
        _mail(
            to,
            f"Case {case.tracking_code}: {what}",
            f"""Case {case.tracking_code} ({_kind(case)}, {case.category.label}): {what}.

Open it: {base_url}/cases/{case.id}""",
        )
        for to in sorted(set(recipients))
    ]


# -- accounts: who is added to an organisation hears of it ------------------------------
# A set-password link goes only to the invitee's own address; the inviter never sees it.


def to_invitee(
    to: str, organisation: str, role: str, inviter: str, link: str, expires_at: datetime
) -> Mail:
    """A new address was added: the single-use link that lets its owner set a password."""
    return _mail(
        to,
        f"You were invited to {organisation} on ombud",
        f"""{inviter} added you to {organisation} on ombud, as {role}.

Choose your password here (the link works once, until {expires_at:%Y-%m-%d %H:%M} UTC):
{link}

Then sign in with this address and that password. If you did not expect this
message, ignore it: without the link nobody can use the account.""",
    )


def to_new_member(to: str, organisation: str, role: str, inviter: str, base_url: str) -> Mail:
    """An existing account was given a role: news only, no credential."""
    return _mail(
        to,
        f"You were added to {organisation} on ombud",
        f"""{inviter} gave you the role {role} in {organisation} on ombud.

Sign in as usual: {base_url}/login
If you did not expect this, tell the organisation or your platform administrator.""",
    )

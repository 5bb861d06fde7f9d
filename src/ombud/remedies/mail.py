"""Who is told what by e-mail about a case, and in which words.

The reporter (only if they left an address) hears of the receipt, of every
change they can see on their follow page, and of the outcome; nothing else:
no internal notes, no handler names, nothing they have not seen already.
Handlers hear of new cases, information from the reporter and assignments;
the oversight body hears of an escalation. Mail carries links, not the case.
"""

from __future__ import annotations

from ombud.notifications.domain import Mail, compose
from ombud.remedies.domain import UNKNOWN_SENDER, Case, CaseState


def _kind(case: Case) -> str:
    return {
        "incident": "report",
        "complaint": "complaint",
        "human_review": "request for human review",
    }[case.kind.value]


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
        compose(
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
        compose(
            case.contact,
            f"Your {_kind(case)} {case.tracking_code}: {case.state.value.replace('_', ' ')}",
            "\n".join(lines),
        )
    ]


def to_handlers(recipients: list[str], case: Case, base_url: str, what: str) -> list[Mail]:
    """Handlers are told there is something to do; the case itself stays in ombud."""
    return [
        compose(
            to,
            f"Case {case.tracking_code}: {what}",
            f"""Case {case.tracking_code} ({_kind(case)}, {case.category.label}): {what}.

Open it: {base_url}/cases/{case.id}""",
        )
        for to in sorted(set(recipients))
    ]

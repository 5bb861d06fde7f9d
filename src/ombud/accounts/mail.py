"""What a person added to an organisation is told by e-mail. A set-password link goes
only to the invitee's own address; the inviter never sees it."""

from __future__ import annotations

from datetime import datetime

from ombud.notifications.domain import Mail, compose

# -- accounts: who is added to an organisation hears of it ------------------------------
# A set-password link goes only to the invitee's own address; the inviter never sees it.


def to_invitee(
    to: str, organisation: str, role: str, inviter: str, link: str, expires_at: datetime
) -> Mail:
    """A new address was added: the single-use link that lets its owner set a password."""
    return compose(
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
    return compose(
        to,
        f"You were added to {organisation} on ombud",
        f"""{inviter} gave you the role {role} in {organisation} on ombud.

Sign in as usual: {base_url}/login
If you did not expect this, tell the organisation or your platform administrator.""",
    )

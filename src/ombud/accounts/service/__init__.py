"""Organisations, people, roles, sign-in, sessions and API tokens.

``AccountsService`` is put together from one part per job, each in its own module:

- ``base``: its settings, loading principals, who the operator is;
- ``organisations`` and ``jurisdiction``: organisations, and who oversees whom;
- ``members``: accounts, invitations, roles, who manages members;
- ``password_links``: changing a password, set-password links;
- ``sign_in``: sign-in with its throttle, sessions;
- ``api_tokens``: personal API tokens.

A part inherits the parts it uses (members issue set-password links; jurisdiction
finds organisations); the rest share only ``base``. Callers import from here.
"""

from __future__ import annotations

from ombud.accounts.service.api_tokens import TOKEN_NAME_MAX, ApiTokens, IssuedToken
from ombud.accounts.service.jurisdiction import Jurisdiction
from ombud.accounts.service.members import Invitation, MemberRights, Members
from ombud.accounts.service.organisations import ORG_NAME_MAX
from ombud.accounts.service.password_links import IssuedLink, LinkView
from ombud.accounts.service.sign_in import SIGN_IN_REFUSED, SessionInfo, SignedIn, SignIn

# The service, the answers its methods give, and the limits and words forms and tests use.
__all__ = [
    "ORG_NAME_MAX",
    "SIGN_IN_REFUSED",
    "TOKEN_NAME_MAX",
    "AccountsService",
    "Invitation",
    "IssuedLink",
    "IssuedToken",
    "LinkView",
    "MemberRights",
    "SessionInfo",
    "SignedIn",
]


class AccountsService(Jurisdiction, Members, SignIn, ApiTokens):
    """Use cases of organisations and the people in them; each runs in one unit of work
    and leaves its ledger entry."""

"""Passwords and set-password links: changing one's password, the single-use links that
set one, and ending whatever an old password opened."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from ombud.accounts.domain import (
    PASSWORD_LINK_LIFETIME,
    LinkPurpose,
    PasswordLink,
    User,
    normalise_email,
    validate_password,
)
from ombud.accounts.service.base import AccountsBase, is_operator, sha256_hex
from ombud.kernel.access import Principal
from ombud.kernel.errors import Forbidden, Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ports import UnitOfWork

LINK_GONE = (
    "This link does not work (any more): it was used already, it has expired, or a newer "
    "one replaced it. Ask your organisation's admin to add you again for a new link."
)
SET_PASSWORD_PATH = "/set-password/"


@dataclass(frozen=True)
class IssuedLink:
    url: str  # shown once, never stored
    email: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkView:
    """What the set-password page shows for a usable link."""

    email: str
    purpose: LinkPurpose
    expires_at: datetime


class PasswordLinks(AccountsBase):
    """The passwords part of ``AccountsService``; invitations issue their links here."""

    def _issue_link(
        self,
        uow: UnitOfWork,
        actor: Principal,
        user: User,
        purpose: LinkPurpose,
        org_id: int | None,
        now: datetime,
    ) -> tuple[str, PasswordLink]:
        """A new set-password link for the account (older unused ones stop working);
        the token is returned for the mail, only its sha256 is stored."""
        uow.password_links.retire_unused(user.id, now)
        token = secrets.token_urlsafe(32)
        link = uow.password_links.add(
            user.id,
            sha256_hex(token),
            purpose,
            org_id,
            actor.label,
            now,
            now + PASSWORD_LINK_LIFETIME,
        )
        self._record(
            uow,
            actor,
            LedgerAction.CREATE,
            "password_link",
            link.id,
            after={
                "user_id": user.id,
                "email": user.email,
                "purpose": purpose.value,
                "expires_at": link.expires_at.isoformat(),
            },
        )
        return token, link

    def _link_url(self, token: str) -> str:
        return f"{self.base_url}{SET_PASSWORD_PATH}{token}"

    def _end_credentials(
        self, uow: UnitOfWork, actor: Principal | None, user: User, reason: str, now: datetime
    ) -> None:
        """Sign the account out everywhere and revoke its API tokens, each revocation in
        the ledger: a new password ends whatever the old one opened."""
        uow.credentials.delete_sessions_of(user.id)
        for token in uow.credentials.revoke_tokens_of(user.id, now):
            self._record(
                uow,
                actor,
                LedgerAction.TOKEN_REVOKE,
                "api_token",
                token.id,
                before={"name": token.name},
                after={"reason": reason},
                actor_label=None if actor else user.email,
            )

    def change_password(self, actor: Principal, current: str, new: str) -> None:
        """Change one's own password; ends every session and revokes every API token."""
        if msg := validate_password(new):
            raise Invalid.from_fields({"new_password": msg})
        wrong = Invalid.from_fields({"current_password": "The current password is wrong."})
        with self.uow_factory(readonly=True) as uow:
            user = uow.users.get(actor.user_id)
        # argon2 runs outside the transaction: no write lock is held meanwhile.
        if user is None or not self.hasher.verify(user.password_hash, current):
            raise wrong
        new_hash = self.hasher.hash(new)
        now = self.clock()
        with self.uow_factory() as uow:
            locked = uow.users.get(user.id, for_update=True)
            if locked is None or locked.password_hash != user.password_hash:
                raise wrong  # changed meanwhile: the password checked is no longer current
            uow.users.set_password_hash(user.id, new_hash)
            self._end_credentials(uow, actor, user, "password changed", now)
            self._record(
                uow, actor, LedgerAction.UPDATE, "user", user.id, after={"password": "changed"}
            )
            uow.commit()

    def issue_password_link(self, actor: Principal, email: str) -> IssuedLink:
        """A set-password link for an account, shown to the operator (``ombud user
        link``): for a person whose invitation could not be mailed, or who forgot their
        password. Using it signs the account out everywhere and revokes its tokens."""
        if not is_operator(actor):
            raise Forbidden("Only the platform operator (the ombud command line) issues links.")
        now = self.clock()
        with self.uow_factory() as uow:
            user = uow.users.get_by_email(normalise_email(email))
            if user is None:
                raise NotFound(f"No account for {email}.")
            token, link = self._issue_link(uow, actor, user, LinkPurpose.RESET, None, now)
            uow.commit()
        return IssuedLink(self._link_url(token), user.email, link.expires_at)

    def _usable_link(
        self, uow: UnitOfWork, token: str, now: datetime, lock: bool = False
    ) -> tuple[PasswordLink, User]:
        link = uow.password_links.get_by_hash(sha256_hex(token), for_update=lock) if token else None
        user = uow.users.get(link.user_id, for_update=lock) if link else None
        if link is None or user is None or not link.usable(now) or not user.is_active:
            raise NotFound(LINK_GONE)
        return link, user

    def password_link(self, token: str) -> LinkView:
        """The account a set-password link is for; NotFound once used, expired or replaced."""
        with self.uow_factory(readonly=True) as uow:
            link, user = self._usable_link(uow, token, self.clock())
            return LinkView(user.email, link.purpose, link.expires_at)

    def set_password_with_link(self, token: str, password: str) -> str:
        """Set the password through a link, which then stops working; the account is
        claimed, signed out everywhere, its API tokens revoked. Nobody is signed in:
        its owner signs in with the new password. Returns the account's address."""
        self.password_link(token)  # an unusable link is said so before the password
        if msg := validate_password(password):
            raise Invalid.from_fields({"password": msg})
        new_hash = self.hasher.hash(password)  # outside the transaction (argon2 is slow)
        now = self.clock()
        with self.uow_factory() as uow:
            link, user = self._usable_link(uow, token, now, lock=True)
            if not uow.password_links.use(link.id, now):
                raise NotFound(LINK_GONE)  # used by a concurrent request
            uow.password_links.retire_unused(user.id, now)
            uow.users.set_password_hash(user.id, new_hash)
            if not user.claimed:
                uow.users.mark_claimed(user.id)
            self._end_credentials(uow, None, user, "password set through a link", now)
            self._record(
                uow,
                None,
                LedgerAction.UPDATE,
                "user",
                user.id,
                after={"password": "set", "via": link.purpose.value, "claimed": True},
                actor_label=user.email,
            )
            uow.commit()
            return user.email

"""Accounts and members: creating accounts, inviting people, their roles, and who may
manage the members of an organisation (its own admins; nobody grants themselves)."""

from __future__ import annotations

from dataclasses import dataclass

from ombud.accounts.access import authorize, get_org, org_ref
from ombud.accounts.domain import (
    UNUSABLE_PASSWORD_HASH,
    LinkPurpose,
    Organisation,
    PasswordLink,
    User,
    normalise_email,
    validate_email,
    validate_password,
)
from ombud.accounts.mail import to_invitee, to_new_member
from ombud.accounts.service.base import is_operator
from ombud.accounts.service.password_links import PasswordLinks
from ombud.kernel.access import Action, Principal, Role, is_allowed
from ombud.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ports import UnitOfWork
from ombud.kernel.service import require_superuser

# A second organisation may not take an account whose owner has not set a password
# yet; the words do not say why (that would tell that the address has an account).
CANNOT_ADD_NOW = (
    "This address cannot be added at the moment. Ask the person to contact your "
    "platform administrator."
)


@dataclass(frozen=True)
class Invitation:
    """The answer to adding a person: the same shape and words whether or not the
    address had an account. Nobody but the invitee gets a credential: a new account
    gets a single-use link to set its password, mailed to its address."""

    email: str
    role: Role
    organisation: Organisation
    mail_enabled: bool
    # Only for a platform administrator, on an installation without e-mail, when the
    # invitation made a link: shown once, to hand to the person.
    set_password_link: str | None = None

    @property
    def message(self) -> str:
        done = f"{self.email} is now {self.role.value} in {self.organisation.name}."
        if self.mail_enabled:
            return (
                f"{done} They are told by e-mail; if they have no password yet, the "
                "message has a link to set one."
            )
        return (
            f"{done} E-mail is off on this installation, so they are not told: if they "
            "have no password yet, a platform administrator can give them a link to set "
            "one (ombud user link)."
        )


@dataclass(frozen=True)
class MemberRights:
    """What the actor may do with the members of one organisation (the pages show
    only the forms it allows; the service enforces the same)."""

    roles: tuple[Role, ...]  # roles the actor may give; empty: may not manage members

    @property
    def manage(self) -> bool:
        return bool(self.roles)


class Members(PasswordLinks):
    """The accounts and members part of ``AccountsService`` (an invitation to a new
    account issues a set-password link)."""

    def _validate_new_user(self, email: str, password: str | None, display_name: str) -> None:
        problems = {}
        if msg := validate_email(email):
            problems["email"] = msg
        if password is not None and (msg := validate_password(password)):
            problems["password"] = msg
        if len(display_name) > 200:
            problems["display_name"] = "Display name has more than 200 characters."
        if problems:
            raise Invalid.from_fields(problems)

    def create_user(
        self,
        actor: Principal,
        email: str,
        password: str,
        display_name: str = "",
        superuser: bool = False,
    ) -> User:
        """Create an account with a password (platform administrators, from the command
        line; organisations add people with ``invite_member`` instead)."""
        require_superuser(actor, "create accounts directly")
        email = normalise_email(email)
        display_name = display_name.strip()
        self._validate_new_user(email, password, display_name)
        with self.uow_factory() as uow:
            if uow.users.get_by_email(email):
                raise Conflict(f"An account for {email} already exists.")
            user = uow.users.add(
                email, display_name, self.hasher.hash(password), superuser, self.clock()
            )
            self._record(
                uow,
                actor,
                LedgerAction.CREATE,
                "user",
                user.id,
                after={"email": email, "display_name": display_name, "superuser": superuser},
            )
            uow.commit()
            return user

    # Who manages members: an organisation's own admins. A platform administrator adds
    # an organisation's first admin and then steps out; the operator (command line,
    # demo, tests) may always. Nobody gives themselves a role or changes their own.

    def _rights(self, uow: UnitOfWork, actor: Principal, org: Organisation) -> MemberRights:
        if is_operator(actor) or is_allowed(actor, Action.MEMBERS_MANAGE, org_ref(org)):
            return MemberRights(tuple(Role))
        if actor.is_superuser and not any(r is Role.ADMIN for _, r in uow.users.members_of(org.id)):
            return MemberRights((Role.ADMIN,))
        return MemberRights(())

    def member_rights(self, actor: Principal, org_id: int) -> MemberRights:
        """Which roles the actor may give in the organisation (none: may not manage)."""
        with self.uow_factory(readonly=True) as uow:
            return self._rights(uow, actor, get_org(uow, org_id))

    def _authorize_members(
        self, uow: UnitOfWork, actor: Principal, org: Organisation, role: Role | None = None
    ) -> None:
        rights = self._rights(uow, actor, org)
        if not rights.manage:
            if actor.is_superuser:
                raise Forbidden(
                    f"{org.name} has its own admins: only they manage its members (a "
                    "platform administrator adds an organisation's first admin only)."
                )
            authorize(actor, Action.MEMBERS_MANAGE, org)  # raises, naming the action
            raise Forbidden(f"You may not manage the members of {org.name}.")
        if role is not None and role not in rights.roles:
            raise Forbidden(
                f"A platform administrator adds only the first admin of {org.name}: "
                "choose the role admin; its admins add everyone else."
            )

    @staticmethod
    def _refuse_self(actor: Principal, user: User, org: Organisation) -> None:
        if user.id == actor.user_id:
            raise Forbidden(
                f"You cannot give yourself a role in {org.name} or change your own: "
                "another admin must do it."
            )

    def _check_attachable(
        self, uow: UnitOfWork, actor: Principal, org: Organisation, user: User, member: bool
    ) -> None:
        """An account whose owner has not set a password yet stays with the organisation
        that invited it: whoever holds its link must not gain a second organisation."""
        if user.claimed or member:
            return
        if uow.password_links.inviting_organisation(user.id) == org.id:
            return
        if is_operator(actor):
            raise Conflict(
                f"{user.email} has not set a password yet (another organisation invited "
                f"it): it can join {org.name} once it has."
            )
        raise Conflict(CANNOT_ADD_NOW)

    def set_role(self, actor: Principal, org_id: int, email: str, role: Role) -> None:
        """Give an existing account a role in an organisation (its admins; a platform
        administrator only its first admin; never oneself)."""
        with self.uow_factory() as uow:
            org = get_org(uow, org_id, lock=True)
            self._authorize_members(uow, actor, org, role)
            user = uow.users.get_by_email(normalise_email(email))
            if user is None:
                raise NotFound(f"No account for {email}.")
            self._set_role(uow, actor, org, user, role)
            uow.commit()

    def _set_role(
        self, uow: UnitOfWork, actor: Principal, org: Organisation, user: User, role: Role
    ) -> None:
        self._refuse_self(actor, user, org)
        member = any(o.id == org.id for o, _ in uow.users.memberships_of(user.id))
        self._check_attachable(uow, actor, org, user, member)
        previous = uow.users.set_membership(user.id, org.id, role)
        if previous is not None and previous.role is Role.ADMIN and role is not Role.ADMIN:
            self._ensure_another_admin(uow, org, user.id)
        self._record(
            uow,
            actor,
            LedgerAction.MEMBERSHIP,
            "membership",
            f"{org.id}:{user.id}",
            org.id,
            before={"email": user.email, "role": previous.role.value} if previous else None,
            after={"email": user.email, "role": role.value},
        )

    @staticmethod
    def _ensure_another_admin(uow: UnitOfWork, org: Organisation, user_id: int) -> None:
        admins = [u for u, r in uow.users.members_of(org.id) if r is Role.ADMIN]
        if not any(u.id != user_id for u in admins):
            raise Conflict(f"{org.name} must keep at least one admin.")

    def invite_member(
        self, actor: Principal, org_id: int, email: str, role: Role, display_name: str = ""
    ) -> Invitation:
        """Add a person to an organisation; creates the account if there is none.

        The inviter never gets a credential. A new account stays unclaimed (it cannot
        sign in) until its owner sets a password through a single-use link mailed to
        the address; an existing account is told by mail. The answer is the same either
        way, so it does not tell whether the address had an account. Only where no
        e-mail is configured is the link shown, once, and only to a platform
        administrator (who adds an organisation's first admin).
        """
        email = normalise_email(email)
        display_name = display_name.strip()
        self._validate_new_user(email, None, display_name)
        now = self.clock()
        with self.uow_factory() as uow:
            org = get_org(uow, org_id, lock=True)
            self._authorize_members(uow, actor, org, role)
            user = uow.users.get_by_email(email)
            token: str | None = None
            link: PasswordLink | None = None
            if user is None:
                user = uow.users.add(
                    email, display_name, UNUSABLE_PASSWORD_HASH, False, now, claimed=False
                )
                # Account-level entries (this one, the link's) are not the organisation's:
                # in its ledger they would tell its admins that the address was new.
                self._record(
                    uow,
                    actor,
                    LedgerAction.CREATE,
                    "user",
                    user.id,
                    after={
                        "email": email,
                        "display_name": display_name,
                        "superuser": False,
                        "invited": True,
                    },
                )
                token, link = self._issue_link(
                    uow, actor, user, LinkPurpose.INVITATION, org.id, now
                )
                self._set_role(uow, actor, org, user, role)
            else:
                self._set_role(uow, actor, org, user, role)
                if not user.claimed:  # invited here before: a fresh link replaces the old
                    token, link = self._issue_link(
                        uow, actor, user, LinkPurpose.INVITATION, org.id, now
                    )
            inviter = "The platform administrator" if is_operator(actor) else actor.label
            if token is not None and link is not None:
                if self.mail_enabled:  # without mail the link would only wait in the outbox
                    mail = to_invitee(
                        email, org.name, role.value, inviter, self._link_url(token), link.expires_at
                    )
                    uow.outbox.add(mail, now)
            else:
                uow.outbox.add(
                    to_new_member(email, org.name, role.value, inviter, self.base_url), now
                )
            uow.commit()
        # Shown only to the operator, or to a platform administrator adding a first admin;
        # one who is also an admin here adds members as an admin does, and sees no link.
        first_admin = actor.is_superuser and not is_allowed(
            actor, Action.MEMBERS_MANAGE, org_ref(org)
        )
        shown = (
            self._link_url(token)
            if token is not None and not self.mail_enabled and (is_operator(actor) or first_admin)
            else None
        )
        return Invitation(email, role, org, self.mail_enabled, shown)

    def remove_member(self, actor: Principal, org_id: int, user_id: int) -> None:
        """Take a person's role away (its admins; one may remove oneself, stepping out,
        unless one is the last admin)."""
        with self.uow_factory() as uow:
            org = get_org(uow, org_id, lock=True)
            if actor.user_id != user_id:
                self._authorize_members(uow, actor, org)
            user = uow.users.get(user_id)
            if user is None:
                raise NotFound(f"No account {user_id}.")
            role = uow.users.remove_membership(user.id, org.id)
            if role is None:
                raise NotFound(f"{user.email} is not a member of {org.name}.")
            if role is Role.ADMIN:
                self._ensure_another_admin(uow, org, user.id)
            self._record(
                uow,
                actor,
                LedgerAction.MEMBERSHIP,
                "membership",
                f"{org.id}:{user.id}",
                org.id,
                before={"email": user.email, "role": role.value},
            )
            uow.commit()

    def members(self, actor: Principal, org_id: int) -> list[tuple[User, Role]]:
        """Members and roles (its admins; platform administrators see who they are)."""
        with self.uow_factory(readonly=True) as uow:
            org = get_org(uow, org_id)
            if not actor.is_superuser:
                authorize(actor, Action.MEMBERS_READ, org)
            return uow.users.members_of(org.id)

    def memberships(self, actor: Principal) -> list[tuple[Organisation, Role]]:
        """The organisations the actor belongs to, with its role in each."""
        with self.uow_factory(readonly=True) as uow:
            return uow.users.memberships_of(actor.user_id)

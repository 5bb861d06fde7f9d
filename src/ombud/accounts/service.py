"""Organisations, people, roles, sign-in, sessions and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ombud.accounts.domain import (
    PASSWORD_LINK_LIFETIME,
    SIGN_IN_MEMORY,
    UNUSABLE_PASSWORD_HASH,
    ApiToken,
    LinkPurpose,
    Organisation,
    PasswordLink,
    User,
    normalise_email,
    parse_languages,
    sign_in_wait,
    slugify,
    validate_email,
    validate_password,
    validate_slug,
    whole_seconds,
)
from ombud.accounts.mail import to_invitee, to_new_member
from ombud.accounts.ports import PasswordHasher
from ombud.kernel.access import (
    SYSTEM_PRINCIPAL,
    Action,
    OrganisationKind,
    Principal,
    Role,
    is_allowed,
)
from ombud.kernel.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from ombud.kernel.ledger.domain import LedgerAction
from ombud.kernel.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ombud.kernel.service import (
    Service,
    authorize,
    get_org,
    org_ref,
    require_superuser,
    utcnow,
)

TOKEN_PREFIX = "ombud_"
ORG_NAME_MAX = 200
TOKEN_NAME_MAX = 100
# A hash computed for unknown e-mail addresses, so that sign-in takes as long
# whether or not the account exists.
_DUMMY_PASSWORD = "not-a-password-" + "x" * 16


# One answer for every refused sign-in (wrong password, unknown address, disabled or
# unclaimed account, an attempt during the wait): nothing tells whether an account
# exists. The wait is counted per address for known and unknown ones alike.
SIGN_IN_REFUSED = "Wrong e-mail address or password."
# A second organisation may not take an account whose owner has not set a password
# yet; the words do not say why (that would tell that the address has an account).
CANNOT_ADD_NOW = (
    "This address cannot be added at the moment. Ask the person to contact your "
    "platform administrator."
)
LINK_GONE = (
    "This link does not work (any more): it was used already, it has expired, or a newer "
    "one replaced it. Ask your organisation's admin to add you again for a new link."
)
SET_PASSWORD_PATH = "/set-password/"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def is_operator(actor: Principal) -> bool:
    """The platform operator: the command line, the demo loader and tests act as
    SYSTEM_PRINCIPAL (user id 0). Unlike a signed-in platform administrator, it may
    manage the members of any organisation."""
    return actor.is_superuser and actor.user_id == SYSTEM_PRINCIPAL.user_id


def sign_in_refused(wait: timedelta) -> Unauthenticated:
    seconds = whole_seconds(wait)
    if seconds <= 0:
        return Unauthenticated(SIGN_IN_REFUSED)
    unit = "second" if seconds == 1 else "seconds"
    return Unauthenticated(
        "Wrong e-mail address or password, or too many attempts with this address: "
        f"try again in {seconds} {unit}."
    )


@dataclass(frozen=True)
class SignedIn:
    session_token: str
    csrf_token: str
    principal: Principal


@dataclass(frozen=True)
class SessionInfo:
    principal: Principal
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


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


class AccountsService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        session_hours: int = 8,
        clock: Clock = utcnow,
        languages: tuple[str, ...] = ("en",),
        base_url: str = "http://127.0.0.1:8000",
        mail_enabled: bool = False,
    ) -> None:
        super().__init__(uow_factory, clock)
        self.languages = languages  # those with a message catalogue
        self.hasher = hasher
        self.session_lifetime = timedelta(hours=session_hours)
        self._dummy_hash = hasher.hash(_DUMMY_PASSWORD)
        # Links in mail start with the configured public address (OMBUD_PUBLIC_URL),
        # never with the Host of the request that caused them.
        self.base_url = base_url.rstrip("/")
        self.mail_enabled = mail_enabled  # an SMTP server is set (OMBUD_SMTP_HOST)

    # -- principals ---------------------------------------------------------

    def _principal(self, uow: UnitOfWork, user: User) -> Principal:
        orgs = uow.users.memberships_of(user.id)
        memberships = {org.id: role for org, role in orgs}
        kinds = {org.id: org.kind for org, _ in orgs}
        overseers = [org.id for org, _ in orgs if org.kind.oversees]
        return Principal(
            user_id=user.id,
            email=user.email,
            memberships=memberships,
            org_kinds=kinds,
            jurisdiction=uow.organisations.jurisdiction_of(overseers),
            is_superuser=user.is_superuser,
        )

    def principal_for_user(self, user_id: int) -> Principal:
        with self.uow_factory(readonly=True) as uow:
            user = uow.users.get(user_id)
            if user is None or not user.is_active:
                raise Unauthenticated("This account does not exist or is disabled.")
            return self._principal(uow, user)

    def principal_for_email(self, email: str) -> Principal:
        """For operator tools acting on behalf of a named account."""
        with self.uow_factory(readonly=True) as uow:
            user = uow.users.get_by_email(email.strip().lower())
            if user is None or not user.is_active:
                raise NotFound(f"No active account for {email}.")
            return self._principal(uow, user)

    # -- organisations ------------------------------------------------------

    def create_organisation(
        self,
        actor: Principal,
        name: str,
        kind: OrganisationKind,
        slug: str | None = None,
        country: str = "",
    ) -> Organisation:
        """Create an organisation (platform administrators only)."""
        require_superuser(actor, "create organisations")
        name = name.strip()
        slug = (slug or slugify(name)).strip()
        country = country.strip().upper()
        problems = {}
        if not name:
            problems["name"] = "Name is required."
        elif len(name) > ORG_NAME_MAX:
            problems["name"] = f"Name has {len(name)} characters; at most {ORG_NAME_MAX}."
        if msg := validate_slug(slug):
            problems["slug"] = msg
        if country and (len(country) != 2 or not country.isalpha()):
            problems["country"] = "Use a two-letter ISO 3166 country code (e.g. FR)."
        if problems:
            raise Invalid.from_fields(problems)
        with self.uow_factory() as uow:
            if uow.organisations.get_by_slug(slug):
                raise Conflict(f"An organisation with the short name '{slug}' already exists.")
            org = uow.organisations.add(name, slug, kind, country, self.clock())
            self._record(
                uow,
                actor,
                LedgerAction.CREATE,
                "organisation",
                org.id,
                org.id,
                after={"name": name, "slug": slug, "kind": kind.value, "country": country},
            )
            uow.commit()
            return org

    def list_organisations(self) -> list[Organisation]:
        """All organisations (names and kinds are public: they run the public register)."""
        with self.uow_factory(readonly=True) as uow:
            return uow.organisations.all()

    def get_organisation(self, ref: str | int) -> Organisation:
        with self.uow_factory(readonly=True) as uow:
            return self._find_org(uow, ref)

    @staticmethod
    def _find_org(uow: UnitOfWork, ref: str | int) -> Organisation:
        org: Organisation | None
        if isinstance(ref, int) or (ref.isascii() and ref.isdigit() and len(ref) <= 18):
            org = uow.organisations.get(int(ref))
        else:
            org = uow.organisations.get_by_slug(ref)
        if org is None:
            raise NotFound(f"Organisation '{ref}' does not exist.")
        return org

    def set_notice_languages(
        self, actor: Principal, org_id: int, raw: str | list[str] | tuple[str, ...]
    ) -> Organisation:
        """The languages of the organisation's public AI notices (its admins or a platform
        admin); the first is the default."""
        try:
            languages = parse_languages(raw, self.languages)
        except ValueError as exc:
            raise Invalid.from_fields({"notice_languages": str(exc)}) from None
        with self.uow_factory() as uow:
            org = get_org(uow, org_id, lock=True)
            if not actor.is_superuser:
                authorize(actor, Action.MEMBERS_MANAGE, org)
            uow.organisations.set_notice_languages(org.id, languages)
            self._record(
                uow,
                actor,
                LedgerAction.UPDATE,
                "organisation",
                org.id,
                org.id,
                before={"notice_languages": list(org.notice_languages)},
                after={"notice_languages": list(languages)},
            )
            uow.commit()
        return replace(org, notice_languages=languages)

    def grant_jurisdiction(self, actor: Principal, oversight_ref: str, org_ref: str) -> None:
        """Give an oversight body or parliament read access to an organisation's records
        (platform administrators, never for a body they belong to themselves)."""
        require_superuser(actor, "grant jurisdiction")
        with self.uow_factory() as uow:
            overseer = self._find_org(uow, oversight_ref)
            org = self._find_org(uow, org_ref)
            self._refuse_own_jurisdiction(uow, actor, overseer)
            if not overseer.kind.oversees:
                raise Invalid.from_fields(
                    {
                        "oversight": f"{overseer.name} is a {overseer.kind.label}; only oversight "
                        "bodies and parliaments can be given jurisdiction."
                    }
                )
            if org.id == overseer.id:
                raise Invalid.from_fields(
                    {"organisation": "An organisation cannot oversee itself."}
                )
            if uow.organisations.add_jurisdiction(overseer.id, org.id):
                self._record(
                    uow,
                    actor,
                    LedgerAction.JURISDICTION,
                    "jurisdiction",
                    f"{overseer.id}:{org.id}",
                    org.id,
                    after={"oversight_id": overseer.id, "organisation_id": org.id},
                )
            uow.commit()

    def revoke_jurisdiction(self, actor: Principal, oversight_ref: str, org_ref: str) -> None:
        """Withdraw it (platform administrators, never for a body they belong to)."""
        require_superuser(actor, "revoke jurisdiction")
        with self.uow_factory() as uow:
            overseer = self._find_org(uow, oversight_ref)
            org = self._find_org(uow, org_ref)
            self._refuse_own_jurisdiction(uow, actor, overseer)
            if uow.organisations.remove_jurisdiction(overseer.id, org.id):
                self._record(
                    uow,
                    actor,
                    LedgerAction.JURISDICTION,
                    "jurisdiction",
                    f"{overseer.id}:{org.id}",
                    org.id,
                    before={"oversight_id": overseer.id, "organisation_id": org.id},
                )
            uow.commit()

    @staticmethod
    def _refuse_own_jurisdiction(uow: UnitOfWork, actor: Principal, overseer: Organisation) -> None:
        # Platform administrators do not read private records: one who belongs to an
        # oversight body would give themselves read access by widening its jurisdiction
        # (and narrowing it is the same decision, so it is left to another one too).
        if is_operator(actor):
            return
        if any(o.id == overseer.id for o, _ in uow.users.memberships_of(actor.user_id)):
            raise Forbidden(
                f"You are a member of {overseer.name}: another platform administrator must "
                "grant or withdraw its jurisdiction."
            )

    def grantable_overseers(self, actor: Principal) -> list[Organisation]:
        """Oversight bodies and parliaments whose jurisdiction the actor may change."""
        if not actor.is_superuser:
            return []
        with self.uow_factory(readonly=True) as uow:
            own = (
                set()
                if is_operator(actor)
                else {o.id for o, _ in uow.users.memberships_of(actor.user_id)}
            )
            return [o for o in uow.organisations.all() if o.kind.oversees and o.id not in own]

    def jurisdiction(self, org_ref: str | int) -> tuple[list[Organisation], list[Organisation]]:
        """(organisations this one oversees, bodies overseeing this one)."""
        with self.uow_factory(readonly=True) as uow:
            org = self._find_org(uow, org_ref)
            overseen_ids = uow.organisations.jurisdiction_of([org.id])
            overseen = [o for o in uow.organisations.all() if o.id in overseen_ids]
            return overseen, uow.organisations.overseers_of(org.id)

    # -- users and members --------------------------------------------------

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
            _sha256(token),
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
        with self.uow_factory(readonly=True) as uow:
            return uow.users.memberships_of(actor.user_id)

    # -- passwords and set-password links --------------------------------------

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
        link = uow.password_links.get_by_hash(_sha256(token), for_update=lock) if token else None
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

    # -- sign-in and sessions -----------------------------------------------

    def login(self, email: str, password: str) -> SignedIn:
        """Check the password and open a session.

        Failures slow down per address, never lock an account: after a few free ones
        each failure doubles the wait before the next attempt is heard (up to a few
        minutes), for known and unknown addresses alike; an attempt during the wait is
        refused without looking at the password. Every refusal says the same.
        """
        email = normalise_email(email)
        key = _sha256(email)
        now = self.clock()
        with self.uow_factory(readonly=True) as uow:
            throttle = uow.sign_in_throttle.get(key)
            user = uow.users.get_by_email(email) if email else None
        if throttle is not None and throttle.wait(now) > timedelta(0):
            raise sign_in_refused(throttle.wait(now))
        # argon2 runs outside any transaction: no write lock is held while it works,
        # and an unknown or unusable account costs the same hash.
        usable = user is not None and user.may_sign_in
        checked = self.hasher.verify(
            user.password_hash if user is not None and usable else self._dummy_hash, password
        )
        with self.uow_factory() as uow:
            fresh = uow.users.get(user.id) if user is not None and checked and usable else None
            # (re-read in the writing transaction: disabled, or the password changed,
            # since it was checked)
            if (
                user is None
                or fresh is None
                or not fresh.may_sign_in
                or fresh.password_hash != user.password_hash
            ):
                failures = uow.sign_in_throttle.add_failure(key, now, now - SIGN_IN_MEMORY)
                wait = sign_in_wait(failures)
                uow.sign_in_throttle.set_not_before(key, now + wait if wait else None)
                if user is not None:
                    self._record(
                        uow,
                        None,
                        LedgerAction.LOGIN_FAILED,
                        "user",
                        user.id,
                        after={"failures": failures, "wait_seconds": whole_seconds(wait)},
                        actor_label=user.email,
                    )
                uow.commit()
                raise sign_in_refused(wait)
            uow.sign_in_throttle.clear(key)
            uow.sign_in_throttle.prune(now - SIGN_IN_MEMORY)
            if self.hasher.needs_rehash(fresh.password_hash):
                uow.users.set_password_hash(user.id, self.hasher.hash(password))
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            uow.credentials.add_session(
                _sha256(token), user.id, csrf, now, now + self.session_lifetime
            )
            principal = self._principal(uow, fresh)
            self._record(uow, principal, LedgerAction.LOGIN, "user", user.id)
            uow.commit()
            return SignedIn(token, csrf, principal)

    def session(self, token: str) -> SessionInfo:
        """The signed-in principal for a session cookie; Unauthenticated when expired."""
        with self.uow_factory(readonly=True) as uow:
            sess = uow.credentials.get_session(_sha256(token))
            if sess is None:
                raise Unauthenticated("You are not signed in, or you were signed out.")
            if sess.expires_at <= self.clock():
                raise Unauthenticated("Your session has expired; please sign in again.")
            user = uow.users.get(sess.user_id)
            if user is None or not user.may_sign_in:
                raise Unauthenticated("This account is disabled.")
            return SessionInfo(self._principal(uow, user), sess.csrf_token, sess.expires_at)

    def logout(self, token: str) -> None:
        with self.uow_factory() as uow:
            sess = uow.credentials.get_session(_sha256(token))
            if sess is None:
                return
            uow.credentials.delete_session(_sha256(token))
            user = uow.users.get(sess.user_id)
            self._record(
                uow,
                None,
                LedgerAction.LOGOUT,
                "user",
                sess.user_id,
                actor_label=user.email if user else "unknown",
            )
            uow.commit()

    # -- API tokens ---------------------------------------------------------

    def create_token(
        self, actor: Principal, name: str, expires_days: int | None = 90
    ) -> IssuedToken:
        """A personal API token; only its sha256 is stored, the token is shown once."""
        name = name.strip()
        problems = {}
        if not name:
            problems["name"] = "Give the token a name (what it is for)."
        elif len(name) > TOKEN_NAME_MAX:
            problems["name"] = f"Token name has more than {TOKEN_NAME_MAX} characters."
        if expires_days is not None and not 1 <= expires_days <= 366:
            problems["expires_days"] = "Expiry must be between 1 and 366 days."
        if problems:
            raise Invalid.from_fields(problems)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        with self.uow_factory() as uow:
            record = uow.credentials.add_token(
                actor.user_id,
                name,
                _sha256(token),
                token[: len(TOKEN_PREFIX) + 6],
                now,
                now + timedelta(days=expires_days) if expires_days else None,
            )
            self._record(
                uow, actor, LedgerAction.TOKEN_CREATE, "api_token", record.id, after={"name": name}
            )
            uow.commit()
            return IssuedToken(token, record)

    def tokens(self, actor: Principal) -> list[ApiToken]:
        with self.uow_factory(readonly=True) as uow:
            return uow.credentials.tokens_of(actor.user_id)

    def revoke_token(self, actor: Principal, token_id: int) -> None:
        with self.uow_factory() as uow:
            record = uow.credentials.get_token(token_id)
            if record is None or record.user_id != actor.user_id:
                raise NotFound(f"You have no API token {token_id}.")
            if record.revoked_at is None:
                uow.credentials.revoke_token(token_id, self.clock())
                self._record(
                    uow,
                    actor,
                    LedgerAction.TOKEN_REVOKE,
                    "api_token",
                    token_id,
                    before={"name": record.name},
                )
            uow.commit()

    def principal_for_token(self, token: str) -> Principal:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise Unauthenticated("The API token is malformed.")
        now = self.clock()
        with self.uow_factory(readonly=True) as uow:
            record = uow.credentials.get_token_by_hash(_sha256(token))
            if record is None or not hmac.compare_digest(
                record.prefix, token[: len(record.prefix)]
            ):
                raise Unauthenticated("The API token is unknown.")
            if not record.usable(now):
                raise Unauthenticated("The API token was revoked or has expired.")
            user = uow.users.get(record.user_id)
            if user is None or not user.may_sign_in:
                raise Unauthenticated("The account of this API token is disabled.")
            principal = self._principal(uow, user)
        # Note the last use at most every few minutes: reads stay reads.
        if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
            with self.uow_factory() as uow:
                uow.credentials.touch_token(record.id, now)
                uow.commit()
        return principal

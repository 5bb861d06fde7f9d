"""Organisations, people, roles, sign-in, sessions and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ombud.domain.access import Action, OrganisationKind, Principal, Role
from ombud.domain.accounts import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    ApiToken,
    Organisation,
    User,
    parse_languages,
    slugify,
    validate_email,
    validate_password,
    validate_slug,
)
from ombud.domain.ledger import LedgerAction
from ombud.domain.ports import Clock, PasswordHasher, UnitOfWork, UnitOfWorkFactory
from ombud.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from ombud.services.common import Service, authorize, get_org, require_superuser, utcnow

TOKEN_PREFIX = "ombud_"
ORG_NAME_MAX = 200
TOKEN_NAME_MAX = 100
# A hash computed for unknown e-mail addresses, so that sign-in takes as long
# whether or not the account exists.
_DUMMY_PASSWORD = "not-a-password-" + "x" * 16


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


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
    user: User
    role: Role
    initial_password: str | None  # set when the account was created by the invitation


class AccountsService(Service):
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        session_hours: int = 8,
        clock: Clock = utcnow,
        languages: tuple[str, ...] = ("en",),
    ) -> None:
        super().__init__(uow_factory, clock)
        self.languages = languages  # those with a message catalogue
        self.hasher = hasher
        self.session_lifetime = timedelta(hours=session_hours)
        self._dummy_hash = hasher.hash(_DUMMY_PASSWORD)

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
        """Give an oversight body or parliament read access to an organisation's records."""
        require_superuser(actor, "grant jurisdiction")
        with self.uow_factory() as uow:
            overseer = self._find_org(uow, oversight_ref)
            org = self._find_org(uow, org_ref)
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
        require_superuser(actor, "revoke jurisdiction")
        with self.uow_factory() as uow:
            overseer = self._find_org(uow, oversight_ref)
            org = self._find_org(uow, org_ref)
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
        """Create an account (platform administrators only; org admins invite instead)."""
        require_superuser(actor, "create accounts directly")
        email = email.strip().lower()
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

    def set_role(self, actor: Principal, org_id: int, email: str, role: Role) -> None:
        """Give an existing account a role in an organisation (its admins or a platform admin)."""
        with self.uow_factory() as uow:
            org = get_org(uow, org_id, lock=True)
            if not actor.is_superuser:
                authorize(actor, Action.MEMBERS_MANAGE, org)
            user = uow.users.get_by_email(email.strip().lower())
            if user is None:
                raise NotFound(f"No account for {email}.")
            self._set_role(uow, actor, org, user, role)
            uow.commit()

    def _set_role(
        self, uow: UnitOfWork, actor: Principal, org: Organisation, user: User, role: Role
    ) -> None:
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
        """Add a person to an organisation; creates the account if needed.

        A new account gets a random initial password, returned once so the admin
        can hand it over; it is never stored in clear.
        """
        email = email.strip().lower()
        display_name = display_name.strip()
        self._validate_new_user(email, None, display_name)
        with self.uow_factory() as uow:
            org = get_org(uow, org_id, lock=True)
            if not actor.is_superuser:
                authorize(actor, Action.MEMBERS_MANAGE, org)
            user = uow.users.get_by_email(email)
            initial: str | None = None
            if user is None:
                initial = secrets.token_urlsafe(12)
                user = uow.users.add(
                    email, display_name, self.hasher.hash(initial), False, self.clock()
                )
                self._record(
                    uow,
                    actor,
                    LedgerAction.CREATE,
                    "user",
                    user.id,
                    org.id,
                    after={"email": email, "display_name": display_name, "invited": True},
                )
            self._set_role(uow, actor, org, user, role)
            uow.commit()
            return Invitation(user, role, initial)

    def remove_member(self, actor: Principal, org_id: int, user_id: int) -> None:
        with self.uow_factory() as uow:
            org = get_org(uow, org_id, lock=True)
            if not actor.is_superuser:
                authorize(actor, Action.MEMBERS_MANAGE, org)
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
        with self.uow_factory(readonly=True) as uow:
            org = get_org(uow, org_id)
            if not actor.is_superuser:
                authorize(actor, Action.MEMBERS_READ, org)
            return uow.users.members_of(org.id)

    def memberships(self, actor: Principal) -> list[tuple[Organisation, Role]]:
        with self.uow_factory(readonly=True) as uow:
            return uow.users.memberships_of(actor.user_id)

    def change_password(self, actor: Principal, current: str, new: str) -> None:
        if msg := validate_password(new):
            raise Invalid.from_fields({"new_password": msg})
        with self.uow_factory() as uow:
            user = uow.users.get(actor.user_id)
            if user is None or not self.hasher.verify(user.password_hash, current):
                raise Invalid.from_fields({"current_password": "The current password is wrong."})
            uow.users.set_password_hash(user.id, self.hasher.hash(new))
            uow.credentials.delete_sessions_of(user.id)
            self._record(
                uow, actor, LedgerAction.UPDATE, "user", user.id, after={"password": "changed"}
            )
            uow.commit()

    # -- sign-in and sessions -----------------------------------------------

    def login(self, email: str, password: str) -> SignedIn:
        """Check the password; after MAX_FAILED_LOGINS failures the account locks for LOCKOUT."""
        email = email.strip().lower()
        now = self.clock()
        refused = Unauthenticated("Wrong e-mail address or password.")
        with self.uow_factory() as uow:
            user = uow.users.get_by_email(email) if email else None
            if user is None:
                self.hasher.verify(self._dummy_hash, password)
                raise refused
            if user.locked_until is not None and user.locked_until > now:
                minutes = max(1, math.ceil((user.locked_until - now).total_seconds() / 60))
                raise Forbidden(
                    "This account is locked after repeated failed sign-ins; "
                    f"try again in {minutes} minutes."
                )
            if not self.hasher.verify(user.password_hash, password) or not user.is_active:
                failures = user.failed_logins + 1
                locked = now + LOCKOUT if failures >= MAX_FAILED_LOGINS else None
                uow.users.record_login_attempt(user.id, 0 if locked else failures, locked)
                self._record(
                    uow,
                    None,
                    LedgerAction.LOGIN_FAILED,
                    "user",
                    user.id,
                    after={"failures": failures, "locked": locked is not None},
                    actor_label=user.email,
                )
                uow.commit()
                raise refused
            if self.hasher.needs_rehash(user.password_hash):
                uow.users.set_password_hash(user.id, self.hasher.hash(password))
            uow.users.record_login_attempt(user.id, 0, None)
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            uow.credentials.add_session(
                _sha256(token), user.id, csrf, now, now + self.session_lifetime
            )
            principal = self._principal(uow, user)
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
            if user is None or not user.is_active:
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
            if user is None or not user.is_active:
                raise Unauthenticated("The account of this API token is disabled.")
            principal = self._principal(uow, user)
        # Note the last use at most every few minutes: reads stay reads.
        if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
            with self.uow_factory() as uow:
                uow.credentials.touch_token(record.id, now)
                uow.commit()
        return principal

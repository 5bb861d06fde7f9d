"""Sign-in and sessions: the password check with its per-address throttle, session
cookies, signing out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ombud.accounts.domain import SIGN_IN_MEMORY, normalise_email, sign_in_wait, whole_seconds
from ombud.accounts.service.base import AccountsBase, sha256_hex
from ombud.kernel.access import Principal
from ombud.kernel.errors import Unauthenticated
from ombud.kernel.ledger.domain import LedgerAction

# One answer for every refused sign-in (wrong password, unknown address, disabled or
# unclaimed account, an attempt during the wait): nothing tells whether an account
# exists. The wait is counted per address for known and unknown ones alike.
SIGN_IN_REFUSED = "Wrong e-mail address or password."


def sign_in_refused(wait: timedelta) -> Unauthenticated:
    """The refusal of a sign-in, with the wait before the next attempt is heard."""
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


class SignIn(AccountsBase):
    """The sign-in and sessions part of ``AccountsService``."""

    def login(self, email: str, password: str) -> SignedIn:
        """Check the password and open a session.

        Failures slow down per address, never lock an account: after a few free ones
        each failure doubles the wait before the next attempt is heard (up to a few
        minutes), for known and unknown addresses alike; an attempt during the wait is
        refused without looking at the password. Every refusal says the same.
        """
        email = normalise_email(email)
        key = sha256_hex(email)
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
                sha256_hex(token), user.id, csrf, now, now + self.session_lifetime
            )
            principal = self._principal(uow, fresh)
            self._record(uow, principal, LedgerAction.LOGIN, "user", user.id)
            uow.commit()
            return SignedIn(token, csrf, principal)

    def session(self, token: str) -> SessionInfo:
        """The signed-in principal for a session cookie; Unauthenticated when expired."""
        with self.uow_factory(readonly=True) as uow:
            sess = uow.credentials.get_session(sha256_hex(token))
            if sess is None:
                raise Unauthenticated("You are not signed in, or you were signed out.")
            if sess.expires_at <= self.clock():
                raise Unauthenticated("Your session has expired; please sign in again.")
            user = uow.users.get(sess.user_id)
            if user is None or not user.may_sign_in:
                raise Unauthenticated("This account is disabled.")
            return SessionInfo(self._principal(uow, user), sess.csrf_token, sess.expires_at)

    def logout(self, token: str) -> None:
        """End the session of this cookie (harmless when it has ended already)."""
        with self.uow_factory() as uow:
            sess = uow.credentials.get_session(sha256_hex(token))
            if sess is None:
                return
            uow.credentials.delete_session(sha256_hex(token))
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

"""Personal API tokens: issued once, kept as their sha256, revoked by their owner."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from ombud.accounts.domain import ApiToken
from ombud.accounts.service.base import AccountsBase, sha256_hex
from ombud.kernel.access import Principal
from ombud.kernel.errors import Invalid, NotFound, Unauthenticated
from ombud.kernel.ledger.domain import LedgerAction

TOKEN_PREFIX = "ombud_"
TOKEN_NAME_MAX = 100


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


class ApiTokens(AccountsBase):
    """The API tokens part of ``AccountsService``."""

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
                sha256_hex(token),
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
        """The actor's own API tokens, revoked and expired ones included."""
        with self.uow_factory(readonly=True) as uow:
            return uow.credentials.tokens_of(actor.user_id)

    def revoke_token(self, actor: Principal, token_id: int) -> None:
        """Revoke one of the actor's own tokens (revoking it again changes nothing)."""
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
        """The owner of a usable API token; Unauthenticated when unknown, revoked or expired."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise Unauthenticated("The API token is malformed.")
        now = self.clock()
        with self.uow_factory(readonly=True) as uow:
            record = uow.credentials.get_token_by_hash(sha256_hex(token))
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

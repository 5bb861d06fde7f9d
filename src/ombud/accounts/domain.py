"""People, organisations, memberships and credentials."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ombud.kernel.access import OrganisationKind, Role

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
PASSWORD_MIN = 12
PASSWORD_MAX = 1024

# Failed sign-ins slow down per address instead of locking the account (a
# stranger could otherwise lock anyone out): a few failures are free, each further
# one doubles the wait before the next attempt is heard, up to a few minutes. The
# count is kept for known and unknown addresses alike and forgotten a day after the
# last failure.
FREE_SIGN_IN_FAILURES = 3
SIGN_IN_FIRST_WAIT = timedelta(seconds=1)
SIGN_IN_MAX_WAIT = timedelta(minutes=5)
SIGN_IN_MEMORY = timedelta(days=1)

# Set-password links (invitations, resets by the platform operator).
PASSWORD_LINK_LIFETIME = timedelta(hours=72)
# The hash stored for an account nobody has set a password for: never verifies.
UNUSABLE_PASSWORD_HASH = "!unclaimed"


@dataclass(frozen=True)
class Organisation:
    id: int
    name: str
    slug: str
    kind: OrganisationKind
    country: str
    created_at: datetime
    # Languages of the public AI notices (coe-fc:15.2); the first is the default.
    notice_languages: tuple[str, ...] = ("en",)


def parse_languages(
    raw: str | list[str] | tuple[str, ...], available: tuple[str, ...]
) -> tuple[str, ...]:
    """Language codes as a tuple, validated against the available catalogues; ValueError
    names the unknown code."""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    codes: list[str] = []
    for item in items:
        code = item.strip().lower().replace("_", "-")
        if not code:
            continue
        if code not in available:
            raise ValueError(
                f"'{code[:20]}' is not an available language (available: {', '.join(available)})."
            )
        if code not in codes:
            codes.append(code)
    if not codes:
        raise ValueError("Choose at least one language.")
    return tuple(codes)


@dataclass(frozen=True)
class User:
    id: int
    email: str
    display_name: str
    password_hash: str
    is_superuser: bool
    is_active: bool
    created_at: datetime
    # False while an account made by an invitation waits for its owner to set a
    # password through the link: it cannot sign in, nor join another organisation.
    claimed: bool = True

    @property
    def may_sign_in(self) -> bool:
        return self.is_active and self.claimed


@dataclass(frozen=True)
class Membership:
    user_id: int
    organisation_id: int
    role: Role


@dataclass(frozen=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def usable(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class WebSession:
    user_id: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime


class LinkPurpose(enum.StrEnum):
    INVITATION = "invitation"  # made when an organisation adds a new address
    RESET = "reset"  # made by the platform operator (`ombud user link`)


@dataclass(frozen=True)
class PasswordLink:
    """A single-use, expiring link to set an account's password; only the sha256 of
    its token is stored."""

    id: int
    user_id: int
    purpose: LinkPurpose
    organisation_id: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True)
class SignInThrottle:
    """Failed sign-ins for one address (known or not): no attempt is heard before
    ``not_before``."""

    failures: int
    not_before: datetime | None
    updated_at: datetime

    def wait(self, now: datetime) -> timedelta:
        """How long until the next attempt is heard (zero when it is heard now)."""
        if self.not_before is None or self.not_before <= now:
            return timedelta(0)
        return self.not_before - now


def sign_in_wait(failures: int) -> timedelta:
    """The wait imposed after the ``failures``-th failure in a row: none for the first
    FREE_SIGN_IN_FAILURES, then 1 s, 2 s, 4 s, ... up to SIGN_IN_MAX_WAIT."""
    beyond = failures - FREE_SIGN_IN_FAILURES
    if beyond <= 0:
        return timedelta(0)
    wait: timedelta = SIGN_IN_FIRST_WAIT * (2 ** min(beyond - 1, 30))
    return min(wait, SIGN_IN_MAX_WAIT)


def whole_seconds(delta: timedelta) -> int:
    """A wait as people read it: whole seconds, rounded up."""
    return max(0, math.ceil(delta.total_seconds()))


def normalise_email(email: str) -> str:
    """The one form of an address used for look-ups, throttling and storage."""
    return email.strip().lower()


def validate_email(email: str) -> str | None:
    if not EMAIL_RE.match(email):
        return "Enter an e-mail address such as name@example.org."
    return None


def validate_password(password: str) -> str | None:
    if len(password) < PASSWORD_MIN:
        return f"The password must have at least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"The password must have at most {PASSWORD_MAX} characters."
    return None


def validate_slug(slug: str) -> str | None:
    if not SLUG_RE.match(slug):
        return "Use 1-64 lower-case letters, digits and hyphens (e.g. city-of-lund)."
    return None


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:64].strip("-") or "org"

"""People, organisations, memberships and credentials."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from ombud.domain.access import OrganisationKind, Role

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
PASSWORD_MIN = 12
PASSWORD_MAX = 1024

# Lockout after repeated failures: slows online guessing without locking
# people out for long.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


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
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime


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

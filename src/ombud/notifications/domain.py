"""E-mail through a transactional outbox: a message is written in the same transaction
as the change it reports and sent afterwards, with back-off; a crash loses nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SUBJECT_MAX = 200
MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(minutes=1)


@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class OutboxItem:
    id: int
    recipient: str
    subject: str
    body: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int
    sent_at: datetime | None
    last_error: str

    @property
    def given_up(self) -> bool:
        return self.sent_at is None and self.attempts >= MAX_ATTEMPTS


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """Header-safe: no line breaks (no header injection), at most ``limit`` characters."""
    flat = " ".join(text.replace("\r", " ").replace("\n", " ").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def next_attempt(now: datetime, attempts: int) -> datetime:
    """Exponential back-off: 1, 2, 4, ... minutes after the n-th failure (at most a day)."""
    delay: timedelta = BACKOFF_FIRST * (2 ** min(max(attempts - 1, 0), 20))
    return now + min(delay, timedelta(days=1))


def compose(to: str, subject: str, body: str) -> Mail:
    """A message with header-safe recipient and subject and a body ending in one newline."""
    return Mail(one_line(to, 320), one_line(subject), body.strip() + "\n")

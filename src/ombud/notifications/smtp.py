"""Sending e-mail through the SMTP server set in configuration (smtplib)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from ombud.notifications.domain import Mail


class MailError(Exception):
    """Sending failed; the message says why (kept on the outbox row)."""


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        user: str = "",
        password: str = "",
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, mails: list[Mail]) -> list[str | None]:
        """Send each mail over one connection; per mail None or the error."""
        results: list[str | None] = []
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                for mail in mails:
                    message = EmailMessage()
                    message["From"] = self.sender
                    message["To"] = mail.recipient
                    message["Subject"] = mail.subject
                    message["Message-ID"] = make_msgid(domain="ombud")
                    message.set_content(mail.body)
                    try:
                        smtp.send_message(message)
                        results.append(None)
                    except (smtplib.SMTPException, ValueError) as exc:
                        results.append(f"{type(exc).__name__}: {exc}")
        except (OSError, smtplib.SMTPException) as exc:
            error = f"cannot reach {self.host}:{self.port}: {type(exc).__name__}: {exc}"
            results += [error] * (len(mails) - len(results))
        return results

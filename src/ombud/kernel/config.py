"""Settings from OMBUD_* environment variables (pydantic-settings).

``Settings.check_safe`` refuses a production configuration that would be unsafe
to serve: a missing or short secret key, debug on, or insecure cookies.
"""

from __future__ import annotations

import enum
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ombud.kernel.errors import ConfigError

SECRET_MIN = 32
_RATE_RE = re.compile(r"^(off|\d+\s*/\s*(second|minute|hour|day))$")


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMBUD_", extra="ignore")

    env: Environment = Environment.PRODUCTION
    data_dir: Path = Field(default=Path("var"))
    database_url: str = ""
    secret_key: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    debug: bool = False
    cookie_secure: bool | None = None
    session_hours: int = Field(default=8, ge=1, le=24 * 30)
    public_rate_limit: str = "20/minute"
    login_rate_limit: str = "30/minute"
    max_body_bytes: int = Field(default=10_000_000, ge=10_000)
    # What the public may attach to a report (type checked by content).
    attachment_max_bytes: int = Field(default=2_000_000, ge=1_000)
    attachment_max_files: int = Field(default=3, ge=0, le=20)  # per submission
    attachment_case_max: int = Field(default=10, ge=0, le=100)  # per case
    # Where links in e-mail point (default: http://host:port).
    public_url: str = ""
    # E-mail notifications through this SMTP server; empty host: mail stays queued.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "ombud <noreply@localhost>"
    smtp_timeout: float = Field(default=10.0, gt=0, le=120)
    mail_interval_seconds: float = Field(default=10.0, ge=0.1, le=3600)
    # Bias audits from the web: uploads up to this size; server paths only under this root.
    audit_upload_max_bytes: int = Field(default=2_000_000_000, ge=1_000)
    audit_data_root: Path | None = None
    audit_workers: int = Field(default=1, ge=0, le=8)  # background threads in the server
    audit_engine: Literal["arrow", "spark"] = "arrow"  # spark: pip install 'ombud[spark]'
    # A public form sent sooner than this after it was served is refused (bots).
    public_min_fill_seconds: float = Field(default=2.0, ge=0, le=600)
    # The audit ledger's installation key, outside the database (default: in the data
    # directory), and its signed checkpoints of the head (coe-fc:26).
    ledger_key_file: Path | None = None
    ledger_checkpoint_seconds: float = Field(default=3600, ge=0, le=7 * 86400)  # 0: off
    ledger_checkpoint_dir: Path | None = None

    @field_validator("public_rate_limit", "login_rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        value = value.strip().lower()
        if not _RATE_RE.match(value):
            raise ValueError("use N/second, N/minute, N/hour, N/day or 'off' (e.g. 20/minute)")
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ombud.db').resolve()}"

    @property
    def resolved_ledger_key_file(self) -> Path:
        return self.ledger_key_file or self.data_dir / "ledger.key"

    @property
    def resolved_ledger_checkpoint_dir(self) -> Path:
        return self.ledger_checkpoint_dir or self.data_dir / "checkpoints"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.env is Environment.PRODUCTION

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """The secret that signs CSRF tokens.

        Outside production a missing key is generated once and kept in the data
        directory, so `make run` works on a fresh machine and sessions survive a
        restart. Production must set OMBUD_SECRET_KEY (see ``check_safe``).
        """
        if self.secret_key:
            return self.secret_key
        if self.env is Environment.PRODUCTION:
            raise ConfigError("OMBUD_SECRET_KEY must be set in production.")
        self.ensure_data_dir()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def check_safe(self) -> None:
        """Refuse to serve with an unsafe production configuration."""
        if self.env is not Environment.PRODUCTION:
            return
        problems = []
        if len(self.secret_key) < SECRET_MIN:
            problems.append(
                f"OMBUD_SECRET_KEY must be set to a random value of at least {SECRET_MIN} "
                "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.debug:
            problems.append("OMBUD_DEBUG must be off in production")
        if not self.secure_cookies:
            problems.append("OMBUD_COOKIE_SECURE must not be false in production")
        if problems:
            raise ConfigError(
                "Unsafe production configuration: "
                + "; ".join(problems)
                + ". For a local trial set OMBUD_ENV=development."
            )


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"Invalid configuration: {exc}") from exc

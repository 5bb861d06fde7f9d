"""One error hierarchy for ombud, mapped once to HTTP status codes and CLI exit codes.

Services raise these; the web layer (web/errors.py) and the CLI (cli/main.py)
turn them into a page, a JSON body or a message with an exit code. Nobody else
decides how an error looks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """What was wrong and where: ``loc`` is a path such as ("body", "name") or ("row", 3)."""

    loc: tuple[str | int, ...]
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"loc": list(self.loc), "msg": self.message}


class OmbudError(Exception):
    """Base class: every error a user may see."""

    http_status = 500
    exit_code = 1
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(OmbudError):
    http_status = 404
    exit_code = 4
    code = "not_found"


class Forbidden(OmbudError):
    http_status = 403
    exit_code = 3
    code = "forbidden"


class Unauthenticated(OmbudError):
    http_status = 401
    exit_code = 3
    code = "unauthenticated"


class Conflict(OmbudError):
    http_status = 409
    exit_code = 5
    code = "conflict"


class TooManyRequests(OmbudError):
    http_status = 429
    exit_code = 6
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)  # seconds; the web sends it as Retry-After


class Invalid(OmbudError):
    """Bad input, with the location of each problem."""

    http_status = 422
    exit_code = 2
    code = "invalid"

    def __init__(self, message: str, problems: Sequence[FieldProblem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    @classmethod
    def from_fields(cls, problems: Mapping[str, str], prefix: str = "body") -> Invalid:
        """Build from {field: message}; the summary names the fields."""
        items = [FieldProblem((prefix, name), msg) for name, msg in problems.items()]
        names = ", ".join(problems)
        return cls(f"Invalid input in: {names}.", items)

    def field_messages(self) -> dict[str, str]:
        """{last path element: message}, for showing next to form fields."""
        return {str(p.loc[-1]): p.message for p in self.problems}


class ConfigError(OmbudError):
    exit_code = 78
    code = "config"

"""Small helpers for SQL that several areas' repositories build."""

from __future__ import annotations


def like_pattern(token: str) -> str:
    """A LIKE pattern matching ``token`` anywhere, with ``\\`` as the escape character."""
    escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

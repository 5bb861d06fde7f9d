"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2PasswordHasher:
    def __init__(self, fast: bool = False) -> None:
        # ``fast`` is for tests only: the same algorithm with tiny cost parameters.
        self._ph = _Argon2(time_cost=1, memory_cost=64, parallelism=1) if fast else _Argon2()

    def hash(self, password: str) -> str:
        return str(self._ph.hash(password))

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._ph.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return bool(self._ph.check_needs_rehash(password_hash))

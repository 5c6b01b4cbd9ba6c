"""Password hashing for stored secrets: argon2id with argon2-cffi's defaults (RFC 9106, low memory).

Hashing costs about a fifth of a second of CPU and 64 MiB on purpose; callers hash before they
open a database transaction so the cost never holds a lock.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# time_cost=3, memory_cost=65536 KiB, parallelism=4, hash_len=32, salt_len=16 (argon2-cffi 23+).
hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; False when there is no hash or it is unreadable."""
    if not stored_hash:
        return False
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False

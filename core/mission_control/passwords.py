"""Password hashing for stored secrets: argon2id with argon2-cffi's defaults (RFC 9106, low memory).

Hashing costs about a fifth of a second of CPU and 64 MiB on purpose; callers hash before they
open a database transaction so the cost never holds a lock. A process runs at most
MAX_CONCURRENT_HASHES of them at once: more wait their turn for a while and are then refused
(``HashingBusy``, answered 503), so a burst of password guesses cannot starve other requests.

Under gevent (robot-server's worker) a hash computed in a greenlet would stop every other
greenlet of the process for its fifth of a second; ``run_hashes_on`` lets such a process run
the hash itself on a native thread (argon2-cffi releases the GIL) while the greenlet waits.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .settings import get_settings

# time_cost=3, memory_cost=65536 KiB, parallelism=4, hash_len=32, salt_len=16 (argon2-cffi 23+).
hasher = PasswordHasher()
WAIT_S = 5.0  # how long a hash waits for its turn before it is refused

T = TypeVar("T")
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def _in_place(work: Callable[[], T]) -> T:
    return work()


_run: Callable[[Callable[[], T]], T] = _in_place


def run_hashes_on(runner: Callable[[Callable[[], T]], T]) -> None:
    """Run each hash through ``runner(work) -> work()'s result`` (e.g. a thread pool)."""
    global _run
    _run = runner


class HashingBusy(Exception):
    """Every hashing slot of this process stayed taken for WAIT_S."""


def _hash_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(get_settings().max_concurrent_hashes)
        return _slots


@contextmanager
def _turn() -> Iterator[None]:
    slots = _hash_slots()
    if not slots.acquire(timeout=WAIT_S):
        raise HashingBusy("too many password checks at once; try again shortly")
    try:
        yield
    finally:
        slots.release()


def hash_password(password: str) -> str:
    with _turn():
        return _run(lambda: hasher.hash(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; False when there is no hash or it is
    unreadable. Without a hash it still spends a hash's time, so that timing does not tell
    a missing account from a wrong password."""
    if not _encodable(password):  # a lone surrogate: no password of anyone
        return False
    with _turn():
        if not stored_hash:
            _run(lambda: _burn(password))
            return False
        try:
            return _run(lambda: hasher.verify(stored_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _encodable(password: str) -> bool:
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_dummy_hash: str | None = None


def _burn(password: str) -> None:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hasher.hash("not a password of anyone")
    try:
        hasher.verify(_dummy_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass

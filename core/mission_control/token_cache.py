"""Identities of tokens seen lately, kept for CACHE_S in one process's memory.

Checking a token costs a database round trip and most of a millisecond of CPU; a client
sending many requests with one token pays it once per CACHE_S instead. The price is bounded
staleness: a token revoked, or a user disabled, by another process is still accepted here for
at most CACHE_S (the contract allows 1 s). Changes made by this process evict at once
(``forget``). A token's own expiry is checked on every hit. Only successful checks are kept,
so unknown tokens cannot fill the cache; it is emptied whenever it reaches MAX_ENTRIES.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime
from typing import Any

from .timeutil import utcnow

CACHE_S = 0.5
MAX_ENTRIES = 10_000


class TokenCache:
    def __init__(self, ttl_s: float = CACHE_S) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[Any, tuple[float, datetime | None, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        kept_until, expires_at, identity = entry
        if time.monotonic() >= kept_until or (expires_at is not None and expires_at <= utcnow()):
            self._entries.pop(key, None)
            return None
        return identity

    def put(self, key: Any, identity: Any, expires_at: datetime | None) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl_s, expires_at, identity)

    def forget(self, **match: Any) -> None:
        """Drop the entries whose identity has any of the given attribute values (say, one
        token's ``token_id``, or every token of one ``user_id``)."""
        with self._lock:
            for key, (_, _, identity) in list(self._entries.items()):
                if any(getattr(identity, name, None) == value for name, value in match.items()):
                    del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

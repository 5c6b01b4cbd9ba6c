"""Failed password checks, counted per subject in the shared database so that every process
and replica sees the same count: after MAX_FAILURES within WINDOW_S the subject is refused
(429 with Retry-After) until the oldest of them leaves the window, whatever the password.

The subject is a SHA-256 (of the case-folded username, or of a robot id), so that the table
holds no names and a guess at a name that does not exist is counted exactly like one that
does: the answers cannot tell them apart.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from .auth_models import AuthFailure
from .db import Database
from .timeutil import utcnow

MAX_FAILURES = 5
# The scope of wrong robot passwords, per robot: registry-api's verify-password and
# robot-server's sessions count them together.
ROBOT_SCOPE = "robot"
WINDOW_S = 15 * 60


class Throttled(Exception):
    """Too many recent failures for this subject; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after} s")
        self.retry_after = retry_after


def subject_of(name: str) -> str:
    return hashlib.sha256(name.casefold().encode("utf-8", "surrogatepass")).hexdigest()


def check(database: Database, scope: str, subject: str, now: datetime | None = None) -> None:
    """Raise Throttled when ``subject`` has MAX_FAILURES failures in the window."""
    now = now or utcnow()
    since = now - timedelta(seconds=WINDOW_S)
    with database.autocommit() as connection:
        times = connection.scalars(
            select(AuthFailure.at)
            .where(AuthFailure.scope == scope, AuthFailure.subject == subject,
                   AuthFailure.at > since)
            .order_by(AuthFailure.at.desc()).limit(MAX_FAILURES)).all()
    if len(times) >= MAX_FAILURES:
        # The subject is free again when the oldest of the last MAX_FAILURES leaves the window.
        free_at = min(times) + timedelta(seconds=WINDOW_S)
        raise Throttled(max(1, math.ceil((free_at - now).total_seconds())))


PRUNE_BATCH = 100


def record_failure(database: Database, scope: str, subject: str,
                   now: datetime | None = None) -> None:
    """Count one failure, and forget failures that no longer count: this subject's, and up
    to PRUNE_BATCH of anyone's, oldest first (by id, so the scan stops at the first row still
    in the window). Guesses at ever new names therefore cannot grow the table without bound."""
    now = now or utcnow()
    expired = now - timedelta(seconds=WINDOW_S)
    with database.transaction() as session:
        session.execute(delete(AuthFailure).where(
            AuthFailure.scope == scope, AuthFailure.subject == subject, AuthFailure.at <= expired))
        oldest = select(AuthFailure.id).where(AuthFailure.at <= expired) \
            .order_by(AuthFailure.id).limit(PRUNE_BATCH)
        session.execute(delete(AuthFailure).where(AuthFailure.id.in_(oldest.scalar_subquery())))
        session.add(AuthFailure(scope=scope, subject=subject, at=now))


def clear(database: Database, scope: str, subject: str) -> None:
    """A correct password: the subject's earlier failures stop counting."""
    with database.autocommit() as connection:
        connection.execute(delete(AuthFailure).where(AuthFailure.scope == scope,
                                                     AuthFailure.subject == subject))


def failures(database: Database, scope: str, subject: str) -> int:
    with database.autocommit() as connection:
        return connection.scalar(select(func.count()).select_from(AuthFailure).where(
            AuthFailure.scope == scope, AuthFailure.subject == subject)) or 0

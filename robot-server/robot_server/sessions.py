"""Robot sessions: an opaque random token per session, stored only as its SHA-256, lapsing
ROBOT_SESSION_TTL_S after its last use (renewed at most every tenth of it, or minute); and the
check every robot call makes with it.

A robot calls about once a second (heartbeats, long polls), and looking its token up was a
third of a heartbeat's CPU. So each process keeps the sessions it checked lately
(``mission_control.token_cache``), until their renewal is due and for at most ``CACHE_S``;
their expiry is still checked on every call. A session closed through this process is
forgotten at once. One closed through another process or replica: on PostgreSQL the closing
transaction sends NOTIFY robot_sessions_closed, and every process's listener (wakeup.py)
forgets it as soon as that arrives (milliseconds; a call racing it may still get through),
so the cache keeps sessions up to a minute (``CACHE_S``). On SQLite, or while the listener is
not connected, closes by other processes would go unheard: nothing is kept then. Heartbeats
sent through a closed session are dropped anyway (the writer records only open sessions'
beats).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mission_control import access
from mission_control.db import Database
from mission_control.robot_models import RobotSession
from mission_control.timeutil import utcnow
from mission_control.token_cache import TokenCache
from mission_control.web import ApiError


RENEW_AT_MOST_EVERY_S = 60.0
CACHE_S = 60.0          # while closes are heard (LISTEN on PostgreSQL)
UNHEARD_CACHE_S = 0.0   # otherwise: not kept at all
SESSIONS_CHANNEL = "robot_sessions_closed"


@dataclass(frozen=True)
class Checked:
    session_id: int
    robot_id: uuid.UUID


recent = TokenCache(UNHEARD_CACHE_S)  # sessions checked lately, in this process


def hearing_closes(heard: bool) -> None:
    """The listener tells whether closes by other processes reach this one now."""
    recent.ttl_s = CACHE_S if heard else UNHEARD_CACHE_S
    if not heard:
        recent.clear()  # kept long while they were heard; some may have been missed since


class NoSession(Exception):
    """No bearer token, or one that is unknown, expired or closed: 401."""


@dataclass(frozen=True)
class Opened:
    token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def open_session(database: Database, robot_id: uuid.UUID, ttl_s: float) -> Opened:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + timedelta(seconds=ttl_s)
    try:
        with database.transaction() as session:
            session.add(RobotSession(robot_id=robot_id, token_hash=token_hash(token),
                                     created_at=now, expires_at=expires_at))
    except IntegrityError:  # the robot was deleted since its password was checked
        raise ApiError(404, "not_found", f"no robot with id {robot_id}") from None
    return Opened(token, expires_at)


def bearer_token() -> str:
    return token_of(request.headers.get("Authorization", ""))


def token_of(authorization: str) -> str:
    """The token of an Authorization header's value; NoSession when it holds none."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise NoSession("send Authorization: Bearer <the token of POST /robots/{id}/session>")
    return token


def renewal_step(ttl_s: float) -> float:
    """How stale a session's expiry may get before a call renews it: a robot calling every
    second would otherwise write its session row every second. Expiry is thus ``ttl_s`` after
    the last use, give or take this step (a tenth of the lifetime, at most a minute)."""
    return min(RENEW_AT_MOST_EVERY_S, ttl_s / 10)


def authenticate(database: Database, robot_id: uuid.UUID, ttl_s: float) -> int:
    """The id of the open session whose token the request carries, renewed for ``ttl_s``
    (see ``renewal_step``); NoSession (401) without one, ApiError 403 when it is another
    robot's."""
    hashed = token_hash(bearer_token())
    checked = recent.get(hashed)
    if checked is None:
        checked = _look_up(database, hashed, ttl_s)
    if checked.robot_id != robot_id:
        raise ApiError(403, "forbidden", "this token belongs to another robot")
    access.name_caller(f"robot:{robot_id}")
    return checked.session_id


def _look_up(database: Database, hashed: str, ttl_s: float) -> Checked:
    """The session of a token from the database, renewed when due, and kept in ``recent``."""
    now = utcnow()
    with database.autocommit() as connection:
        found = connection.execute(
            select(RobotSession.id, RobotSession.robot_id, RobotSession.expires_at)
            .where(RobotSession.token_hash == hashed, RobotSession.closed_at.is_(None),
                   RobotSession.expires_at > now)).first()
        if found is None:
            raise NoSession("the token is unknown, expired or its session is closed; "
                            "open a new session")
        expires_at = found.expires_at
        renewed = now + timedelta(seconds=ttl_s)
        if renewed - expires_at >= timedelta(seconds=renewal_step(ttl_s)):
            connection.execute(update(RobotSession).where(RobotSession.id == found.id)
                               .values(expires_at=renewed))
            expires_at = renewed
    checked = Checked(found.id, found.robot_id)
    if recent.ttl_s > 0:  # kept no longer than the renewal step, so it is renewed on time
        recent.put(hashed, checked, min(expires_at, now + timedelta(seconds=renewal_step(ttl_s))))
    return checked


def forget(session_id: int) -> None:
    """A session this process closed: its token stops working here at once."""
    recent.forget(session_id=session_id)

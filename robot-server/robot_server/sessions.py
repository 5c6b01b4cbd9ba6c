"""Robot sessions: an opaque random token per session, stored only as its SHA-256, lapsing
ROBOT_SESSION_TTL_S after its last use (renewed at most every tenth of it, or minute); and the
check every robot call makes with it."""

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
from mission_control.web import ApiError


RENEW_AT_MOST_EVERY_S = 60.0


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
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
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
    now = utcnow()
    with database.autocommit() as connection:
        found = connection.execute(
            select(RobotSession.id, RobotSession.robot_id, RobotSession.expires_at)
            .where(RobotSession.token_hash == hashed, RobotSession.closed_at.is_(None),
                   RobotSession.expires_at > now)).first()
        if found is None:
            raise NoSession("the token is unknown, expired or its session is closed; "
                            "open a new session")
        if found.robot_id != robot_id:
            raise ApiError(403, "forbidden", "this token belongs to another robot")
        renewed = now + timedelta(seconds=ttl_s)
        if renewed - found.expires_at >= timedelta(seconds=renewal_step(ttl_s)):
            connection.execute(update(RobotSession).where(RobotSession.id == found.id)
                               .values(expires_at=renewed))
    access.name_caller(f"robot:{robot_id}")
    return found.id

"""robot-server's robot routes: open and close a session, heartbeats (docs/robot-server.md).

Robots authenticate with their own password (the registry's argon2id hash) and then with
their session's bearer token; user roles play no part here. A malformed or unknown robot id
is 404; the password is never logged or returned.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Callable

from flask import Blueprint, current_app
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import select

from mission_control import access, metrics, throttle
from mission_control.db import Database
from mission_control.passwords import HashingBusy, verify_password
from mission_control.registry_models import Robot
from mission_control.settings import Settings
from mission_control.timeutil import isoformat, utcnow
from mission_control.web import ApiError, error_response, parse_body, retry_later

from . import presence, sessions
from .heartbeats import beat_of
from .schemas import Heartbeat, SessionRequest

bp = Blueprint("robots", __name__)
log = logging.getLogger(__name__)

ROBOT_SCOPE = throttle.ROBOT_SCOPE
REFUSAL_REASONS = ("wrong_password", "throttled", "busy")
BUSY_RETRY_AFTER_S = 1
HEARTBEATS = metrics.counter("mc_robot_heartbeats_total", "Heartbeats robot-server recorded")
SESSIONS_REFUSED = metrics.counter("mc_robot_sessions_refused_total",
                                   "Robot sessions refused, by reason", ["reason"])
for _reason in REFUSAL_REASONS:
    SESSIONS_REFUSED.labels(_reason)


class DatabaseGauge:
    """A gauge read from the database at each scrape (robots online, commands queued)."""

    def __init__(self, name: str, documentation: str, read: Callable[[], int]) -> None:
        self.name, self.documentation, self.read = name, documentation, read

    def collect(self):
        try:
            count = self.read()
        except Exception as error:  # the database is down: left out of this scrape
            log.warning("%s left out of this scrape: %s", self.name, error)
            return
        yield GaugeMetricFamily(self.name, self.documentation, value=count)


def database() -> Database:
    return current_app.extensions["database"]


def settings() -> Settings:
    return current_app.extensions["settings"]


def robot_id_of(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiError(404, "not_found", f"no robot with id {raw[:64]!r}") from None


def _robot_password_hash(robot_id: uuid.UUID) -> str | None:
    with database().autocommit() as connection:
        found = connection.execute(select(Robot.id, Robot.password_hash)
                                   .where(Robot.id == robot_id)).first()
    if found is None:
        raise ApiError(404, "not_found", f"no robot with id {robot_id}")
    return found.password_hash


@bp.app_errorhandler(sessions.NoSession)  # the command routes too
def _no_session(error: sessions.NoSession):
    response = error_response(401, "unauthorized", str(error))
    response.headers["WWW-Authenticate"] = 'Bearer realm="robot-server"'
    return response


@bp.post("/robots/<robot_id>/session")
def open_session(robot_id: str):
    """Open a session with the robot's password: 201 with a bearer token."""
    parsed = robot_id_of(robot_id)
    body = parse_body(SessionRequest)
    subject = throttle.subject_of(str(parsed))
    try:
        throttle.check(database(), ROBOT_SCOPE, subject)
    except throttle.Throttled as refused:
        SESSIONS_REFUSED.labels("throttled").inc()
        return retry_later(429, "throttled", str(refused), refused.retry_after)
    stored = _robot_password_hash(parsed)
    try:
        matches = verify_password(stored, body.password)
    except HashingBusy as busy:  # a reconnect storm: the robot backs off and comes back
        SESSIONS_REFUSED.labels("busy").inc()
        return retry_later(429, "busy", str(busy), BUSY_RETRY_AFTER_S)
    if not matches:
        throttle.record_failure(database(), ROBOT_SCOPE, subject)
        SESSIONS_REFUSED.labels("wrong_password").inc()
        return error_response(401, "wrong_password", "the password does not match")
    throttle.clear(database(), ROBOT_SCOPE, subject)
    opened = sessions.open_session(database(), parsed, settings().robot_session_ttl_s)
    return {"token": opened.token, "expires_at": isoformat(opened.expires_at)}, 201


@bp.delete("/robots/<robot_id>/session")
def close_session(robot_id: str):
    """Close the session (deregistration): the token stops working, the robot is offline."""
    parsed = robot_id_of(robot_id)
    session_id = sessions.authenticate(database(), parsed, settings().robot_session_ttl_s)
    current_app.extensions["heartbeat_writer"].discard(parsed)
    presence.close_session(database(), parsed, session_id)
    sessions.forget(session_id)
    return "", 204


@bp.post("/robots/<robot_id>/heartbeat")
def heartbeat(robot_id: str):
    """The robot's status, its modules' statuses and its latest telemetry."""
    parsed = robot_id_of(robot_id)
    session_id = sessions.authenticate(database(), parsed, settings().robot_session_ttl_s)
    access.routine()
    body = parse_body(Heartbeat)
    return record_heartbeat(current_app.extensions, parsed, session_id, body), 200


def record_heartbeat(extensions: dict[str, Any], robot_id: uuid.UUID, session_id: int,
                     body: Heartbeat) -> dict[str, Any]:
    """A checked heartbeat of an authenticated robot: its modules must be its own (ApiError
    422), then it is handed to the writer; the answer's body. This view and the fast path
    (fast_path.py) both end here."""
    extensions["module_owners"].check(robot_id, [m.module_id for m in body.modules])
    at = utcnow()
    extensions["heartbeat_writer"].submit(beat_of(robot_id, session_id, at, body))
    HEARTBEATS.inc()
    settings = extensions["settings"]
    return {"connection": "online", "last_online": isoformat(at),
            "heartbeat_interval_s": settings.heartbeat_interval_s,
            "heartbeat_timeout_s": settings.heartbeat_timeout}

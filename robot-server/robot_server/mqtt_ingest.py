"""MQTT messages of robots, ingested like HTTP heartbeats (docs/mqtt.md): the same schemas,
module check and heartbeat writer. Knows nothing of the MQTT client (mqtt_subscriber.py).

The broker's ACL lets a robot publish only under ``robots/{its id}/``, so the id in the topic
is the publisher's. robot-server still records a message only for a registered robot with an
open session (opened over HTTP with its password, as the robot's command polls need): closing
the session (deregistration) then ends its MQTT presence too, as it does over HTTP.

A message that cannot be recorded is logged (its topic and reason escaped and cut short,
never the payload) and dropped; nothing a publisher sends can stop the subscriber.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from mission_control import metrics, mqtt
from mission_control.db import Database
from mission_control.registry_models import Robot
from mission_control.robot_models import RobotSession
from mission_control.timeutil import utcnow
from mission_control.web import ApiError, decode_json, json_object, validate_body

from .heartbeats import HeartbeatWriter, ModuleOwners, beat_of
from .schemas import Heartbeat, Telemetry

log = logging.getLogger(__name__)

OUTCOMES = ("ingested", "malformed", "invalid", "unknown_robot", "no_session")
MESSAGES = metrics.counter("mc_robot_mqtt_messages_total",
                           "MQTT messages of robots robot-server ingested or dropped, by topic "
                           "kind and outcome", ["kind", "outcome"])
for _kind in mqtt.KINDS:
    for _outcome in OUTCOMES:
        MESSAGES.labels(_kind, _outcome)
BODIES = {"status": Heartbeat, "telemetry": Telemetry}
SESSION_CACHE_S = 5.0  # a robot's open session, looked up again after this
UNKNOWN_CACHE_S = 1.0  # a robot without one: a session opened since counts within a second
CACHE_MAX = 100_000
SHOWN_CHARS = 200


class Dropped(Exception):
    """A message that is not recorded; ``outcome`` is its label in MESSAGES."""

    def __init__(self, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome


def shown(text: str) -> str:
    """Publisher-controlled text as a log shows it: escaped (one line) and cut short."""
    escaped = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return escaped[:SHOWN_CHARS] + ("..." if len(escaped) > SHOWN_CHARS else "")


class Sessions:
    """Each robot's open session, kept a few seconds: a fleet publishing every second costs
    one query per robot every SESSION_CACHE_S, not one per message."""

    def __init__(self, database: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self.database = database
        self.clock = clock
        self._kept: dict[uuid.UUID, tuple[float, bool, int | None]] = {}

    def open_session(self, robot_id: uuid.UUID, now: datetime) -> int:
        """The id of the robot's newest open session; Dropped when the robot is unknown or
        has none."""
        kept = self._kept.get(robot_id)
        if kept is None or kept[0] <= self.clock():
            kept = self._load(robot_id, now)
        _, known, session_id = kept
        if not known:
            raise Dropped("unknown_robot", f"no robot with id {robot_id}")
        if session_id is None:
            raise Dropped("no_session", f"robot {robot_id} has no open session")
        return session_id

    def _load(self, robot_id: uuid.UUID, now: datetime) -> tuple[float, bool, int | None]:
        with self.database.autocommit() as connection:
            known = connection.scalar(select(Robot.id).where(Robot.id == robot_id)) is not None
            session_id = connection.scalar(
                select(RobotSession.id).where(RobotSession.robot_id == robot_id,
                                              RobotSession.closed_at.is_(None),
                                              RobotSession.expires_at > now)
                .order_by(RobotSession.id.desc()).limit(1)) if known else None
        if len(self._kept) >= CACHE_MAX:
            self._kept.clear()
        ttl = SESSION_CACHE_S if session_id is not None else UNKNOWN_CACHE_S
        kept = (self.clock() + ttl, known, session_id)
        self._kept[robot_id] = kept
        return kept


class Ingest:
    """``handle(topic, payload)`` records one message through the heartbeat writer."""

    def __init__(self, database: Database, writer: HeartbeatWriter,
                 owners: ModuleOwners) -> None:
        self.writer = writer
        self.owners = owners
        self.sessions = Sessions(database)

    def handle(self, topic: str, payload: bytes) -> str:
        """Record the message or drop it (logged); its outcome (one of OUTCOMES)."""
        parsed = mqtt.parse_topic(topic)
        kind = parsed[1] if parsed else None
        try:
            if parsed is None:
                raise Dropped("malformed", "not a robot topic")
            self._record(parsed[0], kind, payload)
        except Dropped as dropped:
            if kind is not None:
                MESSAGES.labels(kind, dropped.outcome).inc()
            log.warning("MQTT message on %s dropped (%s): %s", shown(topic), dropped.outcome,
                        shown(str(dropped)))
            return dropped.outcome
        MESSAGES.labels(kind, "ingested").inc()
        return "ingested"

    def _record(self, raw_id: str, kind: str, payload: bytes) -> None:
        try:
            robot_id = uuid.UUID(raw_id)
        except ValueError:
            raise Dropped("unknown_robot", "the topic's robot id is not a UUID") from None
        if len(payload) > mqtt.MAX_PAYLOAD_BYTES:
            raise Dropped("malformed", f"payload larger than {mqtt.MAX_PAYLOAD_BYTES} bytes")
        try:
            body = validate_body(BODIES[kind], json_object(decode_json(payload)))
        except ApiError as refused:
            outcome = "malformed" if refused.status == 400 else "invalid"
            raise Dropped(outcome, refused.message) from None
        at = utcnow()
        session_id = self.sessions.open_session(robot_id, at)
        if isinstance(body, Heartbeat):
            try:
                self.owners.check(robot_id, [m.module_id for m in body.modules])
            except ApiError as refused:
                raise Dropped("invalid", refused.message) from None
        self.writer.submit(beat_of(robot_id, session_id, at, body))

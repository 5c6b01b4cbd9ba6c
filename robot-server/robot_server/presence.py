"""Whether robots are online, in the registry's tables: heartbeats (robot and module statuses,
last_online; collected by heartbeats.py), closing a session (disconnect) and the sweep for
silent robots (timeout). Going offline opens an alert, coming back clears it (alerts.py), in
the same transaction.

Each change of ``registry_robots.online`` is one conditional UPDATE, so concurrent requests
and sweepers record each connect, disconnect or timeout event exactly once.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean, String, Uuid, bindparam, false, func, or_, select, text, true, update,
)
from sqlalchemy.orm import Session

from mission_control import alerts, telemetry
from mission_control.db import Database, array_literal, is_postgresql
from mission_control.registry_models import Module, Robot
from mission_control.robot_models import RobotConnectionEvent, RobotSession
from mission_control.timeutil import utcnow

from .sessions import SESSIONS_CHANNEL

if TYPE_CHECKING:
    from .heartbeats import Beat


def record(database: Database, beats: list[Beat]) -> None:
    """Write heartbeats (each robot's newest of a period) in one transaction: robot and module
    statuses (a beat without a status keeps the robot's) and last_online, the session's
    latest telemetry and its points (the telemetry store, mission_control.telemetry), online
    with a connect event for each robot that was offline. A heartbeat older than what a
    robot's row holds (two processes flushing out of order) leaves that row alone."""
    if not beats:
        return
    stored = 0
    with database.transaction() as session:
        if database.is_postgresql:
            # Heartbeats are sent again every second: one lost in a database crash costs
            # nothing, so their commit does not wait for the disk.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        # A heartbeat answered just before its session was closed (deregistration) must not
        # bring the robot back online.
        open_ids = _open_sessions(session, database.is_postgresql, {b.session_id for b in beats})
        # Rows are locked in one order everywhere (robots by id, then their sessions, then
        # alerts), so two flushes, a flush and a close, or a flush and the sweeper never
        # wait for each other in a circle (PostgreSQL would end one as a deadlock).
        beats = sorted((b for b in beats if b.session_id in open_ids), key=lambda b: b.robot_id)
        if not beats:
            return
        write = _write_postgresql if database.is_postgresql else _write_each
        went_online = write(session, beats)
        points = [point for b in beats for point in telemetry_points(b)]
        telemetry.store(session, points)
        stored = len(points)
        at = {b.robot_id: b.at for b in beats}
        session.add_all(RobotConnectionEvent(robot_id=robot_id, event="connect", at=at[robot_id])
                        for robot_id in went_online)
        if went_online:
            alerts.robots_online(session, went_online)
    telemetry.counted(stored)


def _open_sessions(session: Session, postgresql: bool, session_ids: set[int]) -> set[int]:
    """Which of these sessions are still open (PostgreSQL: the ids as one array)."""
    if postgresql:
        return set(session.scalars(_OPEN_SESSIONS, {"ids": array_literal(session_ids)}))
    return set(session.scalars(select(RobotSession.id).where(
        RobotSession.id.in_(session_ids), RobotSession.closed_at.is_(None))))


def _write_each(session: Session, beats: list[Beat]) -> list[uuid.UUID]:
    """The rows of ``record`` with one statement per row (SQLite); the robots that went
    online."""
    robots, modules, sessions = Robot.__table__, Module.__table__, RobotSession.__table__
    went_online = list(session.scalars(
        update(Robot).where(Robot.id.in_([b.robot_id for b in beats]),
                            Robot.online == false())
        .values(online=True).returning(Robot.id)))
    session.execute(
        update(robots).where(robots.c.id == bindparam("b_robot"),
                             or_(robots.c.last_online.is_(None),
                                 robots.c.last_online < bindparam("b_at")))
        .values(status=func.coalesce(bindparam("b_status", type_=String), robots.c.status),
                last_online=bindparam("b_at")),
        [{"b_robot": b.robot_id, "b_at": b.at, "b_status": b.status} for b in beats])
    module_rows = [{"b_module": module_id, "b_robot": b.robot_id, "b_status": status,
                    "b_at": b.at} for b in beats for module_id, status in b.modules.items()]
    if module_rows:
        session.execute(
            update(modules).where(modules.c.id == bindparam("b_module"),
                                  modules.c.robot_id == bindparam("b_robot"))
            .values(status=bindparam("b_status"), last_online=bindparam("b_at")),
            module_rows)
    telemetry_rows = [{"b_session": b.session_id, "b_telemetry": b.telemetry}
                      for b in beats if b.telemetry is not None]
    if telemetry_rows:
        session.execute(update(sessions).where(sessions.c.id == bindparam("b_session"))
                        .values(telemetry=bindparam("b_telemetry")), telemetry_rows)
    return went_online


# PostgreSQL: one statement per table for a whole flush, the rows as arrays (unnest; each array
# one text parameter, db.array_literal), instead of one round trip per row (psycopg2's
# executemany). The robots are locked first, in id order, with what their online flag was:
# their modules and sessions are only written under them.
_OPEN_SESSIONS = text(f"SELECT id FROM {RobotSession.__tablename__} "
                      "WHERE id = ANY(CAST(:ids AS bigint[])) AND closed_at IS NULL")
_LOCK_ROBOTS = text(f"SELECT id, online FROM {Robot.__tablename__} "
                    "WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id FOR UPDATE"
                    ).columns(id=Uuid, online=Boolean)
_UPDATE_ROBOTS = text(
    f"UPDATE {Robot.__tablename__} AS r SET online = true, "
    "status = CASE WHEN r.last_online IS NULL OR r.last_online < v.at "
    "THEN COALESCE(v.status, r.status) ELSE r.status END, "
    "last_online = CASE WHEN r.last_online IS NULL OR r.last_online < v.at "
    "THEN v.at ELSE r.last_online END "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[]), CAST(:statuses AS text[])) "
    "AS v(id, at, status) "
    "WHERE r.id = v.id AND (NOT r.online OR r.last_online IS NULL OR r.last_online < v.at)")
_UPDATE_MODULES = text(
    f"UPDATE {Module.__tablename__} AS m SET status = v.status, last_online = v.at "
    "FROM unnest(CAST(:ids AS uuid[]), CAST(:robots AS uuid[]), CAST(:statuses AS text[]), "
    "CAST(:ats AS timestamptz[])) AS v(id, robot_id, status, at) "
    "WHERE m.id = v.id AND m.robot_id = v.robot_id")
_UPDATE_TELEMETRY = text(
    f"UPDATE {RobotSession.__tablename__} AS s SET telemetry = CAST(v.telemetry AS json) "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:telemetry AS text[])) AS v(id, telemetry) "
    "WHERE s.id = v.id")


def _write_postgresql(session: Session, beats: list[Beat]) -> list[uuid.UUID]:
    """The rows of ``record`` in four statements whatever the number of beats (PostgreSQL);
    the robots that went online."""
    ids = array_literal([b.robot_id for b in beats])
    went_online = [row.id for row in session.execute(_LOCK_ROBOTS, {"ids": ids})
                   if not row.online]
    session.execute(_UPDATE_ROBOTS, {"ids": ids, "ats": array_literal([b.at for b in beats]),
                                     "statuses": array_literal([b.status for b in beats])})
    module_rows = [(module_id, b.robot_id, status, b.at)
                   for b in beats for module_id, status in b.modules.items()]
    if module_rows:
        ids, robots, statuses, ats = (array_literal(column) for column in zip(*module_rows))
        session.execute(_UPDATE_MODULES, {"ids": ids, "robots": robots, "statuses": statuses,
                                          "ats": ats})
    telemetry_rows = [(b.session_id, json.dumps(b.telemetry)) for b in beats
                      if b.telemetry is not None]
    if telemetry_rows:
        session.execute(_UPDATE_TELEMETRY, {
            "ids": array_literal([row[0] for row in telemetry_rows]),
            "telemetry": array_literal([row[1] for row in telemetry_rows])})
    return went_online


# A heartbeat's telemetry fields as points: parameter name and unit.
PARAMETERS = {"battery": "%", "temperature": "degC", "cpu": "%"}
POSITION_UNIT = "m"


def telemetry_points(beat: Beat) -> list[dict[str, Any]]:
    """The points of a heartbeat's telemetry, at the heartbeat's time; the source is the
    robot's target id (its id as a string). Position x, y and z are position_x, ..."""
    values = beat.telemetry or {}
    found = [(name, values[name], unit) for name, unit in PARAMETERS.items()
             if values.get(name) is not None]
    position = values.get("position") or {}
    found += [(f"position_{axis}", position[axis], POSITION_UNIT) for axis in ("x", "y", "z")
              if position.get(axis) is not None]
    source = str(beat.robot_id)
    return [{"source": source, "parameter": name, "value": float(value), "unit": unit,
             "time": beat.at} for name, value, unit in found]


def close_session(database: Database, robot_id: uuid.UUID, session_id: int) -> None:
    """The token stops working; the robot is offline at once (a disconnect event when it
    was online)."""
    now = utcnow()
    with database.transaction() as session:
        # The robot's row before its session's, as the heartbeat writer locks them (record).
        went_offline = session.execute(
            update(Robot).where(Robot.id == robot_id, Robot.online == true())
            .values(online=False)).rowcount == 1
        session.execute(update(RobotSession).where(RobotSession.id == session_id)
                        .values(closed_at=now))
        if is_postgresql(session.connection()):  # other processes forget it (wakeup.Listener)
            session.execute(select(func.pg_notify(SESSIONS_CHANNEL, str(session_id))))
        if went_offline:
            session.add(RobotConnectionEvent(robot_id=robot_id, event="disconnect", at=now))
            alerts.robots_offline(session, [robot_id], "disconnect", now)


def sweep(database: Database, timeout_s: float) -> list[uuid.UUID]:
    """Mark offline every online robot silent for ``timeout_s``, with a timeout event each."""
    now = utcnow()
    cutoff = now - timedelta(seconds=timeout_s)
    silent = (Robot.online == true(), Robot.last_online < cutoff)
    with database.transaction() as session:
        # Locked in id order, as the heartbeat writer locks them (record); a robot whose row
        # a flush holds is skipped: its heartbeat is being written (PostgreSQL; SQLite has
        # one writer at a time anyway).
        locked = (select(Robot.id).where(*silent).order_by(Robot.id)
                  .with_for_update(skip_locked=True))
        gone = list(session.scalars(
            update(Robot).where(Robot.id.in_(locked.scalar_subquery()), *silent)
            .values(online=False).returning(Robot.id)))
        session.add_all(RobotConnectionEvent(robot_id=robot_id, event="timeout", at=now)
                        for robot_id in gone)
        alerts.robots_offline(session, gone, "timeout", now)
    return gone


def online_count(database: Database) -> int:
    with database.autocommit() as connection:
        return connection.scalar(select(func.count()).select_from(Robot)
                                 .where(Robot.online == true())) or 0


def events(database: Database, robot_id: uuid.UUID) -> list[tuple[str, datetime]]:
    """A robot's connection events, oldest first."""
    with database.autocommit() as connection:
        return [(row.event, row.at) for row in connection.execute(
            select(RobotConnectionEvent.event, RobotConnectionEvent.at)
            .where(RobotConnectionEvent.robot_id == robot_id)
            .order_by(RobotConnectionEvent.at, RobotConnectionEvent.id))]

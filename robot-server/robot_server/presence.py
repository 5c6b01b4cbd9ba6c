"""Whether robots are online, in the registry's tables: heartbeats (robot and module statuses,
last_online), closing a session (disconnect) and the sweep for silent robots (timeout).

Each change of ``registry_robots.online`` is one conditional UPDATE, so concurrent requests
and sweepers record each connect, disconnect or timeout event exactly once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, func, select, true, update

from mission_control.db import Database
from mission_control.registry_models import Module, Robot
from mission_control.robot_models import RobotConnectionEvent, RobotSession
from mission_control.timeutil import utcnow
from mission_control.web import invalid

from .schemas import Heartbeat


def heartbeat(database: Database, robot_id: uuid.UUID, session_id: int,
              beat: Heartbeat) -> datetime:
    """Record one heartbeat; ApiError 422 naming each module that is not this robot's
    (nothing written then). Returns its time (the robot's new last_online)."""
    now = utcnow()
    with database.transaction() as session:
        if beat.modules:
            ids = [m.module_id for m in beat.modules]
            own = set(session.scalars(select(Module.id).where(Module.robot_id == robot_id,
                                                              Module.id.in_(ids))))
            wrong = [{"field": f"modules.{index}.module_id",
                      "message": f"module {module_id} is not a module of this robot"}
                     for index, module_id in enumerate(ids) if module_id not in own]
            if wrong:
                raise invalid(wrong)
        went_online = session.execute(
            update(Robot).where(Robot.id == robot_id, Robot.online == false())
            .values(online=True)).rowcount == 1
        session.execute(update(Robot).where(Robot.id == robot_id)
                        .values(status=beat.status, last_online=now, online=True))
        for module in beat.modules:
            session.execute(update(Module).where(Module.id == module.module_id)
                            .values(status=module.status, last_online=now))
        if beat.telemetry is not None:
            latest: dict[str, Any] = beat.telemetry.model_dump(exclude_none=True)
            session.execute(update(RobotSession).where(RobotSession.id == session_id)
                            .values(telemetry=latest))
        if went_online:
            session.add(RobotConnectionEvent(robot_id=robot_id, event="connect", at=now))
    return now


def close_session(database: Database, robot_id: uuid.UUID, session_id: int) -> None:
    """The token stops working; the robot is offline at once (a disconnect event when it
    was online)."""
    now = utcnow()
    with database.transaction() as session:
        session.execute(update(RobotSession).where(RobotSession.id == session_id)
                        .values(closed_at=now))
        went_offline = session.execute(
            update(Robot).where(Robot.id == robot_id, Robot.online == true())
            .values(online=False)).rowcount == 1
        if went_offline:
            session.add(RobotConnectionEvent(robot_id=robot_id, event="disconnect", at=now))


def sweep(database: Database, timeout_s: float) -> list[uuid.UUID]:
    """Mark offline every online robot silent for ``timeout_s``, with a timeout event each."""
    now = utcnow()
    cutoff = now - timedelta(seconds=timeout_s)
    with database.transaction() as session:
        gone = list(session.scalars(
            update(Robot).where(Robot.online == true(), Robot.last_online < cutoff)
            .values(online=False).returning(Robot.id)))
        session.add_all(RobotConnectionEvent(robot_id=robot_id, event="timeout", at=now)
                        for robot_id in gone)
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

"""The robot fleet as operators see it: every robot with its connection, status, battery and
modules. Nothing here knows HTTP.

Two queries however many robots there are: the robots (each joined to its newest session,
whose ``telemetry`` holds the latest values the robot sent), then all their modules.
robot-server owns ``online`` and ``last_online`` (docs/robot-server.md); they are shown as
they are stored, as registry-api shows them.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from mission_control.registry_models import Module, Robot
from mission_control.robot_models import RobotSession
from mission_control.timeutil import isoformat


@dataclass(frozen=True)
class ModuleView:
    id: uuid.UUID
    name: str
    type: str
    status: str
    last_online: datetime | None


@dataclass(frozen=True)
class RobotView:
    id: uuid.UUID
    name: str
    online: bool
    status: str
    last_online: datetime | None
    battery: float | None
    modules: list[ModuleView] = field(default_factory=list)

    @property
    def connection(self) -> str:
        return "online" if self.online else "offline"


def number(value: Any) -> float | None:
    """A finite number read from stored telemetry JSON, or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return value if math.isfinite(value) else None


def _battery(telemetry: Any) -> float | None:
    return number(telemetry.get("battery")) if isinstance(telemetry, dict) else None


def newest_sessions() -> Subquery:
    """Each robot's newest session (``robot_id``, ``session_id``): its ``telemetry`` holds the
    latest values the robot sent."""
    return (select(RobotSession.robot_id, func.max(RobotSession.id).label("session_id"))
            .group_by(RobotSession.robot_id).subquery())


def robots(session: Session) -> list[RobotView]:
    """Every robot, sorted by name (then id), with its modules sorted by name."""
    newest = newest_sessions()
    rows = session.execute(
        select(Robot.id, Robot.name, Robot.online, Robot.status, Robot.last_online,
               RobotSession.telemetry)
        .outerjoin(newest, newest.c.robot_id == Robot.id)
        .outerjoin(RobotSession, RobotSession.id == newest.c.session_id)
        .order_by(func.lower(Robot.name), Robot.name, Robot.id)).all()
    modules: dict[uuid.UUID, list[ModuleView]] = {}
    for m in session.execute(select(Module.robot_id, Module.id, Module.name, Module.type,
                                    Module.status, Module.last_online)
                             .order_by(func.lower(Module.name), Module.name, Module.id)):
        modules.setdefault(m.robot_id, []).append(
            ModuleView(m.id, m.name, m.type, m.status, m.last_online))
    return [RobotView(r.id, r.name, bool(r.online), r.status, r.last_online,
                      _battery(r.telemetry), modules.get(r.id, [])) for r in rows]


def to_json(robots: list[RobotView]) -> dict[str, Any]:
    """The fleet as GET /api/fleet answers it (schemas.FleetOut)."""
    return {"items": [_robot_json(r) for r in robots], "total": len(robots),
            "online": online_count(robots)}


def online_count(robots: list[RobotView]) -> int:
    return sum(1 for r in robots if r.online)


def _robot_json(robot: RobotView) -> dict[str, Any]:
    return {
        "id": str(robot.id), "name": robot.name, "connection": robot.connection,
        "status": robot.status, "last_online": isoformat(robot.last_online),
        "battery": robot.battery,
        "modules": [{"id": str(m.id), "name": m.name, "type": m.type, "status": m.status,
                     "last_online": isoformat(m.last_online)} for m in robot.modules],
    }

"""The map of a level as operators see it: its fixed assets where the registry places them
and its robots where they last reported being, fitted into one plan. Nothing here knows HTTP.

Robots' positions come from the telemetry of their newest session (``position`` {x, y, z},
metres), as the fleet view reads battery (fleet.py). The plan is in SVG user units: metres
are scaled uniformly to fit the canvas, y pointing up as on a floor plan.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mission_control.registry_models import FixedAsset, Level, Project, Robot
from mission_control.robot_models import RobotSession

from .fleet import newest_sessions, number

WIDTH, HEIGHT, PAD = 1000.0, 600.0, 40.0  # the canvas and its margin, in SVG units
MIN_SPAN_M = 10.0  # a plan shows at least this many metres each way


@dataclass(frozen=True)
class LevelChoice:
    id: uuid.UUID
    name: str
    project: str


@dataclass(frozen=True)
class AssetMark:
    id: uuid.UUID
    name: str
    asset_type: str
    x: float
    y: float


@dataclass(frozen=True)
class RobotMark:
    id: uuid.UUID
    name: str
    online: bool
    status: str
    x: float | None
    y: float | None

    @property
    def connection(self) -> str:
        return "online" if self.online else "offline"

    @property
    def placed(self) -> bool:
        return self.x is not None and self.y is not None


def levels(session: Session) -> list[LevelChoice]:
    """Every level, by project name then level name."""
    rows = session.execute(select(Level.id, Level.name, Project.name.label("project"))
                           .join(Project, Project.id == Level.project_id)
                           .order_by(func.lower(Project.name), func.lower(Level.name), Level.id))
    return [LevelChoice(r.id, r.name, r.project) for r in rows]


def assets(session: Session, level_id: uuid.UUID) -> list[AssetMark]:
    rows = session.execute(select(FixedAsset.id, FixedAsset.name, FixedAsset.asset_type,
                                  FixedAsset.x, FixedAsset.y)
                           .where(FixedAsset.level_id == level_id)
                           .order_by(func.lower(FixedAsset.name), FixedAsset.id))
    return [AssetMark(r.id, r.name, r.asset_type, r.x, r.y) for r in rows
            if number(r.x) is not None and number(r.y) is not None]


def robots(session: Session, level_id: uuid.UUID | None) -> list[RobotMark]:
    """The robots of a level (None: those on no level), by name, at their latest position."""
    newest = newest_sessions()
    where = Robot.level_id.is_(None) if level_id is None else Robot.level_id == level_id
    rows = session.execute(
        select(Robot.id, Robot.name, Robot.online, Robot.status, RobotSession.telemetry)
        .outerjoin(newest, newest.c.robot_id == Robot.id)
        .outerjoin(RobotSession, RobotSession.id == newest.c.session_id)
        .where(where).order_by(func.lower(Robot.name), Robot.name, Robot.id))
    return [RobotMark(r.id, r.name, bool(r.online), r.status, *_position(r.telemetry))
            for r in rows]


def _position(telemetry: Any) -> tuple[float | None, float | None]:
    position = telemetry.get("position") if isinstance(telemetry, dict) else None
    if not isinstance(position, dict):
        return None, None
    x, y = number(position.get("x")), number(position.get("y"))
    return (x, y) if x is not None and y is not None else (None, None)


@dataclass(frozen=True)
class Plan:
    """Where each asset and robot goes on the canvas, and the grid lines with their labels."""

    width: float
    height: float
    assets: list[tuple[AssetMark, float, float]]
    robots: list[tuple[RobotMark, float, float]]
    grid_x: list[tuple[float, str]]
    grid_y: list[tuple[float, str]]
    step_m: float


def plan(asset_marks: list[AssetMark], robot_marks: list[RobotMark]) -> Plan:
    """Fit every asset and placed robot into the canvas with one scale for both axes."""
    placed = [r for r in robot_marks if r.placed]
    xs = [a.x for a in asset_marks] + [r.x for r in placed]
    ys = [a.y for a in asset_marks] + [r.y for r in placed]
    cx = (min(xs) + max(xs)) / 2 if xs else 0.0
    cy = (min(ys) + max(ys)) / 2 if ys else 0.0
    span_x = max(max(xs) - min(xs) if xs else 0.0, MIN_SPAN_M)
    span_y = max(max(ys) - min(ys) if ys else 0.0, MIN_SPAN_M)
    scale = min((WIDTH - 2 * PAD) / span_x, (HEIGHT - 2 * PAD) / span_y)

    def at(x: float, y: float) -> tuple[float, float]:
        return (round(WIDTH / 2 + (x - cx) * scale, 2), round(HEIGHT / 2 - (y - cy) * scale, 2))

    step = nice_step(max(WIDTH, HEIGHT) / scale / 10)
    left, right = cx - WIDTH / 2 / scale, cx + WIDTH / 2 / scale
    bottom, top = cy - HEIGHT / 2 / scale, cy + HEIGHT / 2 / scale
    grid_x = [(at(v, cy)[0], _metres(v)) for v in _multiples(step, left, right)]
    grid_y = [(at(cx, v)[1], _metres(v)) for v in _multiples(step, bottom, top)]
    return Plan(WIDTH, HEIGHT, [(a, *at(a.x, a.y)) for a in asset_marks],
                [(r, *at(r.x, r.y)) for r in placed], grid_x, grid_y, step)


def nice_step(raw: float) -> float:
    """The smallest of 1, 2 or 5 times a power of ten that is at least ``raw`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _multiples(step: float, low: float, high: float) -> list[float]:
    first = math.ceil(low / step)
    return [k * step for k in range(first, math.floor(high / step) + 1)]


def _metres(value: float) -> str:
    return f"{value:g} m" if abs(value) >= 1e-9 else "0"

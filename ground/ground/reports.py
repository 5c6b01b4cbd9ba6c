"""Reports on what happened, for a time range or a day: the telecommand history as CSV rows,
and the daily summary (commands by outcome, robots' uptime, alerts raised). Nothing here
knows HTTP.

The CSV is read in pages of ``CHUNK_ROWS`` (keyset: created_at, then id), each in its own
short transaction, so a slow download holds no transaction open. Cells that a spreadsheet
would take for a formula are prefixed with ``'`` (CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from mission_control.db import Database
from mission_control.models import Target, Telecommand
from mission_control.registry_models import Robot
from mission_control.robot_models import RobotConnectionEvent
from mission_control.status import Status
from mission_control.timeutil import isoformat

CHUNK_ROWS = 500
COLUMNS = ("id", "created_at", "updated_at", "command_name", "target", "target_name",
           "module_id", "status", "status_reason", "operator", "confirmed_by", "args")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell no spreadsheet runs as a formula: one starting with = + - @ (or a tab or
    carriage return, which some strip first) gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _in_range(since: datetime, until: datetime):
    return and_(Telecommand.created_at >= since, Telecommand.created_at < until)


def count(session: Session, since: datetime, until: datetime) -> int:
    """How many commands were created in [since, until)."""
    return session.scalar(select(func.count()).select_from(Telecommand)
                          .where(_in_range(since, until))) or 0


def csv_lines(database: Database, since: datetime, until: datetime) -> Iterator[str]:
    """The header, then every command created in [since, until), oldest first, as CSV text."""
    yield _csv([COLUMNS])
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = (select(Telecommand, Target.name).join(Target, Target.id == Telecommand.target_id)
                 .where(_in_range(since, until))
                 .order_by(Telecommand.created_at, Telecommand.id).limit(CHUNK_ROWS))
        if after is not None:
            query = query.where(or_(Telecommand.created_at > after[0],
                                    and_(Telecommand.created_at == after[0],
                                         Telecommand.id > after[1])))
        with database.transaction() as session:
            rows = session.execute(query).all()
            if not rows:
                return
            yield _csv([_row(c, name) for c, name in rows])
        last = rows[-1][0]
        after = (last.created_at, last.id)


def _row(c: Telecommand, target_name: str) -> list[str]:
    values = (str(c.id), isoformat(c.created_at), isoformat(c.updated_at), c.command_name,
              c.target_id, target_name, c.module_id, c.status, c.status_reason, c.operator,
              c.confirmed_by, json.dumps(c.args, sort_keys=True, ensure_ascii=False))
    return [safe_cell(v or "") for v in values]


def _csv(rows: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


# --- the daily summary ------------------------------------------------------------------------

@dataclass(frozen=True)
class Uptime:
    robot_id: uuid.UUID
    name: str
    online_s: float
    period_s: float
    connects: int

    @property
    def percent(self) -> float:
        return 100.0 * self.online_s / self.period_s if self.period_s > 0 else 0.0


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def commands_by_outcome(session: Session, start: datetime, end: datetime) -> list[tuple[str, int]]:
    """Commands created in [start, end) by their current status, in lifecycle order."""
    counts = dict(session.execute(select(Telecommand.status, func.count())
                                  .where(_in_range(start, end)).group_by(Telecommand.status)).all())
    return [(s.value, counts.get(s.value, 0)) for s in Status]


def uptimes(session: Session, start: datetime, end: datetime) -> list[Uptime]:
    """Each robot's time online in [start, end) from its connection events (connect: online;
    disconnect or timeout: offline), starting from the state its last earlier event left."""
    period = (end - start).total_seconds()
    before = (select(func.max(RobotConnectionEvent.id)).where(RobotConnectionEvent.at < start)
              .group_by(RobotConnectionEvent.robot_id))
    events: dict[uuid.UUID, list[RobotConnectionEvent]] = {}
    for e in session.scalars(select(RobotConnectionEvent).where(or_(
            RobotConnectionEvent.id.in_(before),
            and_(RobotConnectionEvent.at >= start, RobotConnectionEvent.at < end)))
            .order_by(RobotConnectionEvent.at, RobotConnectionEvent.id)):
        events.setdefault(e.robot_id, []).append(e)
    found = []
    for robot_id, name in session.execute(select(Robot.id, Robot.name)
                                          .order_by(func.lower(Robot.name), Robot.id)):
        online_s, connects, online_since = 0.0, 0, None
        for e in events.get(robot_id, []):
            at = max(e.at, start)
            if e.event == "connect":
                connects += e.at >= start
                online_since = online_since or at
            elif online_since is not None:
                online_s += (at - online_since).total_seconds()
                online_since = None
        if online_since is not None:
            online_s += (end - online_since).total_seconds()
        found.append(Uptime(robot_id, name, online_s, period, connects))
    return found

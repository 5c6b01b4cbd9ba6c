"""Progress reports of the commands robots execute (docs/progress.md): the latest one per
command, and a row each time the command enters a new phase. Nothing here knows HTTP.

A command reports as often as it likes; robot-server writes at most about one report a second
per command (MIN_INTERVAL_S): a report of the phase already stored that comes sooner is
dropped (``recorded`` false), as nobody reads progress finer than that. A new phase is always
written (up to MAX_PHASES per command), so the history keeps when each phase started. The
write is one conditional UPDATE (``... WHERE updated_at <= now - MIN_INTERVAL_S OR phase
differs``): of two racing reports the later write wins and none is lost half-way. A report
states percent, done and total as given (omitted: unknown) and the phase (omitted: unchanged);
an empty one only says the command still runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mission_control.db import Database
from mission_control.progress_models import CommandPhase, CommandProgress
from mission_control.timeutil import utcnow

from .delivery import check_executing

MIN_INTERVAL_S = 1.0
MAX_PHASES = 32


@dataclass(frozen=True)
class Report:
    percent: float | None
    phase: str | None
    done: int | None
    total: int | None


ALIVE = Report(None, None, None, None)


@dataclass(frozen=True)
class Stored:
    recorded: bool
    percent: float | None
    phase: str | None
    done: int | None
    total: int | None
    updated_at: datetime


def record(database: Database, robot_id: uuid.UUID, command_id: str, report: Report) -> Stored:
    """Store ``report`` as the progress of the robot's EXECUTING command (UnknownCommand or
    WrongState otherwise); a new phase gets its history row. What is stored afterwards."""
    now = utcnow()
    with database.begin() as connection:
        check_executing(connection, robot_id, command_id, now)
        stored = connection.execute(select(CommandProgress.phase)
                                    .where(CommandProgress.command_id == command_id)).first()
        phase = report.phase if report.phase is not None else \
            (stored.phase if stored is not None else None)
        new_phase = report.phase is not None and (stored is None or stored.phase != report.phase)
        if new_phase:
            count = connection.scalar(select(func.count()).select_from(CommandPhase)
                                      .where(CommandPhase.command_id == command_id))
            new_phase = count < MAX_PHASES
        values = {"percent": report.percent, "phase": phase, "done": report.done,
                  "total": report.total, "updated_at": now}
        if report == ALIVE and stored is not None:  # {} only says it still runs
            values = {"updated_at": now}
        if stored is None:
            recorded = _insert(connection, robot_id, command_id, values)
        else:
            recorded = _update(connection, command_id, values, new_phase, now)
        if recorded and new_phase:
            connection.execute(insert(CommandPhase).values(command_id=command_id,
                                                           phase=report.phase, started_at=now))
        current = connection.execute(
            select(CommandProgress.percent, CommandProgress.phase, CommandProgress.done,
                   CommandProgress.total, CommandProgress.updated_at)
            .where(CommandProgress.command_id == command_id)).one()
    return Stored(recorded, current.percent, current.phase, current.done, current.total,
                  current.updated_at)


def _insert(connection, robot_id: uuid.UUID, command_id: str, values: dict) -> bool:
    """The command's first report; False when a racing one was written first."""
    try:
        with connection.begin_nested():
            connection.execute(insert(CommandProgress).values(command_id=command_id,
                                                              robot_id=robot_id, **values))
    except IntegrityError:
        return False
    return True


def _update(connection, command_id: str, values: dict, new_phase: bool,
            now: datetime) -> bool:
    """A later report; unless it starts a new phase, only when the stored one is due."""
    statement = update(CommandProgress).where(CommandProgress.command_id == command_id)
    if not new_phase:
        statement = statement.where(
            CommandProgress.updated_at <= now - timedelta(seconds=MIN_INTERVAL_S))
    return connection.execute(statement.values(**values)).rowcount == 1

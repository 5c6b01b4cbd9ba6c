"""The spacecraft's on-board storage: receive commands (one or a batch), report on them.

Receipt is idempotent on the command id (the table's primary key): one INSERT ... ON CONFLICT
(id) DO UPDATE SET receipts = receipts + 1 stores the new commands of a batch and counts one
more receipt of the known ones, so two copies racing can never store a command twice. Reads
here never execute anything: the executor (executor.py) does that on its own clock.
Nothing here knows about HTTP.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from mission_control.db import Database
from mission_control.models import SpacecraftState, UplinkedCommand
from mission_control.timeutil import utcnow

from .executor import EXECUTED, FAILED, RECEIVED, STATE_ROW_ID
from .schemas import Acknowledgement, Attitude, CommandCounts, CommandReport, StateReport

log = logging.getLogger(__name__)

_commands = UplinkedCommand.__table__
_REPORTED = (_commands.c.id, _commands.c.command_name, _commands.c.state, _commands.c.detail,
             _commands.c.executions, _commands.c.receipts, _commands.c.received_at,
             _commands.c.finished_at)


class Incoming(NamedTuple):
    """A command as received, its arguments already checked against the catalog."""

    id: str
    command_name: str
    args: dict[str, Any]
    module_id: str | None


class Onboard:
    """The spacecraft's commands on one database; safe to share between threads."""

    def __init__(self, database: Database, *, max_stage_delay_s: float,
                 on_received: Callable[[Iterable[datetime]], None] | None = None,
                 rng: random.Random | None = None) -> None:
        self.database = database
        self.max_stage_delay_s = max_stage_delay_s
        self.on_received = on_received
        self.rng = rng or random.Random()
        self._insert = postgresql.insert if database.is_postgresql else sqlite.insert

    def receive(self, commands: list[Incoming]) -> dict[str, Acknowledgement]:
        """Store new commands and count one more receipt of known ones, in one statement;
        return the acknowledgement of each id (its first receipt's time, its current state).

        The ids must be unique within the call. Rows go in id order, so two batches that
        share ids lock them in the same order and cannot deadlock.
        """
        now = utcnow()
        rows = [{"id": c.id, "command_name": c.command_name, "args": c.args,
                 "module_id": c.module_id, "state": RECEIVED, "executions": 0, "receipts": 1,
                 "received_at": now,
                 "execute_at": now + timedelta(seconds=self.rng.uniform(0, self.max_stage_delay_s))}
                for c in sorted(commands, key=lambda c: c.id)]
        statement = self._insert(_commands)
        statement = statement.on_conflict_do_update(
            index_elements=[_commands.c.id],
            set_={"receipts": _commands.c.receipts + 1},
        ).returning(_commands.c.id, _commands.c.state, _commands.c.executions,
                    _commands.c.received_at, _commands.c.receipts, _commands.c.execute_at)
        with self.database.begin() as connection:
            stored = connection.execute(statement, rows).all()
        first = [row.execute_at for row in stored if row.receipts == 1]
        log.info("received %d commands (%d new)", len(stored), len(first))
        if first and self.on_received is not None:
            self.on_received(first)
        return {row.id: Acknowledgement(id=row.id, state=row.state, executions=row.executions,
                                        received_at=row.received_at, acknowledged=True)
                for row in stored}

    def report(self, command_id: str) -> CommandReport | None:
        """The command as it is now; None for an unknown id. Executes nothing."""
        reports = self.reports([command_id])
        return reports.get(command_id)

    def reports(self, command_ids: list[str]) -> dict[str, CommandReport]:
        """The known commands among ``command_ids``, by id, read with one SELECT."""
        with self.database.autocommit() as connection:
            rows = connection.execute(
                select(*_REPORTED).where(_commands.c.id.in_(command_ids))).all()
        return {row.id: CommandReport(**row._asdict()) for row in rows}

    def state(self) -> StateReport:
        """The spacecraft's state as the executed commands left it. Executes nothing."""
        with self.database.transaction() as session:
            row = session.get_one(SpacecraftState, STATE_ROW_ID)
            counts = dict(session.execute(
                select(UplinkedCommand.state, func.count()).group_by(UplinkedCommand.state)).all())
        return StateReport(
            heater_on=row.heater_on,
            attitude=Attitude(roll=row.roll_deg, pitch=row.pitch_deg, yaw=row.yaw_deg),
            solar_array_deployed=row.solar_array_deployed,
            images_captured=row.images_captured,
            boot_count=row.boot_count,
            updated_at=row.updated_at,
            commands=CommandCounts(received=sum(counts.values()), executed=counts.get(EXECUTED, 0),
                                   failed=counts.get(FAILED, 0)))

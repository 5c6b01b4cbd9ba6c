"""The spacecraft's on-board storage: receive commands (one or a batch), report on them.

It is the spacecraft's uplink receiver (mission_control.uplink_routes): receipt is idempotent
on the command id (mission_control.uplink_store). Reads here never execute anything: the
executor (executor.py) does that on its own clock. Nothing here knows about HTTP.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Callable, Iterable

from sqlalchemy import func, select

from mission_control.db import Database
from mission_control.models import SpacecraftState, UplinkedCommand
from mission_control.timeutil import utcnow
from mission_control.uplink_checks import Refused, catalog_checked
from mission_control.uplink_schemas import (
    Acknowledgement, CommandReport, Incoming, UplinkRequest,
)
from mission_control.uplink_store import acknowledgements, read_reports, store_receipts

from .executor import EXECUTED, FAILED, RECEIVED, STATE_ROW_ID
from .schemas import Attitude, CommandCounts, StateReport

log = logging.getLogger(__name__)
confirmations = logging.getLogger("spacecraft.uplink")

_commands = UplinkedCommand.__table__


class Onboard:
    """The spacecraft's commands on one database; safe to share between threads."""

    def __init__(self, database: Database, *, max_stage_delay_s: float,
                 on_received: Callable[[Iterable[datetime]], None] | None = None,
                 rng: random.Random | None = None) -> None:
        self.database = database
        self.max_stage_delay_s = max_stage_delay_s
        self.on_received = on_received
        self.rng = rng or random.Random()

    def check(self, commands: list[UplinkRequest]) -> list[Incoming | Refused]:
        """Each command against the spacecraft catalog, in order. The spacecraft keeps no
        column for who confirmed a hazardous command; the log line is its record on board."""
        answers: list[Incoming | Refused] = []
        for body in commands:
            try:
                answers.append(catalog_checked("spacecraft", body))
            except Refused as refused:
                answers.append(refused)
                continue
            if body.confirmed_by is not None:
                confirmations.info("command %s %s confirmed by %s", body.id,
                                   body.command_name, body.confirmed_by)
        return answers

    def receive(self, commands: list[Incoming]) -> dict[str, Acknowledgement]:
        """Store new commands and count one more receipt of known ones, in one statement;
        return the acknowledgement of each id (its first receipt's time, its current state).
        The ids must be unique within the call."""
        now = utcnow()
        rows = [{"id": c.id, "command_name": c.command_name, "args": c.args,
                 "module_id": c.module_id, "state": RECEIVED, "executions": 0, "receipts": 1,
                 "received_at": now,
                 "execute_at": now + timedelta(seconds=self.rng.uniform(0, self.max_stage_delay_s))}
                for c in commands]
        with self.database.begin() as connection:
            stored = store_receipts(connection, _commands, rows, _commands.c.execute_at)
        first = [row.execute_at for row in stored if row.receipts == 1]
        log.info("received %d commands (%d new)", len(stored), len(first))
        if first and self.on_received is not None:
            self.on_received(first)
        return acknowledgements(stored)

    def reports(self, command_ids: list[str]) -> dict[str, CommandReport]:
        """The known commands among ``command_ids``, by id, read with one SELECT. Executes
        nothing."""
        with self.database.autocommit() as connection:
            rows = read_reports(connection, _commands, command_ids)
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

"""The spacecraft's on-board software: receive commands, execute each at most once, keep state.

Receipt is idempotent on the command id (the table's primary key); execution is guarded by a
conditional UPDATE, so however many workers, threads or re-sends race on one command, exactly
one of them moves it out of RECEIVED and runs it. Nothing here knows about HTTP.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mission_control.db import Database
from mission_control.models import SpacecraftState, UplinkedCommand
from mission_control.timeutil import utcnow

from .schemas import Acknowledgement, Attitude, CommandCounts, CommandReport, StateReport

log = logging.getLogger(__name__)

RECEIVED, EXECUTING, EXECUTED, FAILED = "RECEIVED", "EXECUTING", "EXECUTED", "FAILED"
STATE_ROW_ID = 1
SIMULATED_FAILURE = "simulated execution failure"


def apply_effect(state: SpacecraftState, command_name: str, args: dict[str, Any]) -> str | None:
    """Change ``state`` as the command says; return why it cannot be done, or None on success."""
    if command_name == "SET_HEATER":
        state.heater_on = bool(args["on"])
    elif command_name == "ADJUST_ATTITUDE":
        state.roll_deg, state.pitch_deg, state.yaw_deg = args["roll"], args["pitch"], args["yaw"]
    elif command_name == "CAPTURE_IMAGE":
        state.images_captured += 1
    elif command_name == "DEPLOY_SOLAR_ARRAY":
        if state.solar_array_deployed:
            return "solar array already deployed"
        state.solar_array_deployed = True
    elif command_name == "REBOOT":
        state.boot_count += 1
        state.heater_on = False
    elif command_name != "PING":
        return f"no on-board handler for {command_name}"
    return None


class Onboard:
    """The spacecraft bound to one database; safe to share between threads."""

    def __init__(self, database: Database, *, max_stage_delay_s: float,
                 execution_failure_rate: float, rng: random.Random | None = None) -> None:
        self.database = database
        self.max_stage_delay_s = max_stage_delay_s
        self.execution_failure_rate = execution_failure_rate
        self.rng = rng or random.Random()

    def receive(self, command_id: str, command_name: str, args: dict[str, Any],
                module_id: str | None) -> Acknowledgement:
        """Store a newly received command, or count one more receipt of a known one.

        The INSERT comes first and the primary key decides: when two copies of a command arrive
        at once, one insert wins and the other fails with an IntegrityError, which is exactly a
        re-send. Checking for the row first would leave a window between the check and the insert.
        """
        now = utcnow()
        execute_at = now + timedelta(seconds=self.rng.uniform(0, self.max_stage_delay_s))
        try:
            with self.database.transaction() as session:
                session.execute(insert(UplinkedCommand).values(
                    id=command_id, command_name=command_name, args=args, module_id=module_id,
                    state=RECEIVED, executions=0, receipts=1, received_at=now,
                    execute_at=execute_at))
        except IntegrityError as error:
            acknowledgement = self._count_receipt(command_id)
            if acknowledgement is None:  # not a duplicate id after all
                raise error
            log.info("command %s received again (%s)", command_id, acknowledgement.state)
            return acknowledgement
        log.info("command %s received: %s, due at %s", command_id, command_name,
                 execute_at.isoformat())
        return Acknowledgement(id=command_id, state=RECEIVED, executions=0, received_at=now,
                               acknowledged=True)

    def _count_receipt(self, command_id: str) -> Acknowledgement | None:
        with self.database.transaction() as session:
            result = session.execute(
                update(UplinkedCommand).where(UplinkedCommand.id == command_id)
                .values(receipts=UplinkedCommand.receipts + 1)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                return None
            command = session.get_one(UplinkedCommand, command_id)
            return Acknowledgement(id=command.id, state=command.state,
                                   executions=command.executions,
                                   received_at=command.received_at, acknowledged=True)

    def execute_if_due(self, command_id: str) -> str | None:
        """Run the command if it is RECEIVED and due; return its outcome, or None if not run.

        Claim, effect and result are one transaction: the conditional UPDATE to EXECUTING lets
        one caller through (the others see zero rows, on PostgreSQL after waiting for the
        winner's commit), and a crash before the commit rolls the claim back to RECEIVED, so a
        command is never run twice nor stranded in EXECUTING. The state row is locked after the
        command row, always in that order, so concurrent executions cannot deadlock.
        """
        with self.database.transaction() as session:
            return self._execute_if_due(session, command_id)

    def _execute_if_due(self, session, command_id: str) -> str | None:
        claimed = session.execute(
            update(UplinkedCommand)
            .where(UplinkedCommand.id == command_id, UplinkedCommand.state == RECEIVED,
                   UplinkedCommand.execute_at <= utcnow())
            .values(state=EXECUTING)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            return None
        command = session.get_one(UplinkedCommand, command_id)
        state = session.scalars(
            select(SpacecraftState).where(SpacecraftState.id == STATE_ROW_ID).with_for_update()
        ).one()
        if self.rng.random() < self.execution_failure_rate:
            detail: str | None = SIMULATED_FAILURE
        else:
            detail = apply_effect(state, command.command_name, command.args or {})
        outcome = FAILED if detail else EXECUTED
        finished_at = utcnow()
        state.updated_at = finished_at
        session.execute(
            update(UplinkedCommand).where(UplinkedCommand.id == command_id)
            .values(state=outcome, detail=detail, executions=UplinkedCommand.executions + 1,
                    finished_at=finished_at)
            .execution_options(synchronize_session=False))
        if outcome == EXECUTED:
            log.info("command %s executed: %s", command_id, command.command_name)
        else:
            log.warning("command %s failed: %s: %s", command_id, command.command_name, detail)
        return outcome

    def execute_due(self) -> int:
        """Run every due RECEIVED command, oldest first; return how many this call ran."""
        with self.database.transaction() as session:
            due = session.scalars(
                select(UplinkedCommand.id)
                .where(UplinkedCommand.state == RECEIVED, UplinkedCommand.execute_at <= utcnow())
                .order_by(UplinkedCommand.execute_at, UplinkedCommand.id)).all()
        return sum(1 for command_id in due if self.execute_if_due(command_id) is not None)

    def report(self, command_id: str) -> CommandReport | None:
        """The command's state after running it if it is due; None for an unknown id."""
        with self.database.transaction() as session:
            self._execute_if_due(session, command_id)
            command = session.get(UplinkedCommand, command_id, populate_existing=True)
            if command is None:
                return None
            return CommandReport(
                id=command.id, command_name=command.command_name, state=command.state,
                detail=command.detail, executions=command.executions, receipts=command.receipts,
                received_at=command.received_at, finished_at=command.finished_at)

    def state(self) -> StateReport:
        """The spacecraft's state once every due command has run."""
        self.execute_due()
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

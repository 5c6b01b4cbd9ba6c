"""The spacecraft's on-board software: receive commands, execute each at most once, keep state.

Receipt is idempotent on the command id (the table's primary key); execution is guarded by a
conditional UPDATE, so however many workers, threads or re-sends race on one command, exactly
one of them moves it out of RECEIVED and runs it. Nothing here knows about HTTP.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mission_control.db import Database
from mission_control.models import SpacecraftState, UplinkedCommand
from mission_control.timeutil import utcnow

from .schemas import Acknowledgement, Attitude, CommandCounts, CommandReport, StateReport

log = logging.getLogger(__name__)

RECEIVED, EXECUTING, EXECUTED, FAILED = "RECEIVED", "EXECUTING", "EXECUTED", "FAILED"
STATE_ROW_ID = 1
SIMULATED_FAILURE = "simulated execution failure"


@dataclass(frozen=True)
class Effect:
    """How a command changes the state row: column values, and a precondition with the
    reason given when it does not hold. One conditional UPDATE applies it."""

    values: dict[str, Any]
    precondition: ColumnElement[bool] | None = None
    refusal: str | None = None


def effect_of(command_name: str, args: dict[str, Any]) -> Effect | None:
    """The state change a command makes; None when the spacecraft has no handler for it."""
    state = SpacecraftState.__table__.c
    if command_name == "PING":
        return Effect({})
    if command_name == "SET_HEATER":
        return Effect({"heater_on": bool(args["on"])})
    if command_name == "ADJUST_ATTITUDE":
        return Effect({"roll_deg": args["roll"], "pitch_deg": args["pitch"], "yaw_deg": args["yaw"]})
    if command_name == "CAPTURE_IMAGE":
        return Effect({"images_captured": state.images_captured + 1})
    if command_name == "DEPLOY_SOLAR_ARRAY":
        return Effect({"solar_array_deployed": True}, state.solar_array_deployed.is_(False),
                      "solar array already deployed")
    if command_name == "REBOOT":
        return Effect({"boot_count": state.boot_count + 1, "heater_on": False})
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
            finished = self._execute_if_due(session, command_id)
            return finished.state if finished is not None else None

    def _execute_if_due(self, session, command_id: str) -> Row | None:
        """Run the command in ``session`` if due; return its finished row, or None if not run."""
        commands = UplinkedCommand.__table__
        claimed = session.execute(
            update(commands)
            .where(commands.c.id == command_id, commands.c.state == RECEIVED,
                   commands.c.execute_at <= utcnow())
            .values(state=EXECUTING)
            .returning(commands.c.command_name, commands.c.args)).first()
        if claimed is None:
            return None
        detail = self._run(session, claimed.command_name, claimed.args or {})
        outcome = FAILED if detail else EXECUTED
        finished = session.execute(
            update(commands).where(commands.c.id == command_id)
            .values(state=outcome, detail=detail, executions=commands.c.executions + 1,
                    finished_at=utcnow())
            .returning(*commands.c)).one()
        if outcome == EXECUTED:
            log.info("command %s executed: %s", command_id, claimed.command_name)
        else:
            log.warning("command %s failed: %s: %s", command_id, claimed.command_name, detail)
        return finished

    def _run(self, session, command_name: str, args: dict[str, Any]) -> str | None:
        """Apply the command's effect to the state row; return why it failed, or None."""
        if self.rng.random() < self.execution_failure_rate:
            return SIMULATED_FAILURE
        effect = effect_of(command_name, args)
        if effect is None:
            return f"no on-board handler for {command_name}"
        if not effect.values:
            return None
        state = SpacecraftState.__table__
        change = (update(state).where(state.c.id == STATE_ROW_ID)
                  .values(**effect.values, updated_at=utcnow()))
        if effect.precondition is not None:
            change = change.where(effect.precondition)
        # The UPDATE locks the state row (after the command row, always in that order).
        return effect.refusal if session.execute(change).rowcount == 0 else None

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
        commands = UplinkedCommand.__table__
        with self.database.transaction() as session:
            command = self._execute_if_due(session, command_id) or session.execute(
                select(commands).where(commands.c.id == command_id)).first()
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

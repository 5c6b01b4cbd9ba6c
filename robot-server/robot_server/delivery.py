"""The robot's side of its commands: deliver the pending ones, acknowledge one (it runs at
most once), record its result, and expire those nobody acknowledged in time.

Every change is one conditional UPDATE (``... WHERE state = <expected>``), so a command
acknowledged twice, or by two racing requests, starts once, and a result arrives only for a
command that runs. Delivery changes no state: a command delivered but never acknowledged (the
robot crashed) is delivered again on the robot's next poll, until it expires. The calls of
many robots at once run as one statement of each kind (``RobotCommands``, combine.py); a
command acknowledged or finished twice in one batch counts for the first call only. Nothing
here knows about HTTP.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, literal, select, true, tuple_, update

from mission_control import metrics
from mission_control.db import Database
from mission_control.registry_models import Module, Robot
from mission_control.timeutil import utcnow
from mission_control.uplink_schemas import CommandReport
from mission_control.uplink_store import REPORTED

from .combine import Combiner
from .queue import EXPIRED, FAILED, RECEIVED, TABLE

EXECUTING = "EXECUTING"
MAX_PER_POLL = 100
# The state rendered inline, so both databases match it to the partial indexes.
QUEUED = TABLE.c.state == literal(RECEIVED, literal_execute=True)

DELIVERED = metrics.counter("mc_robot_commands_delivered_total",
                            "Commands handed to robots by their polls (each delivery counted)")
ACKNOWLEDGED = metrics.counter("mc_robot_commands_acknowledged_total",
                               "Commands robots acknowledged (each then runs once)")
RESULTS = metrics.counter("mc_robot_command_results_total",
                          "Results robots reported, by status", ["status"])
EXPIRED_TOTAL = metrics.counter("mc_robot_commands_expired_total",
                                "Commands that expired unacknowledged (FAILED \"expired\")")
for _status in ("EXECUTED", "FAILED"):
    RESULTS.labels(_status)


class UnknownCommand(Exception):
    """No such command, or one of another robot: 404."""


class WrongState(Exception):
    """The command is not in the state the call needs: 409 with ``error`` and its state."""

    def __init__(self, error: str, state: str, message: str) -> None:
        super().__init__(message)
        self.error, self.state, self.message = error, state, message


class NotAModuleCommand(Exception):
    """A module status reported for a command that is not for a module: 422."""


class RobotCommands:
    """The robot calls' statements of one process (poll, acknowledgement, result), each
    kind combined across the robots calling at once (combine.py): a fleet's storm costs a
    few statements, not one per robot. Thread- and greenlet-safe."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._deliver = Combiner(lambda polls: deliver_many(database, polls))
        self._acknowledge = Combiner(lambda calls: acknowledge_many(database, calls))
        self._finish = Combiner(lambda calls: finish_many(database, calls))

    def deliver(self, robot_id: uuid.UUID, *, look_first: bool = True) -> list[dict[str, Any]]:
        """The robot's RECEIVED, unexpired commands in received order (at most
        MAX_PER_POLL), each delivery counted in the row. ``look_first``: a poll that just
        came in, which most often finds nothing, is looked up with a read first (no write
        lock on SQLite); one woken for its commands goes straight to the UPDATE."""
        return self._deliver((robot_id, look_first))

    def acknowledge(self, robot_id: uuid.UUID, command_id: str) -> None:
        """RECEIVED and unexpired -> EXECUTING (executions 1), at most once;
        UnknownCommand or WrongState (already acknowledged, finished, expired) otherwise."""
        if not self._acknowledge((robot_id, command_id)):
            raise self._refusal(robot_id, command_id, RECEIVED)

    def finish(self, robot_id: uuid.UUID, command_id: str, status: str, detail: str | None,
               module_status: str | None) -> CommandReport:
        """EXECUTING -> ``status`` with its detail; the command's report. A module
        command's ``module_status`` goes to the registry's module in the same transaction
        (``finish_module_command``, not combined: rare)."""
        if module_status is not None:
            return finish_module_command(self.database, robot_id, command_id, status, detail,
                                         module_status)
        report = self._finish((robot_id, command_id, status, detail))
        if report is None:
            raise self._refusal(robot_id, command_id, EXECUTING)
        return report

    def _refusal(self, robot_id: uuid.UUID, command_id: str, expected: str) -> WrongState:
        """Why a call that expected ``expected`` lost: the command's state now
        (UnknownCommand raised for another robot's or no command)."""
        now = utcnow()
        with self.database.autocommit() as connection:
            row = _current(connection, robot_id, command_id)
        return _wrong_state(row.state, row.detail, row.expires_at, now, expected)


def deliver_many(database: Database,
                 polls: list[tuple[uuid.UUID, bool]]) -> list[list[dict[str, Any]]]:
    """Each poll's commands (robot id, look first): the robots to look at read with one
    SELECT, then every robot's commands taken with one UPDATE ... RETURNING (each a
    statement on its own: no BEGIN or COMMIT round trips)."""
    now = utcnow()
    unexpired = TABLE.c.expires_at > now
    robots = {robot_id for robot_id, _ in polls}
    look = robots - {robot_id for robot_id, look_first in polls if not look_first}
    rows: list = []
    with database.autocommit() as connection:
        chosen = robots - look
        if look:
            chosen |= set(connection.scalars(select(TABLE.c.robot_id).distinct().where(
                TABLE.c.robot_id.in_(look), QUEUED, unexpired)))
        if chosen:
            ranked = select(TABLE.c.id, func.row_number().over(
                partition_by=TABLE.c.robot_id,
                order_by=(TABLE.c.received_at, TABLE.c.id)).label("rank")).where(
                TABLE.c.robot_id.in_(chosen), QUEUED, unexpired).subquery()
            rows = connection.execute(
                update(TABLE).where(TABLE.c.id.in_(select(ranked.c.id)
                                                   .where(ranked.c.rank <= MAX_PER_POLL)),
                                    QUEUED)
                .values(deliveries=TABLE.c.deliveries + 1, delivered_at=now)
                .returning(TABLE.c.id, TABLE.c.robot_id, TABLE.c.command_name, TABLE.c.args,
                           TABLE.c.module_id, TABLE.c.received_at)).all()
    DELIVERED.inc(len(rows))
    found: dict[uuid.UUID, list] = {}
    for row in sorted(rows, key=lambda row: (row.received_at, row.id)):
        found.setdefault(row.robot_id, []).append(
            {"id": row.id, "command_name": row.command_name, "args": row.args,
             "module_id": row.module_id})
    return [found.get(robot_id, []) for robot_id, _ in polls]


def _first_claims(calls: list[tuple], won: dict[tuple, Any]) -> list[Any]:
    """Each call's (robot id, command id) share of ``won``: a command acknowledged or
    finished twice in one batch counts for its first call only (the others get 409)."""
    return [won.pop((call[0], call[1]), None) for call in calls]


def acknowledge_many(database: Database, calls: list[tuple[uuid.UUID, str]]) -> list[bool]:
    """Each (robot id, command id): whether it went RECEIVED and unexpired -> EXECUTING,
    all in one conditional UPDATE."""
    now = utcnow()
    pairs = list(dict.fromkeys(calls))  # each (robot id, command id) once
    with database.autocommit() as connection:
        started = connection.execute(
            update(TABLE).where(tuple_(TABLE.c.robot_id, TABLE.c.id).in_(pairs),
                                QUEUED, TABLE.c.expires_at > now)
            .values(state=EXECUTING, executions=1, acknowledged_at=now)
            .returning(TABLE.c.robot_id, TABLE.c.id)).all()
    ACKNOWLEDGED.inc(len(started))
    return [found is not None for found in
            _first_claims(calls, {(row.robot_id, row.id): True for row in started})]


def finish_many(database: Database, calls: list[tuple[uuid.UUID, str, str, str | None]]
                ) -> list[CommandReport | None]:
    """Each (robot id, command id, status, detail): its report when it went EXECUTING ->
    status, else None; one conditional UPDATE ... RETURNING per distinct (status, detail)."""
    now = utcnow()
    executing = TABLE.c.state == literal(EXECUTING, literal_execute=True)
    groups: dict[tuple[str, str | None], set[tuple[uuid.UUID, str]]] = {}
    for robot_id, command_id, status, detail in calls:
        groups.setdefault((status, detail), set()).add((robot_id, command_id))
    won: dict[tuple, CommandReport] = {}
    with database.autocommit() as connection:
        for (status, detail), pairs in groups.items():
            for row in connection.execute(
                    update(TABLE).where(tuple_(TABLE.c.robot_id, TABLE.c.id).in_(sorted(pairs)),
                                        executing)
                    .values(state=status, detail=detail, finished_at=now,
                            module_status_after=None)
                    .returning(TABLE.c.robot_id, *(TABLE.c[name] for name in REPORTED))):
                fields = row._asdict()
                won[(fields.pop("robot_id"), row.id)] = CommandReport(**fields)
                RESULTS.labels(status).inc()
    return _first_claims(calls, won)


def _wrong_state(state: str, detail: str | None, expires_at: datetime, now: datetime,
                 wanted: str) -> WrongState:
    if state == RECEIVED and expires_at <= now or state == FAILED and detail == EXPIRED:
        return WrongState("expired", FAILED, "the command expired before it was acknowledged")
    if wanted == RECEIVED and state == EXECUTING:
        return WrongState("already_acknowledged", state, "the command was acknowledged "
                          "already: it runs once")
    if wanted == EXECUTING and state == RECEIVED:
        return WrongState("not_acknowledged", state, "acknowledge the command before "
                          "reporting its result")
    return WrongState("finished", state, f"the command has finished: {state}")


def _current(connection, robot_id: uuid.UUID, command_id: str):
    row = connection.execute(select(TABLE.c.robot_id, TABLE.c.module_id, TABLE.c.state,
                                    TABLE.c.detail, TABLE.c.expires_at)
                             .where(TABLE.c.id == command_id)).first()
    if row is None or row.robot_id != robot_id:
        raise UnknownCommand(f"robot {robot_id} has no command {command_id!r}")
    return row


def check_executing(connection, robot_id: uuid.UUID, command_id: str, now: datetime) -> None:
    """UnknownCommand or WrongState unless the robot's command is EXECUTING (progress)."""
    row = _current(connection, robot_id, command_id)
    if row.state != EXECUTING:
        raise _wrong_state(row.state, row.detail, row.expires_at, now, EXECUTING)


def finish_module_command(database: Database, robot_id: uuid.UUID, command_id: str,
                           status: str, detail: str | None,
                           module_status: str) -> CommandReport:
    now = utcnow()
    with database.begin() as connection:
        row = _current(connection, robot_id, command_id)
        if row.module_id is None:
            raise NotAModuleCommand("module_status is only for a command to a module")
        done = connection.execute(
            update(TABLE).where(TABLE.c.id == command_id,
                                TABLE.c.state == literal(EXECUTING, literal_execute=True))
            .values(state=status, detail=detail, finished_at=now,
                    module_status_after=module_status)
            .returning(*(TABLE.c[name] for name in REPORTED))).first()
        if done is not None:
            connection.execute(update(Module).where(Module.id == row.module_id,
                                                    Module.robot_id == robot_id)
                               .values(status=module_status))
    if done is None:
        raise _wrong_state(row.state, row.detail, row.expires_at, now, EXECUTING)
    RESULTS.labels(status).inc()
    return CommandReport(**done._asdict())


def expire(database: Database) -> int:
    """RECEIVED commands past their expiry -> FAILED "expired" (finished when they expired);
    how many. The sweeper runs it each pass."""
    with database.begin() as connection:
        count = connection.execute(
            update(TABLE).where(QUEUED, TABLE.c.expires_at <= utcnow())
            .values(state=FAILED, detail=EXPIRED, finished_at=TABLE.c.expires_at)).rowcount
    EXPIRED_TOTAL.inc(count)
    return count


def time_out(database: Database, timeout_s: float) -> int:
    """EXECUTING commands acknowledged ``timeout_s`` ago or more, with no result (the robot
    crashed while running them) -> FAILED; how many. The sweeper runs it each pass, so the
    command-sender does not ask about them for ever; a result that comes later gets 409."""
    now = utcnow()
    executing = TABLE.c.state == literal(EXECUTING, literal_execute=True)
    with database.begin() as connection:
        return connection.execute(
            update(TABLE).where(executing,
                                TABLE.c.acknowledged_at <= now - timedelta(seconds=timeout_s))
            .values(state=FAILED, finished_at=now,
                    detail=f"no result from the robot within {timeout_s:g} s of its "
                           "acknowledgement")).rowcount


def queued_for_offline(database: Database) -> int:
    """RECEIVED, unexpired commands whose robot is offline (or gone): mc_robot_commands_queued."""
    online = exists().where(Robot.id == TABLE.c.robot_id, Robot.online == true())
    with database.autocommit() as connection:
        return connection.scalar(select(func.count()).select_from(TABLE)
                                 .where(QUEUED, TABLE.c.expires_at > utcnow(), ~online)) or 0

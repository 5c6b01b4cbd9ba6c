"""robot-server's side of the uplink protocol: the receiver of mission_control.uplink_routes.

A command's ``target`` must be a robot of the registry and its ``module_id``, when given, a
module of that robot; it is then checked against the catalog of its kind (``robot``, or
``module`` with a module_id). Accepted commands are queued RECEIVED in ``robot_commands``
until the robot acknowledges them (delivery.py) or COMMAND_TTL_S passes (FAILED "expired").
The transaction that stores them sends NOTIFY robot_commands with each robot's id on
PostgreSQL (wakeup.py); this process wakes its own polls at once on either database.
Nothing here knows about HTTP.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Callable, Iterable

from sqlalchemy import select, text

from mission_control import metrics
from mission_control.db import Database
from mission_control.registry_models import Module, Robot
from mission_control.robot_models import RobotCommand
from mission_control.timeutil import utcnow
from mission_control.uplink_checks import Refused, catalog_checked
from mission_control.uplink_schemas import (
    Acknowledgement, CommandReport, Incoming, UplinkRequest,
)
from mission_control.uplink_store import acknowledgements, read_reports, store_receipts

from .wakeup import CHANNEL

log = logging.getLogger(__name__)

TABLE = RobotCommand.__table__
RECEIVED, FAILED = "RECEIVED", "FAILED"
EXPIRED = "expired"
NOTIFY_EACH = text("SELECT pg_notify(:channel, robot_id) "
                   "FROM unnest(CAST(:robot_ids AS text[])) AS robot_id")
COMMANDS_RECEIVED = metrics.counter("mc_robot_commands_received_total",
                                    "Commands robot-server queued for robots (re-sends not "
                                    "counted)")


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value is not None else None
    except ValueError:
        return None


class CommandQueue:
    """The robots' commands on one database; safe to share between threads."""

    def __init__(self, database: Database, ttl_s: float,
                 on_stored: Callable[[Iterable[str]], None] | None = None) -> None:
        self.database = database
        self.ttl_s = ttl_s
        self.on_stored = on_stored

    def check(self, commands: list[UplinkRequest]) -> list[Incoming | Refused]:
        """Each command's target (a robot; its module) and then the catalog, in order; the
        robots and modules of the whole call are read with two SELECTs."""
        robot_ids = {_uuid(c.target) for c in commands} - {None}
        module_ids = {_uuid(c.module_id) for c in commands} - {None}
        with self.database.autocommit() as connection:
            robots = set(connection.scalars(select(Robot.id).where(Robot.id.in_(robot_ids)))) \
                if robot_ids else set()
            modules = dict(connection.execute(
                select(Module.id, Module.robot_id).where(Module.id.in_(module_ids))).all()) \
                if module_ids else {}
        answers: list[Incoming | Refused] = []
        for body in commands:
            try:
                answers.append(self._checked(body, robots, modules))
            except Refused as refused:
                answers.append(refused)
        return answers

    @staticmethod
    def _checked(body: UplinkRequest, robots: set[uuid.UUID],
                 modules: dict[uuid.UUID, uuid.UUID]) -> Incoming:
        if body.target is None:
            raise Refused("unknown_target", "robot-server needs target: the id of the robot "
                          "the command is for", fields=[{"field": "target",
                                                         "message": "required"}])
        robot_id = _uuid(body.target)
        if robot_id not in robots:
            raise Refused("unknown_target", f"no robot with id {body.target!r}",
                          fields=[{"field": "target", "message": "not a robot of the registry"}])
        if body.module_id is not None:
            if modules.get(_uuid(body.module_id)) != robot_id:
                raise Refused("unknown_target",
                              f"robot {body.target} has no module {body.module_id!r}",
                              fields=[{"field": "module_id",
                                       "message": "not a module of this robot"}])
            return catalog_checked("module", body)
        return catalog_checked("robot", body)

    def receive(self, commands: list[Incoming]) -> dict[str, Acknowledgement]:
        """Queue new commands and count one more receipt of known ones, in one statement;
        each id's acknowledgement. The ids must be unique within the call."""
        now = utcnow()
        expires_at = now + timedelta(seconds=self.ttl_s)
        rows = [{"id": c.id, "robot_id": uuid.UUID(c.target), "module_id": _uuid(c.module_id),
                 "command_name": c.command_name, "args": c.args, "confirmed_by": c.confirmed_by,
                 "state": RECEIVED, "executions": 0, "receipts": 1, "deliveries": 0,
                 "received_at": now, "expires_at": expires_at}
                for c in commands]
        with self.database.begin() as connection:
            stored = store_receipts(connection, TABLE, rows, TABLE.c.robot_id)
            woken = sorted({str(row.robot_id) for row in stored if row.receipts == 1})
            if woken and self.database.is_postgresql:
                # Delivered with the commit, to every robot-server process that listens.
                # One statement with one array parameter however many robots: a select
                # of one pg_notify per robot cost more to build than to run.
                connection.execute(NOTIFY_EACH, {"channel": CHANNEL, "robot_ids": woken})
        new = sum(row.receipts == 1 for row in stored)
        COMMANDS_RECEIVED.inc(new)
        log.info("queued %d commands for %d robots (%d re-sent)", new, len(woken),
                 len(stored) - new)
        if woken and self.on_stored is not None:
            self.on_stored(woken)
        return acknowledgements(stored)

    def reports(self, command_ids: list[str]) -> dict[str, CommandReport]:
        """The known commands among ``command_ids``, by id. A RECEIVED command past its
        expiry is reported FAILED "expired" even before the sweeper writes it so."""
        now = utcnow()
        with self.database.autocommit() as connection:
            rows = read_reports(connection, TABLE, command_ids, TABLE.c.expires_at)
        reports = {}
        for row in rows:
            fields = row._asdict()
            expires_at = fields.pop("expires_at")
            if fields["state"] == RECEIVED and expires_at <= now:
                fields.update(state=FAILED, detail=EXPIRED, finished_at=expires_at)
            reports[row.id] = CommandReport(**fields)
        return reports

"""robot-server's command routes for robots (docs/robot-server.md): the long poll for pending
commands, the acknowledgement that starts one (at most once), its progress (docs/progress.md)
and its result. Each call carries
the robot's session token, checked against the path's robot as heartbeats are."""

from __future__ import annotations

import random
import time
import uuid

from flask import Blueprint, current_app

from mission_control import access
from mission_control.uplink_schemas import is_valid_id
from mission_control.web import ApiError, error_response, parse_body, parse_query

from . import delivery, progress, sessions
from .api import database, robot_id_of, settings
from .schemas import AckOut, PollOut, PollQuery, ProgressOut, ProgressRequest, ResultRequest
from .wakeup import RECHECK_S, Listener, Waiters

bp = Blueprint("robot_commands", __name__)
# An empty long poll ends between this fraction of its wait and the whole of it, at random: a
# fleet started together (or reconnected together after a restart) would otherwise renew its
# polls in the same second every ``wait`` seconds, a burst of requests that held up heartbeats
# (bench/README.md, the fleet phase). Spread out, the renewals drift apart over the cycles.
EMPTY_END_FRACTION = 0.8


def _authenticated(robot_id: str) -> uuid.UUID:
    parsed = robot_id_of(robot_id)
    sessions.authenticate(database(), parsed, settings().robot_session_ttl_s)
    return parsed


def _commands() -> delivery.RobotCommands:
    return current_app.extensions["robot_commands"]


def _command_id(robot_id: uuid.UUID, raw: str) -> str:
    if not is_valid_id(raw):  # no command has such an id (nor can the database hold it)
        raise delivery.UnknownCommand(f"robot {robot_id} has no command {raw[:64]!r}")
    return raw


@bp.errorhandler(delivery.UnknownCommand)
def _unknown(error: delivery.UnknownCommand):
    return error_response(404, "not_found", str(error))


@bp.errorhandler(delivery.WrongState)
def _wrong_state(error: delivery.WrongState):
    return error_response(409, error.error, error.message, state=error.state)


def _recheck_s() -> float | None:
    """How often a waiting poll looks by itself: never while LISTEN wakes it."""
    listener: Listener | None = current_app.extensions.get("listener")
    return None if listener is not None and listener.connected else RECHECK_S


@bp.get("/robots/<robot_id>/commands")
def poll_commands(robot_id: str):
    """The robot's pending commands; waits up to ``wait`` seconds for one when none is (an
    empty answer comes at a random point of the last fifth of the wait: see
    EMPTY_END_FRACTION)."""
    parsed = _authenticated(robot_id)
    access.routine()
    wait_s = parse_query(PollQuery).wait
    deadline = time.monotonic() + wait_s * random.uniform(EMPTY_END_FRACTION, 1.0)
    waiters: Waiters = current_app.extensions["waiters"]
    with waiters.waiting(str(parsed)) as woken:
        look_first = True
        while True:
            woken.clear()
            commands = _commands().deliver(parsed, look_first=look_first)
            left = deadline - time.monotonic()
            if commands or left <= 0 or waiters.stopped:
                break
            recheck = _recheck_s()
            # woken: a command came for this robot; otherwise (SQLite) just looking again
            look_first = not woken.wait(left if recheck is None else min(left, recheck))
    return PollOut(commands=commands).model_dump(mode="json")


@bp.post("/robots/<robot_id>/commands/<command_id>/ack")
def acknowledge(robot_id: str, command_id: str):
    """Start a command: RECEIVED -> EXECUTING, at most once."""
    parsed = _authenticated(robot_id)
    command_id = _command_id(parsed, command_id)
    _commands().acknowledge(parsed, command_id)
    return AckOut(id=command_id, state="EXECUTING").model_dump(mode="json")


@bp.post("/robots/<robot_id>/commands/<command_id>/result")
def result(robot_id: str, command_id: str):
    """How a command ended: EXECUTED or FAILED, a detail, a module's status after it."""
    parsed = _authenticated(robot_id)
    command_id = _command_id(parsed, command_id)
    body = parse_body(ResultRequest)
    try:
        report = _commands().finish(parsed, command_id, body.status, body.detail,
                                    body.module_status)
    except delivery.NotAModuleCommand as error:
        raise ApiError(422, "validation_error", str(error),
                       fields=[{"field": "module_status", "message": str(error)}]) from None
    return report.model_dump(mode="json")


@bp.post("/robots/<robot_id>/commands/<command_id>/progress")
def report_progress(robot_id: str, command_id: str):
    """How far an EXECUTING command got: percent, phase, items done of total."""
    parsed = _authenticated(robot_id)
    command_id = _command_id(parsed, command_id)
    body = parse_body(ProgressRequest)
    stored = progress.record(database(), parsed, command_id, progress.Report(
        body.percent, body.phase, body.done, body.total))
    return ProgressOut(**vars(stored)).model_dump(mode="json")

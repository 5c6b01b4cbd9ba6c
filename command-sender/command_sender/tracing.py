"""The worker's log lines that follow a command: its transitions and the uplink calls that
carry it, each with the command's request id (the X-Request-ID it was created with on ground),
so one command can be followed through every service's log (docs/observability.md)."""

from __future__ import annotations

import logging
from typing import Iterable

from mission_control.logs import new_request_id
from mission_control.status import Status

from .claims import Claimed

log = logging.getLogger("command_sender")


def fields(command: Claimed, worker_id: str | None = None) -> dict[str, str | None]:
    """The ids of a log line about ``command``."""
    return {"command_id": str(command.id), "request_id": command.request_id,
            "worker_id": worker_id}


def log_transition(command: Claimed, from_status: Status, to_status: Status,
                   reason: str | None, worker_id: str) -> None:
    log.info("command %s %s -> %s%s", command.id, from_status, to_status,
             f" ({reason})" if reason else "", extra=fields(command, worker_id))


def uplink_request_id(what: str, commands: Iterable[Claimed]) -> str:
    """The X-Request-ID of an uplink call (``what``: its method and path) about ``commands``:
    a single command's own request id; for several (or one created without an id), a new id,
    and one line naming each command id the call carries with its request id."""
    commands = list(commands)
    if len(commands) == 1 and commands[0].request_id:
        return commands[0].request_id
    request_id = new_request_id()
    log.info("uplink %s carries %d commands", what, len(commands), extra={
        "request_id": request_id,
        "commands": {str(c.id): c.request_id for c in commands}})
    return request_id

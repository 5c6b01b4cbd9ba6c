"""Test helpers shared by every suite (factories); imported by tests, never by services."""
from __future__ import annotations

import uuid

from mission_control import lifecycle
from mission_control.db import Database
from mission_control.lifecycle import Status
from mission_control.models import SPACECRAFT_TARGET_ID, Telecommand
from mission_control.timeutil import utcnow


def gen_command(database: Database, *, status: Status = Status.READY, command_name: str = "PING",
                args: dict | None = None, due_now: bool = False) -> uuid.UUID:
    """Insert a command directly in ``status`` (history opened), bypassing the API."""
    now = utcnow()
    command_id = uuid.uuid4()
    with database.transaction() as session:
        session.add(Telecommand(id=command_id, target_id=SPACECRAFT_TARGET_ID,
                                command_name=command_name, args=args or {}, status=status.value,
                                operator="tester", created_at=now, updated_at=now,
                                due_at=now if due_now else None))
        session.flush()
        lifecycle.record_creation(session, command_id, actor="tester", at=now)
    return command_id

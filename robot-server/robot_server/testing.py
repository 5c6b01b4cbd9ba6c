"""Helpers of robot-server's tests (unit and e2e): robots written to the registry's tables
as registry-api would, session, heartbeat and uplink calls."""

from __future__ import annotations

import uuid
from typing import Any

from mission_control.db import Database
from mission_control.registry_models import Module, Robot
from mission_control.testing import cheap_hash

PASSWORD = "robot password 1"
UPLINK_KEY = "test-uplink-key-" + uuid.uuid4().hex


def add_robot(database: Database, name: str = "r1", *, password: str | None = PASSWORD,
              modules: int = 0) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A robot (and ``modules`` modules of it) as registry-api stores them."""
    robot_id = uuid.uuid4()
    module_ids = [uuid.uuid4() for _ in range(modules)]
    with database.transaction() as session:
        session.add(Robot(id=robot_id, name=name, owner="o", owner_email="o@example.com",
                          password_hash=cheap_hash(password) if password else None))
        session.flush()
        session.add_all(Module(id=m, robot_id=robot_id, name=f"m{i}", type="arm")
                        for i, m in enumerate(module_ids))
    return robot_id, module_ids


def open_session(client, robot_id: uuid.UUID, password: str = PASSWORD):
    return client.post(f"/robots/{robot_id}/session", json={"password": password})


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(client, robot_id: uuid.UUID) -> str:
    response = open_session(client, robot_id)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["token"]


def beat(status: str = "IDLE", modules: list | None = None, **extra: Any) -> dict[str, Any]:
    return {"status": status, "modules": modules or [], **extra}


def uplink_command(robot_id: uuid.UUID | str, command_name: str = "PING",
                   args: dict[str, Any] | None = None, module_id: uuid.UUID | str | None = None,
                   **extra: Any) -> dict[str, Any]:
    """The body of POST /commands as the command-sender sends it for a robot (a module's
    command names the robot as target and the module as module_id)."""
    return {"id": str(uuid.uuid4()), "command_name": command_name, "args": args or {},
            "target": str(robot_id), "module_id": str(module_id) if module_id else None,
            "confirmed_by": None, **extra}

"""A robot's `connection` (online|offline), written by robot-server and shown read-only."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from mission_control.registry_models import Robot
from mission_control.testing import assert_error

PREFIX = "/api/v1"


def test_a_robot_is_offline_until_robot_server_marks_it_online(client, registry, database):
    robot = registry.robot()
    assert robot["connection"] == "offline"
    with database.begin() as connection:
        connection.execute(update(Robot).where(Robot.id == uuid.UUID(robot["id"]))
                           .values(online=True))
    assert client.get(f"{PREFIX}/robots/{robot['id']}").get_json()["connection"] == "online"
    (listed,) = client.get(f"{PREFIX}/robots").get_json()["items"]
    assert listed["connection"] == "online"


def test_connection_is_read_only(client, registry):
    robot = registry.robot()
    assert_error(client.patch(f"{PREFIX}/robots/{robot['id']}", json={"connection": "online"}),
                 422)
    assert client.get(f"{PREFIX}/robots/{robot['id']}").get_json()["connection"] == "offline"


def test_the_document_shows_connection_in_robot_out_only(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schemas["RobotOut"]["properties"]["connection"]["enum"] == ["online", "offline"]
    assert "connection" not in schemas["RobotIn"]["properties"]
    assert "connection" not in schemas["RobotPatch"]["properties"]

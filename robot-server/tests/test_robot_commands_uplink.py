"""The uplink protocol on robot-server: the key, which targets it takes (a robot of the
registry; a module of that robot), the robot and module catalogs, batches, idempotence and
the reports the command-sender reads."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from mission_control.robot_models import RobotCommand
from mission_control.testing import assert_error
from robot_server.testing import add_robot, uplink_command


def stored(database) -> int:
    with database.autocommit() as connection:
        return connection.scalar(select(func.count()).select_from(RobotCommand))


def test_the_uplink_needs_the_key(client, uplink, robot):
    body = uplink_command(robot[0])
    assert_error(client.post("/commands", json=body), 401)
    assert_error(client.post("/commands", json=body,
                             headers={"Authorization": "Bearer not-the-key"}), 401)
    assert_error(client.get(f"/commands/{body['id']}"), 401)
    assert_error(client.post("/commands/query", json={"ids": [body["id"]]}), 401)
    assert uplink.post("/commands", json=body).status_code == 202


def test_a_command_for_a_robot_is_queued_received(uplink, robot, database):
    body = uplink_command(robot[0], "MOVE_TO", {"x": 1, "y": 2.5, "z": 0})
    answer = uplink.post("/commands", json=body)
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["state"] == "RECEIVED" and answer.get_json()["acknowledged"]
    report = uplink.get(f"/commands/{body['id']}").get_json()
    assert (report["state"], report["executions"], report["receipts"]) == ("RECEIVED", 0, 1)
    with database.autocommit() as connection:
        row = connection.execute(select(RobotCommand)).one()
    assert row.robot_id == robot[0] and row.module_id is None
    assert row.args == {"x": 1.0, "y": 2.5, "z": 0.0}
    assert (row.expires_at - row.received_at).total_seconds() == 300


def test_a_re_sent_command_is_stored_once(uplink, robot, database):
    body = uplink_command(robot[0])
    first = uplink.post("/commands", json=body).get_json()
    again = uplink.post("/commands", json=body).get_json()
    assert again["received_at"] == first["received_at"]
    assert uplink.get(f"/commands/{body['id']}").get_json()["receipts"] == 2
    assert stored(database) == 1


def test_commands_for_unknown_robots_or_modules_are_refused(uplink, robot, database):
    other_robot, other_modules = add_robot(database, "r2", modules=1)
    cases = [
        (uplink_command(uuid.uuid4()), "target"),
        (uplink_command("not-a-uuid"), "target"),
        (uplink_command(robot[0], target=None), "target"),
        (uplink_command(robot[0], "START", module_id=uuid.uuid4()), "module_id"),
        (uplink_command(robot[0], "START", module_id=other_modules[0]), "module_id"),
        (uplink_command(robot[0], "START", module_id="garbage"), "module_id"),
    ]
    for body, field in cases:
        refused = assert_error(uplink.post("/commands", json=body), 422, "unknown_target")
        assert refused["fields"][0]["field"] == field, body
    assert stored(database) == 0


def test_each_kind_has_its_catalog_and_hazards_need_confirmation(uplink, robot, database):
    robot_id, modules = robot
    refused = assert_error(uplink.post("/commands", json=uplink_command(robot_id, "START")),
                           422, "invalid_command")
    assert "START" in refused["message"] and "MOVE_TO" in refused["allowed"]
    assert_error(uplink.post("/commands", json=uplink_command(robot_id, "MOVE_TO",
                                                              module_id=modules[0])),
                 422, "invalid_command")
    assert_error(uplink.post("/commands", json=uplink_command(robot_id, "SET_SPEED",
                                                              {"speed_m_s": 3})),
                 422, "invalid_command")
    unconfirmed = assert_error(uplink.post("/commands", json=uplink_command(robot_id, "REBOOT")),
                               422, "invalid_command")
    assert unconfirmed["fields"][0]["field"] == "confirmed_by"
    for body in (uplink_command(robot_id, "REBOOT", confirmed_by="alice"),
                 uplink_command(robot_id, "START", module_id=modules[0]),
                 uplink_command(robot_id, "SET_SPEED", {"speed_m_s": 1.5})):
        assert uplink.post("/commands", json=body).status_code == 202, body
    assert stored(database) == 3


def test_a_batch_refuses_only_the_commands_it_cannot_take(uplink, robot, database):
    robot_id, modules = robot
    good = uplink_command(robot_id)
    no_robot = uplink_command(uuid.uuid4())
    bad_command = uplink_command(robot_id, "NOPE")
    module = uplink_command(robot_id, "RESET", module_id=modules[1])
    answer = uplink.post("/commands", json={"commands": [good, no_robot, bad_command, module]})
    assert answer.status_code == 202
    items = answer.get_json()["acknowledgements"]
    assert [item["acknowledged"] for item in items] == [True, False, False, True]
    assert (items[1]["error"], items[2]["error"]) == ("unknown_target", "invalid_command")
    query = uplink.post("/commands/query", json={"ids": [good["id"], no_robot["id"]]})
    assert [c["id"] for c in query.get_json()["commands"]] == [good["id"]]
    assert query.get_json()["unknown"] == [no_robot["id"]]
    assert stored(database) == 2
    assert_error(uplink.get(f"/commands/{no_robot['id']}"), 404)

"""The robot's side of its commands: the poll, the acknowledgement (at most once), the result
(a module's status into the registry), expiry, and the 429 when password checks are busy."""

from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import timedelta

from sqlalchemy import select, update

from mission_control import passwords
from mission_control.registry_models import Module
from mission_control.robot_models import RobotCommand
from mission_control.settings import get_settings
from mission_control.testing import assert_error
from mission_control.timeutil import utcnow
from robot_server.testing import (
    UPLINK_KEY, add_robot, auth, open_session, token_of, uplink_command,
)


def send(uplink, robot_id, *args, **kwargs) -> dict:
    body = uplink_command(robot_id, *args, **kwargs)
    answer = uplink.post("/commands", json=body)
    assert answer.status_code == 202, answer.get_json()
    return body


def poll(client, robot_id, token, wait="0"):
    return client.get(f"/robots/{robot_id}/commands?wait={wait}", headers=auth(token))


def ack(client, robot_id, token, command_id):
    return client.post(f"/robots/{robot_id}/commands/{command_id}/ack", headers=auth(token))


def result(client, robot_id, token, command_id, **body):
    return client.post(f"/robots/{robot_id}/commands/{command_id}/result", headers=auth(token),
                       json={"status": "EXECUTED", **body})


def row(database, command_id) -> RobotCommand:
    with database.transaction() as session:
        return session.get_one(RobotCommand, command_id)


def expire_now(database, command_id) -> None:
    with database.transaction() as session:
        session.execute(update(RobotCommand).where(RobotCommand.id == command_id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))


def test_a_command_goes_from_poll_to_ack_to_executed(client, uplink, robot, database):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    first = send(uplink, robot_id, "MOVE_TO", {"x": 1, "y": 2, "z": 3})
    second = send(uplink, robot_id, "PING")
    polled = poll(client, robot_id, token)
    assert polled.status_code == 200
    assert polled.get_json()["commands"] == [
        {"id": first["id"], "command_name": "MOVE_TO", "args": {"x": 1.0, "y": 2.0, "z": 3.0},
         "module_id": None},
        {"id": second["id"], "command_name": "PING", "args": {}, "module_id": None}]
    started = ack(client, robot_id, token, first["id"])
    assert started.status_code == 200
    assert started.get_json() == {"id": first["id"], "state": "EXECUTING"}
    assert uplink.get(f"/commands/{first['id']}").get_json()["state"] == "EXECUTING"
    done = result(client, robot_id, token, first["id"], detail="arrived")
    assert done.status_code == 200
    report = done.get_json()
    assert (report["state"], report["detail"], report["executions"]) == \
        ("EXECUTED", "arrived", 1)
    assert uplink.get(f"/commands/{first['id']}").get_json() == report
    assert row(database, first["id"]).acknowledged_at is not None
    # The second was delivered, never acknowledged: the next poll delivers it again.
    assert [c["id"] for c in poll(client, robot_id, token).get_json()["commands"]] == \
        [second["id"]]
    assert row(database, second["id"]).deliveries == 2


def test_a_command_is_acknowledged_once_and_reported_once(client, uplink, robot):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    body = send(uplink, robot_id)
    assert ack(client, robot_id, token, body["id"]).status_code == 200
    twice = assert_error(ack(client, robot_id, token, body["id"]), 409, "already_acknowledged")
    assert twice["state"] == "EXECUTING"
    assert result(client, robot_id, token, body["id"], status="FAILED",
                  detail="motor stalled").status_code == 200
    assert assert_error(ack(client, robot_id, token, body["id"]), 409, "finished")["state"] == \
        "FAILED"
    assert_error(result(client, robot_id, token, body["id"]), 409, "finished")
    report = uplink.get(f"/commands/{body['id']}").get_json()
    assert (report["state"], report["detail"], report["executions"]) == \
        ("FAILED", "motor stalled", 1)


def test_a_result_before_the_acknowledgement_is_refused(client, uplink, robot):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    body = send(uplink, robot_id)
    refused = assert_error(result(client, robot_id, token, body["id"]), 409, "not_acknowledged")
    assert refused["state"] == "RECEIVED"


def test_a_module_command_writes_the_modules_status(client, uplink, robot, database):
    robot_id, modules = robot
    token = token_of(client, robot_id)
    body = send(uplink, robot_id, "START", module_id=modules[0])
    polled = poll(client, robot_id, token).get_json()["commands"]
    assert polled[0]["module_id"] == str(modules[0])
    ack(client, robot_id, token, body["id"])
    assert result(client, robot_id, token, body["id"], module_status="RUNNING").status_code == 200
    with database.autocommit() as connection:
        statuses = dict(connection.execute(select(Module.id, Module.status)
                                           .where(Module.robot_id == robot_id)).all())
    assert statuses == {modules[0]: "RUNNING", modules[1]: "IDLE"}
    assert row(database, body["id"]).module_status_after == "RUNNING"


def test_a_module_status_for_a_robots_own_command_is_refused(client, uplink, robot, database):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    body = send(uplink, robot_id, "DOCK")
    ack(client, robot_id, token, body["id"])
    refused = assert_error(result(client, robot_id, token, body["id"], module_status="IDLE"),
                           422)
    assert refused["fields"][0]["field"] == "module_status"
    assert row(database, body["id"]).state == "EXECUTING"
    for bad in ({"status": "DONE"}, {"status": "EXECUTED", "detail": "x" * 501},
                {"status": "EXECUTED", "detail": "bell\x07"}, {"status": "EXECUTED", "extra": 1}):
        assert_error(client.post(f"/robots/{robot_id}/commands/{body['id']}/result",
                                 headers=auth(token), json=bad), 422)


def test_another_robots_token_or_command_is_refused(client, uplink, robot, database):
    robot_id = robot[0]
    other_id, _ = add_robot(database, "r2")
    token, other_token = token_of(client, robot_id), token_of(client, other_id)
    body = send(uplink, robot_id)
    assert_error(poll(client, robot_id, other_token), 403, "forbidden")
    assert_error(ack(client, robot_id, other_token, body["id"]), 403, "forbidden")
    assert_error(client.get(f"/robots/{robot_id}/commands?wait=0"), 401, "unauthorized")
    # The other robot, with its own token, cannot see or start this robot's command.
    assert poll(client, other_id, other_token).get_json() == {"commands": []}
    assert_error(ack(client, other_id, other_token, body["id"]), 404, "not_found")
    assert_error(ack(client, robot_id, token, "no-such-command"), 404, "not_found")
    assert_error(ack(client, robot_id, token, "x" * 65), 404, "not_found")
    assert row(database, body["id"]).state == "RECEIVED"


def test_the_wait_must_be_0_to_30_seconds(client, robot):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    for bad in ("31", "-1", "abc", "nan", "inf", "1&wait=2", "1&other=2"):
        assert_error(poll(client, robot_id, token, bad), 422, "validation_error")
    assert poll(client, robot_id, token, "0.2").get_json() == {"commands": []}


def test_an_empty_poll_ends_at_a_random_point_of_the_last_fifth_of_its_wait(
        client, robot, monkeypatch):
    """Renewals of a fleet's polls spread out: an empty poll of wait W ends between 0.8 W and
    W, drawn at random each time (here: forced to each end of that range)."""
    from robot_server import commands_api

    robot_id = robot[0]
    token = token_of(client, robot_id)
    drawn = []
    for fraction in (0.8, 1.0):
        monkeypatch.setattr(commands_api.random, "uniform",
                            lambda low, high, f=fraction: drawn.append((low, high)) or f)
        started = time.monotonic()
        assert poll(client, robot_id, token, "1").get_json() == {"commands": []}
        took = time.monotonic() - started
        assert fraction - 0.05 <= took < fraction + 0.5, (fraction, took)
    assert drawn == [(0.8, 1.0), (0.8, 1.0)]


def test_an_expired_command_fails_and_is_never_delivered(client, make_app, robot, database):
    robot_id = robot[0]
    app = make_app(command_ttl_s=60)
    client, uplink = app.test_client(), app.test_client()
    uplink.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {UPLINK_KEY}"
    token = token_of(client, robot_id)
    body = send(uplink, robot_id)
    assert (row(database, body["id"]).expires_at - row(database, body["id"]).received_at) == \
        timedelta(seconds=60)
    expire_now(database, body["id"])
    report = uplink.get(f"/commands/{body['id']}").get_json()
    assert (report["state"], report["detail"]) == ("FAILED", "expired")
    assert poll(client, robot_id, token).get_json() == {"commands": []}
    assert assert_error(ack(client, robot_id, token, body["id"]), 409, "expired")["state"] == \
        "FAILED"
    app.extensions["sweeper"].run_once()
    stored = row(database, body["id"])
    assert (stored.state, stored.detail, stored.executions) == ("FAILED", "expired", 0)
    assert_error(ack(client, robot_id, token, body["id"]), 409, "expired")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "mc_robot_commands_expired_total" in metrics


def test_a_command_acknowledged_but_never_reported_fails_after_the_result_timeout(
        make_app, robot, database):
    robot_id = robot[0]
    app = make_app(robot_result_timeout_s=120)
    client, uplink = app.test_client(), app.test_client()
    uplink.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {UPLINK_KEY}"
    token = token_of(client, robot_id)
    running, lost = send(uplink, robot_id, "PING"), send(uplink, robot_id, "DOCK")
    for body in (running, lost):
        assert ack(client, robot_id, token, body["id"]).status_code == 200
    with database.transaction() as session:  # the robot crashed 2 minutes after its ack
        session.execute(update(RobotCommand).where(RobotCommand.id == lost["id"])
                        .values(acknowledged_at=utcnow() - timedelta(seconds=121)))

    app.extensions["sweeper"].run_once()

    report = uplink.get(f"/commands/{lost['id']}").get_json()
    assert report["state"] == "FAILED" and "no result from the robot within 120 s" in \
        report["detail"]
    assert row(database, running["id"]).state == "EXECUTING"  # still within its time
    assert assert_error(result(client, robot_id, token, lost["id"]), 409)["state"] == "FAILED"


def test_commands_queued_for_an_offline_robot_are_counted(client, uplink, robot):
    robot_id = robot[0]
    send(uplink, robot_id)
    send(uplink, robot_id)
    assert "mc_robot_commands_queued 2.0" in client.get("/metrics").get_data(as_text=True)
    token = token_of(client, robot_id)
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json={"status": "IDLE"}).status_code == 200
    assert "mc_robot_commands_queued 0.0" in client.get("/metrics").get_data(as_text=True)


def test_a_session_that_finds_no_hashing_slot_is_429_with_retry_after(client, robot,
                                                                      monkeypatch):
    monkeypatch.setattr(passwords, "WAIT_S", 0.2)
    with ExitStack() as stack:
        for _ in range(get_settings().max_concurrent_hashes):
            stack.enter_context(passwords._turn())
        busy = open_session(client, robot[0])
        assert_error(busy, 429, "busy")
        assert busy.headers["Retry-After"] == "1"
    assert open_session(client, robot[0]).status_code == 201

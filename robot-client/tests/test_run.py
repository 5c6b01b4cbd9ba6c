"""``robot-client run`` against real registry-api and robot-server processes: the robot comes
online, its listener takes its modules' statuses (and only theirs) into the next heartbeat,
Ctrl-C closes the session (offline at once); robot-server stopped and started again: the
client keeps trying and the robot comes back online."""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from datetime import timedelta

import requests
from sqlalchemy import select, update

from mission_control.robot_models import RobotSession
from mission_control.timeutil import utcnow

from robot_server import presence
from robot_client.testing import (
    INTERVAL_S, PASSWORD, create_module, create_robot, interrupt, registry_get, start_robot,
)
from tests.e2e.harness import free_port, wait_for


def online(system, robot_id: str) -> bool:
    return registry_get(system, "robots", robot_id)["connection"] == "online"


def test_a_running_robot_is_online_reports_its_modules_and_leaves_on_ctrl_c(services, tmp_path):
    port = free_port()
    robot = create_robot(services, ip_address="127.0.0.1", port=port)
    module = create_module(services, robot["id"])
    other = create_module(services, create_robot(services)["id"])
    log_path = tmp_path / "robot.log"
    process = start_robot(services, robot["id"], log_path)
    try:
        wait_for(lambda: online(services, robot["id"]), timeout=20, message="robot online")
        listener = f"http://127.0.0.1:{port}/modules/status"
        sent = requests.post(listener, timeout=10,
                             json={"module_id": module["id"], "status": "RUNNING"})
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "RUNNING" and sent.json()["last_online"]
        wait_for(lambda: registry_get(services, "modules", module["id"])["status"] == "RUNNING",
                 timeout=10, message="the module RUNNING in the registry")

        refused = requests.post(listener, timeout=10,
                                json={"module_id": other["id"], "status": "FAILED"})
        assert refused.status_code == 404 and refused.json()["error"] == "not_found"
        bad = requests.post(listener, timeout=10, json={"module_id": "x", "status": "ON"})
        assert bad.status_code == 422
        assert {f["field"] for f in bad.json()["fields"]} == {"module_id", "status"}
        malformed = requests.post(listener, timeout=10, data="{",
                                  headers={"Content-Type": "application/json"})
        assert malformed.status_code == 400 and malformed.json()["error"] == "malformed_json"
        assert requests.post(listener, timeout=10, data="x").status_code == 415
        too_big = requests.post(listener, timeout=10, data="[" + "0," * 40_000 + "0]",
                                headers={"Content-Type": "application/json"})
        assert too_big.status_code == 413 and too_big.json()["error"] == "payload_too_large"
        elsewhere = requests.get(f"http://127.0.0.1:{port}/nothing", timeout=10)
        assert elsewhere.status_code == 404 and elsewhere.json()["error"] == "not_found"
        assert registry_get(services, "modules", other["id"])["status"] == "IDLE"
    finally:
        status = interrupt(process)
    assert status == 0
    assert not online(services, robot["id"])  # the session closed: offline at once
    log = log_path.read_text()
    assert "Traceback" not in log and PASSWORD not in log
    assert "session closed" in log


def test_a_killed_client_is_offline_within_the_timeout_and_comes_back(services, database,
                                                                        tmp_path):
    """kill -9: no session closed, no goodbye; the sweeper notices the silence within
    HEARTBEAT_TIMEOUT_S (3 x the 0.3 s interval) + 1 s, with a timeout event."""
    robot = create_robot(services)
    log_path = tmp_path / "robot.log"
    process = start_robot(services, robot["id"], log_path)
    wait_for(lambda: online(services, robot["id"]), timeout=20, message="robot online")
    killed_at = time.monotonic()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)
    wait_for(lambda: not online(services, robot["id"]), timeout=10, interval=0.05,
             message="robot offline after kill -9")
    took = time.monotonic() - killed_at
    timeout_s = 3 * float(INTERVAL_S)
    assert took <= timeout_s + 1.0 + 0.5, f"offline {took:.2f} s after kill -9"  # + polling slack

    again = start_robot(services, robot["id"], log_path)
    try:
        wait_for(lambda: online(services, robot["id"]), timeout=20, message="back online")
    finally:
        assert interrupt(again) == 0
    events = [event for event, _ in presence.events(database, uuid.UUID(robot["id"]))]
    assert events == ["connect", "timeout", "connect", "disconnect"]


def test_the_client_retries_while_robot_server_is_away_and_comes_back(services, tmp_path):
    robot = create_robot(services)
    log_path = tmp_path / "robot.log"
    process = start_robot(services, robot["id"], log_path, telemetry_buffer_points="3")
    try:
        wait_for(lambda: online(services, robot["id"]), timeout=20, message="robot online")
        services.stop("robot-server")
        wait_for(lambda: "heartbeat failed" in log_path.read_text(), timeout=10,
                 message="the client noticing robot-server is away")
        wait_for(lambda: log_path.read_text().count("heartbeat failed") >= 3, timeout=15,
                 message="the client retrying")
        assert process.poll() is None
        services.start("robot-server")
        services.wait_healthy(services.robot_server_url)
        wait_for(lambda: online(services, robot["id"]), timeout=20,
                 message="robot online again")
        wait_for(lambda: "reached again" in log_path.read_text(), timeout=10,
                 message="the reconnection logged")
        flushed = re.search(r"sent the newest of (\d+) buffered telemetry points \((\d+) "
                            r"dropped while away\)", log_path.read_text())
        assert flushed and int(flushed.group(1)) == 3 and int(flushed.group(2)) > 0
    finally:
        assert interrupt(process) == 0
    assert not online(services, robot["id"])


def test_a_wrong_password_or_an_unknown_robot_ends_the_run_plainly(services, tmp_path):
    robot = create_robot(services)
    log_path = tmp_path / "robot.log"
    process = start_robot(services, robot["id"], log_path, robot_password="not " + uuid.uuid4().hex)
    assert process.wait(30) == 1
    unknown = start_robot(services, str(uuid.uuid4()), log_path)
    assert unknown.wait(30) == 1
    log = log_path.read_text()
    assert "refused the robot's password" in log and "knows no robot with this id" in log
    assert "Traceback" not in log


def test_a_session_that_lapses_is_replaced_by_a_new_one(services, database, tmp_path):
    robot = create_robot(services)
    robot_id = uuid.UUID(robot["id"])
    log_path = tmp_path / "robot.log"
    process = start_robot(services, robot["id"], log_path)
    try:
        wait_for(lambda: online(services, robot["id"]), timeout=20, message="robot online")
        with database.transaction() as session:  # as if ROBOT_SESSION_TTL_S had passed
            session.execute(update(RobotSession).where(RobotSession.robot_id == robot_id)
                            .values(expires_at=utcnow() - timedelta(seconds=1)))
        wait_for(lambda: len(sessions_of(database, robot_id)) == 2, timeout=10,
                 message="a second session")
        wait_for(lambda: "opening a new one" in log_path.read_text(), timeout=10,
                 message="the new session logged")
        assert online(services, robot["id"])
    finally:
        assert interrupt(process) == 0
    assert [s.closed_at is not None for s in sessions_of(database, robot_id)] == [False, True]


def sessions_of(database, robot_id: uuid.UUID) -> list:
    with database.autocommit() as connection:
        return connection.execute(select(RobotSession).where(RobotSession.robot_id == robot_id)
                                  .order_by(RobotSession.id)).all()

"""robot-server as a real gunicorn process beside registry-api: a robot the admin created with
a password opens a session, heart-beats, shows online in the registry, falls silent and is
offline within HEARTBEAT_TIMEOUT_S + 1 s (a timeout event, found by the sweeper with no
request arriving), then comes back."""

import time
import uuid

import pytest
import requests
from sqlalchemy import select

from mission_control.robot_models import RobotConnectionEvent

from .harness import wait_for
from .robots import robot_with_module

PASSWORD = "robot pass " + uuid.uuid4().hex[:8]
TIMEOUT_S = 1.5


def events(database, robot_id: uuid.UUID) -> list[str]:
    with database.autocommit() as connection:
        return list(connection.scalars(
            select(RobotConnectionEvent.event).where(RobotConnectionEvent.robot_id == robot_id)
            .order_by(RobotConnectionEvent.at, RobotConnectionEvent.id)))


def registry_robot(system, robot_id: str) -> dict:
    response = requests.get(f"{system.registry_url}/api/v1/robots/{robot_id}", timeout=10,
                            headers=system.headers("viewer"))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.local_only("robot-server is not in the compose stack yet")
def test_a_robot_goes_online_times_out_and_comes_back(system_factory, database):
    system = system_factory(services=("registry-api", "robot-server"),
                            heartbeat_interval_s=0.5)  # timeout 1.5 s
    robot, module = robot_with_module(system, PASSWORD)
    assert robot["connection"] == "offline"
    base = f"{system.robot_server_url}/robots/{robot['id']}"

    assert requests.post(f"{base}/session", json={"password": "wrong"}, timeout=10) \
        .status_code == 401
    opened = requests.post(f"{base}/session", json={"password": PASSWORD}, timeout=10)
    assert opened.status_code == 201, opened.text
    headers = {"Authorization": f"Bearer {opened.json()['token']}"}

    def beat() -> None:
        response = requests.post(f"{base}/heartbeat", headers=headers, timeout=10, json={
            "status": "RUNNING", "modules": [{"module_id": module["id"], "status": "RUNNING"}],
            "telemetry": {"battery": 90, "position": {"x": 1, "y": 2, "z": 0}}})
        assert response.status_code == 200, response.text

    for _ in range(3):
        beat()
        time.sleep(0.3)
    shown = registry_robot(system, robot["id"])
    assert shown["connection"] == "online" and shown["status"] == "RUNNING"
    assert shown["last_online"] is not None

    silent_since = time.monotonic()  # no request from now on: the sweeper alone notices
    wait_for(lambda: registry_robot(system, robot["id"])["connection"] == "offline",
             timeout=TIMEOUT_S + 3, interval=0.05, message="the robot offline")
    assert time.monotonic() - silent_since < TIMEOUT_S + 1 + 0.3  # + the time of one beat
    robot_id = uuid.UUID(robot["id"])
    assert events(database, robot_id) == ["connect", "timeout"]

    beat()  # written with the next HEARTBEAT_FLUSH_S period's heartbeats
    wait_for(lambda: registry_robot(system, robot["id"])["connection"] == "online",
             timeout=2, interval=0.05, message="the robot online again")
    assert requests.delete(f"{base}/session", headers=headers, timeout=10).status_code == 204
    assert registry_robot(system, robot["id"])["connection"] == "offline"
    # The process that closed it refuses it at once, the other worker as soon as the close's
    # NOTIFY reaches it (PostgreSQL; on SQLite no process keeps sessions): within moments.
    def refused() -> bool:  # six in a row, whichever worker answers each
        return all(requests.post(f"{base}/heartbeat", headers=headers, timeout=10,
                                 json={"status": "IDLE"}).status_code == 401 for _ in range(6))

    wait_for(refused, timeout=1, interval=0.05, message="the closed session refused")
    assert events(database, robot_id) == \
        ["connect", "timeout", "connect", "disconnect"]
    metrics = requests.get(f"{system.robot_server_url}/metrics", timeout=10).text
    assert "mc_robots_online 0.0" in metrics
    assert 'mc_robot_sessions_refused_total{reason="wrong_password"} 1.0' in metrics
    for name, text in system.logs().items():  # neither the password nor the token is logged
        assert PASSWORD not in text and opened.json()["token"] not in text, name
    assert "robot-server" in system.logs()["robot-server.log"]

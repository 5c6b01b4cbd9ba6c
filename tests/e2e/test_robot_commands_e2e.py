"""Commands to robots through the whole system: ground, the command-sender and robot-server as
real processes (robot-server under gunicorn's gevent worker), the test playing the robot with
HTTP calls (session, poll, ack, result). Commands for an offline robot wait for it; one whose
COMMAND_TTL_S passes ends FAILED "expired"; a re-sent command runs once; a waiting long poll
is woken by a new command (on PostgreSQL through NOTIFY, whichever process took it)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests

from .harness import wait_for
from .robots import robot_with_module

PASSWORD = "robot pass " + uuid.uuid4().hex[:8]
TTL_S = 4
SERVICES = ("ground", "command-sender", "registry-api", "robot-server")


class PlayedRobot:
    """The test as a robot: its id, its modules and its session's calls."""

    def __init__(self, system, robot_id: str, module_ids: list[str]) -> None:
        self.system, self.id, self.modules = system, robot_id, module_ids
        self.base = f"{system.robot_server_url}/robots/{robot_id}"
        self.headers: dict[str, str] = {}

    def connect(self) -> None:
        opened = requests.post(f"{self.base}/session", json={"password": PASSWORD}, timeout=10)
        assert opened.status_code == 201, opened.text
        self.headers = {"Authorization": f"Bearer {opened.json()['token']}"}

    def poll(self, wait: float = 0) -> list[dict]:
        answer = requests.get(f"{self.base}/commands", params={"wait": wait},
                              headers=self.headers, timeout=wait + 10)
        assert answer.status_code == 200, answer.text
        return answer.json()["commands"]

    def ack(self, command_id: str) -> requests.Response:
        return requests.post(f"{self.base}/commands/{command_id}/ack", headers=self.headers,
                             timeout=10)

    def result(self, command_id: str, **body) -> dict:
        answer = requests.post(f"{self.base}/commands/{command_id}/result",
                               headers=self.headers, json={"status": "EXECUTED", **body},
                               timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()


def a_robot(system) -> PlayedRobot:
    """A robot with one module, created by the admin through registry-api (which makes them
    telecommand targets in the same transaction)."""
    robot, module = robot_with_module(system, PASSWORD)
    return PlayedRobot(system, robot["id"], [module["id"]])


def telecommand(system, robot: PlayedRobot, command_name: str, **body) -> str:
    answer = requests.post(f"{system.ground_url}/api/telecommands", timeout=10,
                           headers=system.headers("operator"),
                           json={"command_name": command_name, "target": robot.id, **body})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def status_of(system, command_id: str) -> dict:
    return requests.get(f"{system.ground_url}/api/telecommands/{command_id}", timeout=10,
                        headers=system.headers("viewer")).json()


def reaches(system, command_id: str, status: str, timeout: float = 20) -> dict:
    return wait_for(lambda: (c := status_of(system, command_id))["status"] == status and c,
                    timeout=timeout, interval=0.1, message=f"{command_id} {status}")


@pytest.fixture
def system(system_factory):
    return system_factory(services=SERVICES, max_transmit_delay_s=0, max_stage_delay_s=0.2,
                          command_ttl_s=TTL_S)


@pytest.mark.local_only("robot-server is not in the compose stack's e2e set yet")
def test_commands_for_an_offline_robot_run_after_it_connects(system):
    robot = a_robot(system)
    move = telecommand(system, robot, "MOVE_TO", args={"x": 1, "y": 2, "z": 0})
    start = telecommand(system, robot, "START", module_id=robot.modules[0])
    for command_id in (move, start):  # robot-server holds them while the robot is offline
        reaches(system, command_id, "ACKNOWLEDGED")
    metrics = requests.get(f"{system.robot_server_url}/metrics", timeout=10).text
    assert "mc_robot_commands_queued 2.0" in metrics

    robot.connect()
    polled = robot.poll()
    # In the order robot-server received them: the command-sender's transmit delays are
    # random, so not necessarily the order they were issued in.
    by_id = {c["id"]: c for c in polled}
    assert sorted(by_id) == sorted([move, start]) and len(polled) == 2
    assert by_id[start]["module_id"] == robot.modules[0] and by_id[move]["module_id"] is None
    for command in polled:
        assert robot.ack(command["id"]).status_code == 200
    robot.result(move, detail="arrived")
    robot.result(start, module_status="RUNNING")
    assert reaches(system, move, "EXECUTED")["status"] == "EXECUTED"
    reaches(system, start, "EXECUTED")
    module = requests.get(f"{system.registry_url}/api/v1/modules/{robot.modules[0]}",
                          headers=system.headers("viewer"), timeout=10).json()
    assert module["status"] == "RUNNING"


@pytest.mark.local_only("needs its own COMMAND_TTL_S")
def test_a_command_nobody_acknowledges_in_time_ends_failed_expired(system):
    robot = a_robot(system)
    command_id = telecommand(system, robot, "DOCK")
    failed = reaches(system, command_id, "FAILED", timeout=TTL_S + 15)
    assert "expired" in str(failed)
    robot.connect()
    assert robot.poll() == []
    assert robot.ack(command_id).status_code == 409


@pytest.mark.local_only("sends to robot-server with the uplink key")
def test_a_command_sent_twice_runs_once_on_the_robot(system):
    robot = a_robot(system)
    robot.connect()
    body = {"id": str(uuid.uuid4()), "command_name": "PING", "args": {}, "target": robot.id}
    for _ in range(2):  # as the command-sender re-sends after a lost acknowledgement
        sent = requests.post(f"{system.robot_server_url}/commands", json=body, timeout=10,
                             headers=system.uplink_headers)
        assert sent.status_code == 202, sent.text
    assert [c["id"] for c in robot.poll()] == [body["id"]]
    acks = [robot.ack(body["id"]).status_code for _ in range(3)]
    assert acks == [200, 409, 409]
    robot.result(body["id"])
    report = requests.get(f"{system.robot_server_url}/commands/{body['id']}", timeout=10,
                          headers=system.uplink_headers).json()
    assert (report["state"], report["executions"], report["receipts"]) == ("EXECUTED", 1, 2)


@pytest.mark.local_only("times robot-server's processes")
def test_a_waiting_long_poll_is_woken_by_a_new_command(system):
    robot = a_robot(system)
    robot.connect()
    woken: list[tuple[float, list[dict]]] = []
    for _ in range(3):  # robot-server runs 2 processes: the command lands on either
        woken.clear()
        waiting = threading.Thread(target=lambda: woken.append((time.monotonic(),
                                                                robot.poll(wait=20))))
        waiting.start()
        time.sleep(0.5)  # the poll is waiting now
        body = {"id": str(uuid.uuid4()), "command_name": "PING", "target": robot.id}
        sent_at = time.monotonic()
        assert requests.post(f"{system.robot_server_url}/commands", json=body, timeout=10,
                             headers=system.uplink_headers).status_code == 202
        waiting.join(25)
        answered_at, commands = woken[0]
        assert [c["id"] for c in commands] == [body["id"]]
        assert answered_at - sent_at < 0.7, answered_at - sent_at
        assert robot.ack(body["id"]).status_code == 200
    if system.env["DATABASE_URL"].startswith("postgresql"):  # woken by NOTIFY, not by looking
        assert system.log("robot-server").count("waiting polls wake on NOTIFY") == 2
        assert "LISTEN robot_commands lost" not in system.log("robot-server")

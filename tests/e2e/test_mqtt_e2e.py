"""Robots over MQTT, end to end: robot-server (gunicorn's gevent worker, MQTT_URL set) and a
real Mosquitto. A ``robot-client run --transport mqtt`` publishing through the machine's broker
at 127.0.0.1:1883 shows up in the registry and in ground's fleet view; on a broker with the
project's password file and ACL, a wrong password is refused, a robot cannot publish under
another robot's id, bad payloads are dropped while the subscriber carries on, and it comes
back after the broker restarts; a fleet publishes through one gateway user, as the compose
stack's demo fleet does."""

from __future__ import annotations

import subprocess
import uuid

import pytest
import requests

from mission_control.metrics_testing import figure
from robot_client.testing import BIN, client_env, interrupt, start_robot

from .harness import wait_for
from .mqtt_broker import Publisher, shared_broker_or_skip, start_broker
from .robots import robot_with_module

PASSWORD = "robot pass " + uuid.uuid4().hex[:8]
SERVER_PASSWORD = "server " + uuid.uuid4().hex
INTERVAL_S = "0.5"


def _registry_robot(system, robot_id: str) -> dict:
    response = requests.get(f"{system.registry_url}/api/v1/robots/{robot_id}", timeout=10,
                            headers=system.headers("viewer"))
    assert response.status_code == 200, response.text
    return response.json()


def _online(system, robot_id: str) -> bool:
    return _registry_robot(system, robot_id)["connection"] == "online"


def _mqtt_messages(system, **labels: str) -> float:
    page = requests.get(f"{system.robot_server_url}/metrics", timeout=10).text
    return figure(page, "mc_robot_mqtt_messages_total", **labels)


def _open_session(system, robot_id: str) -> dict[str, str]:
    opened = requests.post(f"{system.robot_server_url}/robots/{robot_id}/session", timeout=30,
                           json={"password": PASSWORD})
    assert opened.status_code == 201, opened.text
    return {"Authorization": f"Bearer {opened.json()['token']}"}


@pytest.mark.local_only("starts robot-server with MQTT_URL and a robot-client process")
def test_a_robot_publishing_over_mqtt_shows_up_in_the_registry_and_the_fleet_view(
        system_factory, tmp_path):
    shared_broker_or_skip()
    system = system_factory(services=("ground", "registry-api"),
                            heartbeat_interval_s=INTERVAL_S)
    # A group of this test's own: other robot-servers on the machine's broker get none of ours.
    system.start("robot-server", MQTT_URL="mqtt://127.0.0.1:1883",
                 MQTT_SHARE_GROUP=f"e2e-{uuid.uuid4().hex[:12]}")
    system.wait_healthy(system.robot_server_url)
    robot, module = robot_with_module(system, PASSWORD)

    process = start_robot(system, robot["id"], tmp_path / "robot.log", "--transport", "mqtt",
                          robot_password=PASSWORD, mqtt_url="mqtt://127.0.0.1:1883")
    try:
        wait_for(lambda: _online(system, robot["id"]), timeout=30, message="the robot online")
        shown = _registry_robot(system, robot["id"])
        assert shown["status"] == "IDLE" and shown["last_online"] is not None

        def in_fleet_view() -> dict | None:
            """The robot in ground's fleet view, once it shows a battery level: the status
            and the telemetry messages may reach different robot-server workers, each
            writing what it got every HEARTBEAT_FLUSH_S."""
            fleet = requests.get(f"{system.ground_url}/api/fleet", timeout=10,
                                 headers=system.headers("viewer")).json()
            mine = next(r for r in fleet["items"] if r["id"] == robot["id"])
            return mine if mine["battery"] is not None else None

        mine = wait_for(in_fleet_view, timeout=10, message="the robot's battery in the fleet")
        assert mine["connection"] == "online" and 0 <= mine["battery"] <= 100
        assert [m["status"] for m in mine["modules"]] == ["IDLE"]
        assert mine["modules"][0]["id"] == module["id"]
        wait_for(lambda: _mqtt_messages(system, kind="telemetry", outcome="ingested") >= 1,
                 timeout=10, message="telemetry messages counted")
        assert _mqtt_messages(system, kind="status", outcome="ingested") >= 1
        heartbeats = requests.get(f"{system.robot_server_url}/metrics", timeout=10).text
        assert figure(heartbeats, "mc_robot_heartbeats_total") == 0  # none came over HTTP

        def battery_series() -> list | None:  # the telemetry store, read through ground's API
            answer = requests.get(f"{system.ground_url}/api/telemetry", timeout=10,
                                  headers=system.headers("viewer"),
                                  params={"source": robot["id"], "parameter": "battery"})
            assert answer.status_code == 200, answer.text
            return answer.json()["points"] or None

        points = wait_for(battery_series, timeout=10, message="the robot's battery stored")
        assert all(0 <= p["value"] <= 100 for p in points)
    finally:
        assert interrupt(process) == 0, (tmp_path / "robot.log").read_text()
    assert not _online(system, robot["id"])  # Ctrl-C closed the session: offline at once


@pytest.mark.local_only("starts its own Mosquitto and robot-server")
def test_the_password_file_and_acl_keep_robots_to_their_own_topics(system_factory, tmp_path):
    system = system_factory(services=("registry-api",), heartbeat_interval_s=INTERVAL_S)
    alice, _ = robot_with_module(system, PASSWORD)
    bob, _ = robot_with_module(system, PASSWORD)
    broker = start_broker(tmp_path / "mosquitto", {"robot-server": SERVER_PASSWORD,
                                                   alice["id"]: PASSWORD, bob["id"]: PASSWORD})
    publishers: list[Publisher] = []
    try:
        system.start("robot-server", MQTT_URL=broker.url("robot-server", SERVER_PASSWORD))
        system.wait_healthy(system.robot_server_url)
        wait_for(lambda: system.log("robot-server").count("MQTT: connected to") == 2,
                 timeout=15, message="both robot-server workers subscribed")
        for robot in (alice, bob):  # open sessions: robot-server would record either robot
            _open_session(system, robot["id"])

        intruder = Publisher(broker.port, alice["id"], "not the password")
        publishers.append(intruder)
        assert intruder.refusal is not None and "authori" in str(intruder.refusal).lower()
        anonymous = Publisher(broker.port, None, None)
        publishers.append(anonymous)
        assert anonymous.refusal is not None

        robot = Publisher(broker.port, alice["id"], PASSWORD)
        publishers.append(robot)
        assert robot.refusal is None
        assert robot.publish(f"robots/{bob['id']}/status", {"status": "RUNNING"}) == \
            "Not authorized"  # bob's topic: the ACL refuses alice
        for topic, body in (("status", b"\xff not json"), ("telemetry", {"battery": float("nan")}),
                            ("status", {"status": "RUNNING"})):
            assert robot.publish(f"robots/{alice['id']}/{topic}", body) == "Success"

        wait_for(lambda: _online(system, alice["id"]), timeout=15, message="alice online")
        assert _registry_robot(system, alice["id"])["status"] == "RUNNING"
        assert not _online(system, bob["id"])
        expected = {("status", "malformed"): 1, ("telemetry", "invalid"): 1,
                    ("status", "ingested"): 1}  # each message handled by one worker only
        wait_for(lambda: {key: _mqtt_messages(system, kind=key[0], outcome=key[1])
                          for key in expected} == expected, timeout=10,
                 message=f"the messages counted as {expected}")
        log = system.log("robot-server")
        assert "not the password" not in log and SERVER_PASSWORD not in log
        assert "Traceback" not in log

        broker.restart()  # the broker goes away and comes back: robot-server reconnects
        again = Publisher(broker.port, alice["id"], PASSWORD)
        publishers.append(again)

        def failed() -> bool:  # robot-server may still be waiting out its backoff
            again.publish(f"robots/{alice['id']}/status", {"status": "FAILED"})
            return _registry_robot(system, alice["id"])["status"] == "FAILED"

        wait_for(failed, timeout=45, interval=0.5, message="alice FAILED after the restart")
    finally:
        for publisher in publishers:
            publisher.close()
        broker.stop()


@pytest.mark.local_only("starts its own Mosquitto, robot-server and a robot-client fleet")
def test_a_fleet_publishes_through_a_gateway_user_as_the_compose_stack_does(system_factory,
                                                                             tmp_path):
    fleet_password = "fleet " + uuid.uuid4().hex
    broker = start_broker(tmp_path / "mosquitto", {"robot-server": SERVER_PASSWORD,
                                                   "demo-fleet": fleet_password},
                          gateway_users=("demo-fleet",))
    try:
        system = system_factory(services=("registry-api",), heartbeat_interval_s=INTERVAL_S,
                                mqtt_url=broker.url("robot-server", SERVER_PASSWORD))
        system.start("robot-server")
        system.wait_healthy(system.robot_server_url)
        with open(tmp_path / "fleet.log", "ab") as log:
            fleet = subprocess.Popen(
                [str(BIN / "robot-client"), "fleet", "--count", "2", "--prefix", "mq",
                 "--transport", "mqtt"],
                env=client_env(system, mission_token=system.token("admin"),
                               mqtt_url=broker.url("demo-fleet", fleet_password)),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        try:
            def both_online() -> bool:
                robots = requests.get(f"{system.registry_url}/api/v1/robots", timeout=10,
                                      headers=system.headers("viewer")).json()["items"]
                mine = [r for r in robots if r["name"].startswith("mq-")]
                return len(mine) == 2 and all(r["connection"] == "online" for r in mine)

            wait_for(both_online, timeout=40, message="the fleet's two robots online")
            assert _mqtt_messages(system, outcome="ingested") >= 2
        finally:
            interrupt(fleet)
        assert "fleet: stopped" in (tmp_path / "fleet.log").read_text()
    finally:
        broker.stop()

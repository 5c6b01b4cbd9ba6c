"""``robot-client fleet``: N robots in one process come online, registered when missing (one
of that name already in the registry is adopted), their ids kept under var/ so a second
start registers nothing; Ctrl-C closes every session."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import requests

from robot_client.testing import BIN, client_env, create_robot
from tests.e2e.harness import wait_for


def fleet_robots(system, prefix: str) -> dict[str, dict]:
    response = requests.get(f"{system.registry_url}/api/v1/robots", timeout=15,
                            params={"limit": 500}, headers=system.headers("viewer"))
    assert response.status_code == 200, response.text
    return {r["name"]: r for r in response.json()["items"] if r["name"].startswith(prefix)}


def start_fleet(system, count: int, log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [str(BIN / "robot-client"), "fleet", "--count", str(count), "--prefix", "t"],
            env=client_env(system, mission_token=system.token("admin")),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)


def all_online(system, count: int) -> bool:
    robots = fleet_robots(system, "t-")
    return len(robots) == count and all(r["connection"] == "online" for r in robots.values())


def stop(process: subprocess.Popen) -> int:
    os.killpg(process.pid, signal.SIGINT)
    return process.wait(20)


def test_a_fleet_comes_online_and_a_second_start_reuses_its_robots(services, tmp_path):
    adopted = create_robot(services, "t-0002", password="someone else's password")
    log_path = tmp_path / "fleet.log"
    process = start_fleet(services, 3, log_path)
    try:
        wait_for(lambda: all_online(services, 3), timeout=40, message="3 robots online")
        wait_for(lambda: "all 3 sessions open" in log_path.read_text(), timeout=10,
                 message="the progress line")
    finally:
        assert stop(process) == 0
    first = fleet_robots(services, "t-")
    assert sorted(first) == ["t-0001", "t-0002", "t-0003"]
    assert first["t-0002"]["id"] == adopted["id"]
    assert all(r["connection"] == "offline" for r in first.values())  # sessions closed
    var = Path(services.env["VAR_DIR"])
    kept = json.loads((var / "fleet-t.json").read_text())
    assert kept["robots"] == {name: robot["id"] for name, robot in first.items()}
    password = (var / "fleet-t-password").read_text().strip()
    assert oct((var / "fleet-t-password").stat().st_mode & 0o777) == "0o600"

    events_before = requests.get(f"{services.registry_url}/api/v1/events", timeout=15,
                                 params={"limit": 1000},
                                 headers=services.headers("admin")).json()["next"]
    again = start_fleet(services, 3, log_path)
    try:
        wait_for(lambda: all_online(services, 3), timeout=40, message="online again")
    finally:
        assert stop(again) == 0
    assert {n: r["id"] for n, r in fleet_robots(services, "t-").items()} == kept["robots"]
    new_events = requests.get(f"{services.registry_url}/api/v1/events", timeout=15,
                              params={"since": events_before},
                              headers=services.headers("admin")).json()["items"]
    assert new_events == []  # nothing registered or changed the second time
    log = log_path.read_text()
    assert "Traceback" not in log and password not in log


def test_a_demo_fleet_of_named_robots_signs_in_as_the_first_admin(services, tmp_path):
    """make run's demo fleet: the seed's robots by name (one adopted, one registered), the
    first admin's password from the environment, no token given."""
    seeded = create_robot(services, "forklift-9", password="the seed's password")
    log_path = tmp_path / "demo.log"
    env = client_env(services)
    env.pop("MISSION_TOKEN", None)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(BIN / "robot-client"), "fleet", "--names", "forklift-9, picker-9,forklift-9",
             "--prefix", "demo", "--demo"], env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: {n: r["connection"] for n, r in fleet_robots(services, "").items()
                          if n in ("forklift-9", "picker-9")} ==
                 {"forklift-9": "online", "picker-9": "online"}, timeout=40,
                 message="both demo robots online")
    finally:
        assert stop(process) == 0
    assert fleet_robots(services, "forklift-9")["forklift-9"]["id"] == seeded["id"]
    assert "Traceback" not in log_path.read_text()


def test_a_demo_fleet_that_cannot_start_says_why_and_idles_until_stopped(services, tmp_path):
    env = client_env(services, ADMIN_PASSWORD="not the admin's password")
    env.pop("MISSION_TOKEN", None)
    log_path = tmp_path / "demo.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(BIN / "robot-client"), "fleet", "--names", "forklift-1", "--prefix", "demo",
             "--demo"], env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "robot-client: the demo fleet stays off" in log_path.read_text(),
                 timeout=30, message="the reason")
        assert process.poll() is None  # still there: honcho would stop make run otherwise
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        assert process.wait(20) == 0
    assert "Traceback" not in log_path.read_text()

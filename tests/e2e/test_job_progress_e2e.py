"""Job progress through the whole system (docs/progress.md): a real robot-client executes a
MOVE_TO, reports its phases and percent to robot-server (gunicorn) while it drives, and ground
shows them: the command's phases in order, ending arrived at 100 %."""

from __future__ import annotations

import pytest
import requests

from robot_client.testing import create_robot, interrupt, registry_get, start_robot

from .harness import wait_for

SERVICES = ("ground", "command-sender", "registry-api", "robot-server")


@pytest.mark.local_only("starts a robot-client process with its own settings")
def test_a_robot_reports_the_phases_of_a_move(system_factory, tmp_path):
    system = system_factory(services=SERVICES, max_transmit_delay_s=0, max_stage_delay_s=1.5,
                            execution_failure_rate=0, heartbeat_interval_s=0.3,
                            robot_backoff_max_s=1)
    robot = create_robot(system)
    process = start_robot(system, robot["id"], tmp_path / "robot.log")
    try:
        wait_for(lambda: registry_get(system, "robots", robot["id"])["connection"] == "online",
                 timeout=20, message="robot online")
        created = requests.post(f"{system.ground_url}/api/telecommands", timeout=15,
                                headers=system.headers("operator"),
                                json={"command_name": "MOVE_TO", "target": robot["id"],
                                      "args": {"x": 3, "y": 4, "z": 0}})
        assert created.status_code == 201, created.text
        url = f"{system.ground_url}/api/telecommands/{created.json()['id']}"

        def final():
            found = requests.get(url, timeout=15, headers=system.headers("viewer")).json()
            return found if found["status"] in ("EXECUTED", "FAILED") else None

        command = wait_for(final, timeout=30, interval=0.2, message="MOVE_TO final")
    finally:
        assert interrupt(process) == 0
    assert command["status"] == "EXECUTED", command
    progress = command["progress"]
    assert [p["phase"] for p in progress["phases"]] == ["planning", "driving", "arrived"]
    started = [p["started_at"] for p in progress["phases"]]
    assert started == sorted(started)
    assert (progress["phase"], progress["percent"]) == ("arrived", 100.0)
    assert command["silent"] is False and command["max_silence_s"] == 10

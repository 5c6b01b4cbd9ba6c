"""A fleet-wide command through the whole system: ground, the command-sender, robot-server and
50 simulated robots (robot-client's engine). 10 of them are offline when the command is sent;
their commands wait in robot-server's queue, and the batch's roll-up completes once they
connect."""

from __future__ import annotations

import pytest
import requests

from .harness import wait_for
from .sim_fleet import SimulatedFleet, add_fleet

SERVICES = ("ground", "command-sender", "robot-server")
ROBOTS, OFFLINE = 50, 10


@pytest.fixture
def system(system_factory):
    return system_factory(services=SERVICES, max_transmit_delay_s=0, max_stage_delay_s=0.2,
                          heartbeat_interval_s=0.5, command_ttl_s=60)


def roll_up(system, batch_id: str) -> dict:
    answer = requests.get(f"{system.ground_url}/api/batches/{batch_id}", timeout=10,
                          headers=system.headers("viewer"))
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.local_only("writes the robots straight to the database")
def test_a_fleet_wide_command_reaches_offline_robots_once_they_reconnect(system, database):
    level_id, robot_ids = add_fleet(database, ROBOTS, prefix="batch-e2e", cheap=True)
    online, offline = robot_ids[OFFLINE:], robot_ids[:OFFLINE]
    fleet = SimulatedFleet(system.robot_server_url, heartbeat_interval_s=0.5)
    try:
        fleet.start(online)
        wait_for(lambda: fleet.connected() == len(online), timeout=30, interval=0.2,
                 message="the online robots' sessions")
        created = requests.post(f"{system.ground_url}/api/batches", timeout=10,
                                headers=system.headers("operator"),
                                json={"command_name": "PING", "selector": {"level_id": level_id}})
        assert created.status_code == 201, created.text
        assert created.json()["count"] == ROBOTS
        batch_id = created.json()["id"]

        waiting = wait_for(lambda: (r := roll_up(system, batch_id))["counts"]["EXECUTED"]
                           == len(online) and r, timeout=20, interval=0.2,
                           message="the online robots' commands executed")
        assert waiting["done"] is False and waiting["failed"] == []
        assert sum(waiting["counts"][s] for s in ("READY", "TRANSMITTED", "ACKNOWLEDGED")) \
            == OFFLINE

        fleet.start(offline)
        done = wait_for(lambda: (r := roll_up(system, batch_id))["done"] and r, timeout=20,
                        interval=0.2, message="every command final")
        assert done["counts"] == {"AWAITING_APPROVAL": 0, "READY": 0, "TRANSMITTED": 0,
                                  "ACKNOWLEDGED": 0,
                                  "EXECUTED": ROBOTS, "FAILED": 0, "CANCELLED": 0}
        listed = requests.get(f"{system.ground_url}/api/batches", timeout=10,
                              headers=system.headers("viewer")).json()
        assert [b["id"] for b in listed["items"]] == [batch_id] and listed["items"][0]["done"]
    finally:
        fleet.close()

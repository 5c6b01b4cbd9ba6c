"""Verification from telemetry, end to end: SET_HEATER ends EXECUTED only once the real
spacecraft's pushed telemetry shows the heater on, and its command says what was seen."""

from __future__ import annotations

import pytest
import requests

from .harness import wait_for


@pytest.mark.local_only("a short TELEMETRY_INTERVAL_S")
def test_set_heater_is_verified_by_the_spacecrafts_telemetry(system_factory):
    system = system_factory(telemetry_interval_s=0.5)
    response = requests.post(f"{system.ground_url}/api/telecommands",
                             json={"command_name": "SET_HEATER", "args": {"on": True}},
                             headers=system.headers("operator"), timeout=10)
    assert response.status_code == 201, response.text
    url = f"{system.ground_url}/api/telecommands/{response.json()['id']}"

    def final():
        command = requests.get(url, headers=system.headers("viewer"), timeout=10).json()
        return command if command["status"] in ("EXECUTED", "FAILED") else None

    command = wait_for(final, timeout=system.wait_s(30), message="SET_HEATER final")
    assert command["status"] == "EXECUTED", command["status_reason"]
    assert command["status_reason"].startswith("verified: heater=1.0 at ")
    verification = command["verification"]
    assert verification["state"] == "verified" and verification["value_seen"] == 1.0
    acknowledged = next(h["at"] for h in command["history"] if h["to_status"] == "ACKNOWLEDGED")
    assert verification["seen_at"] >= acknowledged  # the same UTC ISO format: comparable
    report = requests.get(f"{system.spacecraft_url}/commands/{command['id']}",
                          headers=system.uplink_headers, timeout=10).json()
    assert report["state"] == "EXECUTED" and report["executions"] == 1

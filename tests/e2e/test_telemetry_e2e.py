"""The spacecraft's telemetry, end to end: mc-migrate registers its token, the spacecraft under
gunicorn pushes its state to ground every TELEMETRY_INTERVAL_S, and a command that changes the
state shows in the next points."""

from __future__ import annotations

import pytest
import requests

from .harness import wait_for


def latest(system) -> dict:
    response = requests.get(f"{system.ground_url}/api/telemetry/latest",
                            params={"source": "spacecraft"}, headers=system.headers("viewer"),
                            timeout=10)
    assert response.status_code == 200, response.text
    return {p["parameter"]: p for p in response.json()["parameters"]}


@pytest.mark.local_only("a short TELEMETRY_INTERVAL_S, and the spacecraft's log read")
def test_the_spacecraft_pushes_its_state_and_a_command_shows_in_it(system_factory):
    system = system_factory(telemetry_interval_s=0.5)
    first = wait_for(lambda: latest(system).get("temperature"), timeout=system.wait_s(30),
                     message="the spacecraft's first temperature in ground")
    # It starts at 10 degC and tends to -5 degC with the heater off: inside its limits (-10..45).
    assert first["unit"] == "degC" and first["limit_state"] == "ok"

    response = requests.post(f"{system.ground_url}/api/telecommands",
                             json={"command_name": "SET_HEATER", "args": {"on": True}},
                             headers=system.headers("operator"), timeout=10)
    assert response.status_code == 201, response.text
    wait_for(lambda: latest(system)["heater"]["value"] == 1.0, timeout=system.wait_s(60),
             message="the heater's telemetry to say on")

    series = requests.get(f"{system.ground_url}/api/telemetry",
                          params={"source": "spacecraft", "parameter": "temperature"},
                          headers=system.headers("viewer"), timeout=10).json()
    assert series["mode"] == "raw" and len(series["points"]) >= 2
    assert "telemetry push" not in system.log("spacecraft")  # no failed push

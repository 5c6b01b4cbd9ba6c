"""The real spacecraft under gunicorn: its executor runs commands nobody asks about, batches
and their body limit hold on a real server, and SIGTERM stops it cleanly."""

import json
import uuid

import pytest
import requests
from sqlalchemy import select

from mission_control.models import UplinkedCommand

from .harness import wait_for


def executions(database) -> list[tuple[str, int]]:
    with database.transaction() as session:
        return session.execute(select(UplinkedCommand.state, UplinkedCommand.executions)).all()


@pytest.mark.local_only("a spacecraft of its own with a small body limit, counted in the "
                        "database, stopped with SIGTERM and its log read")
def test_spacecraft_executes_batches_on_its_own_and_stops_cleanly(database, system_factory):
    system = system_factory(services=("spacecraft",), max_stage_delay_s=0.5,
                            uplink_max_body_bytes=64 * 1024)
    url = system.spacecraft_url
    bodies = [{"id": str(uuid.uuid4()), "command_name": "CAPTURE_IMAGE",
               "args": {"exposure_ms": n + 1}} for n in range(200)]
    for start in (0, 100):
        response = requests.post(f"{url}/commands", json={"commands": bodies[start:start + 100]},
                                 headers=system.uplink_headers, timeout=10)
        assert response.status_code == 202

    wait_for(lambda: set(executions(database)) == {("EXECUTED", 1)}, timeout=30,
             message="every command executed without anyone asking")
    assert len(executions(database)) == 200
    assert requests.get(f"{url}/state", timeout=10).json()["images_captured"] == 200

    def chunks():
        data = json.dumps({"commands": [{"id": f"c{n}", "command_name": "PING", "padding": "x" * 900}
                                        for n in range(100)]}).encode()
        for start in range(0, len(data), 4096):
            yield data[start:start + 4096]

    response = requests.post(f"{url}/commands", data=chunks(), timeout=10,
                             headers={"Content-Type": "application/json", **system.uplink_headers})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert len(executions(database)) == 200

    assert system.stop("spacecraft") == 0
    assert "executor stopped" in system.log("spacecraft")

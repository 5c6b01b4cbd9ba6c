"""Fixtures of robot-client's tests: registry-api and robot-server as real processes on
loopback (tests/e2e/harness.py) against the ``database`` fixture (both backends); helpers in
robot_client.testing."""

from __future__ import annotations

import pytest

from robot_client.testing import INTERVAL_S
from tests.e2e.harness import start_system


@pytest.fixture
def services(database, tmp_path):
    """registry-api and robot-server, with short heartbeats and stage delays, and sessions of
    30 s: robot-server keeps a checked session for a tenth of that, so a test that makes one
    lapse in the database sees it refused within 3 s."""
    system = start_system(database.url, tmp_path, services=("registry-api", "robot-server"),
                          heartbeat_interval_s=INTERVAL_S, max_stage_delay_s="0.2",
                          robot_backoff_max_s="1", robot_session_ttl_s="30")
    yield system
    system.stop_all()


@pytest.fixture
def admin(services) -> dict[str, str]:
    return services.headers("admin")

"""Robots for the end-to-end tests, created as an admin would: through registry-api (which
also makes them telecommand targets)."""

from __future__ import annotations

import uuid

import requests


def robot_with_module(system, password: str) -> tuple[dict, dict]:
    """A new robot with ``password`` and one module ("arm"), as registry-api answers them."""
    admin = system.headers("admin")
    robot = requests.post(f"{system.registry_url}/api/v1/robots", headers=admin, timeout=10,
                          json={"name": f"e2e-{uuid.uuid4().hex[:8]}", "owner": "Ada",
                                "owner_email": "ada@example.com", "password": password})
    assert robot.status_code == 201, robot.text
    module = requests.post(f"{system.registry_url}/api/v1/modules", headers=admin, timeout=10,
                           json={"name": "arm", "type": "actuator",
                                 "robot_id": robot.json()["id"]})
    assert module.status_code == 201, module.text
    return robot.json(), module.json()

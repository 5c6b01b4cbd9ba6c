"""No secret reaches a log: every service of a run is exercised the way users and the
command-sender use it (sign-ins right and wrong, commands, a hazardous one, registry writes
with a robot password, refusals at the spacecraft, a command-sender with a wrong key), then
every captured log of the run is searched for the admin password, the users' passwords and
tokens, the uplink key, SECRET_KEY, the robot's passwords, the spacecraft's telemetry token and
any argon2 hash."""

import uuid
from pathlib import Path

import pytest
import requests

from .harness import wait_for

ROBOT_PASSWORD = "robot-" + uuid.uuid4().hex
NETWORK_PASSWORD = "wifi-" + uuid.uuid4().hex

pytestmark = pytest.mark.local_only("reads every process's log, and starts a command-sender "
                                    "with a wrong key")


def exercise_ground(system) -> None:
    base = system.ground_url
    operator = system.users["operator"]
    wrong = requests.post(f"{base}/api/auth/tokens", timeout=10,
                          json={"username": operator.username, "password": operator.password + "x"})
    assert wrong.status_code == 401
    unknown = requests.post(f"{base}/api/auth/tokens", timeout=10,
                            json={"username": "nobody", "password": operator.password})
    assert unknown.status_code == 401
    assert requests.get(f"{base}/api/telecommands", timeout=10,
                        headers={"Authorization": f"Bearer {operator.token}x"}).status_code == 401
    with system.session("operator") as http:
        ids = [http.post(f"{base}/api/telecommands", json=body, timeout=10).json()["id"]
               for body in ({"command_name": "PING"}, {"command_name": "REBOOT", "confirm": True},
                            {"command_name": "SET_HEATER", "args": {"on": True}})]
        assert http.get(f"{base}/api/auth/me", timeout=10).status_code == 200
    with system.session("viewer") as http:
        assert http.post(f"{base}/api/telecommands", json={"command_name": "PING"},
                         timeout=10).status_code == 403
        wait_for(lambda: all(http.get(f"{base}/api/telecommands/{i}", timeout=10).json()["status"]
                             in ("EXECUTED", "FAILED") for i in ids),
                 timeout=30, message="the commands final")


def exercise_registry(system) -> None:
    api = f"{system.registry_url}/api/v1"
    with system.session("admin") as http:
        workspace = http.post(f"{api}/workspaces", json={"name": "Site"}, timeout=10).json()
        project = http.post(f"{api}/projects", json={"name": "P", "workspace_id": workspace["id"]},
                            timeout=10).json()
        level = http.post(f"{api}/levels", json={"name": "L", "project_id": project["id"]},
                          timeout=10).json()
        robot = http.post(f"{api}/robots", timeout=10, json={
            "name": "r1", "level_id": level["id"], "owner": "Ada", "owner_email": "ada@example.com",
            "password": ROBOT_PASSWORD, "network_password": NETWORK_PASSWORD}).json()
        for password, expected in ((ROBOT_PASSWORD, 204), (ROBOT_PASSWORD + "x", 401)):
            response = http.post(f"{api}/robots/{robot['id']}/verify-password",
                                 json={"password": password}, timeout=10)
            assert response.status_code == expected, response.text
    assert requests.get(f"{api}/robots", timeout=10,
                        headers={"Authorization": f"Bearer {system.credentials.uplink_key}x"}
                        ).status_code == 401


def exercise_uplink(system) -> None:
    url = system.spacecraft_url
    body = {"id": str(uuid.uuid4()), "command_name": "PING"}
    for key in (system.credentials.uplink_key + "x", system.credentials.uplink_key[:-1]):
        response = requests.post(f"{url}/commands", json=body, timeout=10,
                                 headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 401
    system.start("command-sender", instance="command-sender-wrong-key",
                 UPLINK_KEY=system.credentials.uplink_key[::-1])
    with system.session("operator") as http:
        http.post(f"{system.ground_url}/api/telecommands", json={"command_name": "PING"},
                  timeout=10)
    wait_for(lambda: "uplink refused the key" in system.log("command-sender-wrong-key"),
             timeout=30, message="the wrong key refused")


def test_no_password_token_key_or_hash_in_any_log(system_factory):
    system = system_factory(services=("ground", "spacecraft", "command-sender", "registry-api"),
                            log_level="DEBUG", telemetry_interval_s=0.5)
    exercise_ground(system)
    exercise_registry(system)
    system.stop("command-sender")
    exercise_uplink(system)
    system.stop_all()  # every process flushed and closed its log

    secrets = system.credentials.secrets() + [ROBOT_PASSWORD, NETWORK_PASSWORD,
                                              system.credentials.uplink_key[::-1]]
    # the spacecraft's telemetry token, generated by mc-migrate (a local run's var/)
    secrets.append((Path(system.env["VAR_DIR"]) / "telemetry-token").read_text().strip())
    assert all(len(secret) >= 16 for secret in secrets)
    logs = system.logs()
    assert {"migrate.log", "ground.log", "spacecraft.log", "command-sender.log",
            "registry-api.log", "command-sender-wrong-key.log"} <= set(logs)
    assert "uplink refused the key" in logs["command-sender-wrong-key.log"]
    for name, text in logs.items():
        assert text.strip(), f"{name} is empty: nothing was captured"
        for secret in secrets:
            assert secret not in text, f"a secret appears in {name}"
        assert "$argon2" not in text, f"an argon2 hash appears in {name}"

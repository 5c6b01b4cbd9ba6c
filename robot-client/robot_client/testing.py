"""Helpers of robot-client's tests: robot-client as a process, on a pipe or a pseudo-terminal
(pexpect), and registry-api calls an admin makes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pexpect
import requests

BIN = Path(sys.executable).parent
PASSWORD = "robot pass " + uuid.uuid4().hex[:8]
INTERVAL_S = "0.3"  # heartbeats; offline after 0.9 s of silence


def client_env(system, **extra: str) -> dict[str, str]:
    return {**system.env, **{key.upper(): value for key, value in extra.items()}}


def spawn(system, *args: str, **env: str) -> pexpect.spawn:
    """robot-client on a pseudo-terminal, as a person runs it."""
    child = pexpect.spawn(str(BIN / "robot-client"), list(args), env=client_env(system, **env),
                          encoding="utf-8", timeout=30)
    child.logfile_read = _Transcript()
    return child


class _Transcript(list):
    """Everything the terminal showed, to check that no secret was echoed."""

    def write(self, text: str) -> None:
        self.append(text)

    def flush(self) -> None:
        pass

    def __str__(self) -> str:
        return "".join(self)


def start_robot(system, robot_id: str, log_path: Path, *options: str,
                **env: str) -> subprocess.Popen:
    """``robot-client run`` (with ``options``) in the background, its log in ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen([str(BIN / "robot-client"), "run", robot_id, *options],
                                env=client_env(system, **{"robot_password": PASSWORD, **env}),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def interrupt(process: subprocess.Popen, timeout: float = 15) -> int:
    os.killpg(process.pid, signal.SIGINT)
    return process.wait(timeout)


def create_robot(system, name: str | None = None, **fields) -> dict:
    response = requests.post(f"{system.registry_url}/api/v1/robots", timeout=15,
                             headers=system.headers("admin"),
                             json={"name": name or f"r-{uuid.uuid4().hex[:8]}", "owner": "Ada",
                                   "owner_email": "ada@example.com", "password": PASSWORD,
                                   **fields})
    assert response.status_code == 201, response.text
    return response.json()


def create_module(system, robot_id: str, name: str = "arm") -> dict:
    response = requests.post(f"{system.registry_url}/api/v1/modules", timeout=15,
                             headers=system.headers("admin"),
                             json={"name": name, "type": "actuator", "robot_id": robot_id})
    assert response.status_code == 201, response.text
    return response.json()


def registry_get(system, resource: str, item_id: str) -> dict:
    response = requests.get(f"{system.registry_url}/api/v1/{resource}/{item_id}", timeout=15,
                            headers=system.headers("viewer"))
    assert response.status_code == 200, response.text
    return response.json()

"""Start the real services as processes on free loopback ports, against a test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


COMMANDS = {
    "ground": [str(BIN / "mc-serve"), "ground"],
    "spacecraft": [str(BIN / "mc-serve"), "spacecraft"],
    "command-sender": [str(BIN / "command-sender")],
    "registry-api": [str(BIN / "mc-serve"), "registry-api"],
}


@dataclass
class System:
    """A running set of services; ``env`` is what every one of them was given."""

    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def ground_url(self) -> str:
        return self.env["GROUND_URL"]

    @property
    def spacecraft_url(self) -> str:
        return self.env["SPACECRAFT_URL"]

    @property
    def registry_url(self) -> str:
        return self.env["REGISTRY_URL"]

    def start(self, name: str, *, instance: str | None = None, **extra_env: str) -> subprocess.Popen:
        key = instance or name
        log = open(self.log_dir / f"{key}.log", "ab")
        process = subprocess.Popen(COMMANDS[name], env={**self.env, **extra_env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.processes[key] = process
        return process

    def kill(self, key: str) -> None:
        """SIGKILL the process group: no clean-up runs, as in a crash."""
        process = self.processes.pop(key)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self, key: str, timeout: float = 15) -> int:
        process = self.processes.pop(key)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
            raise

    def stop_all(self) -> None:
        for key in list(self.processes):
            try:
                self.stop(key)
            except Exception:
                pass

    def log(self, key: str) -> str:
        return (self.log_dir / f"{key}.log").read_text(errors="replace")

    def wait_healthy(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        logs = "\n".join(f"--- {k}\n{self.log(k)[-3000:]}" for k in self.processes)
        raise TimeoutError(f"{url} did not become healthy in {timeout}s\n{logs}")


def start_system(database_url: str, log_dir: Path, *, services=("ground", "spacecraft", "command-sender"),
                 **settings: str) -> System:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update({
        "DATABASE_URL": database_url,
        "GROUND_URL": f"http://127.0.0.1:{free_port()}",
        "SPACECRAFT_URL": f"http://127.0.0.1:{free_port()}",
        "REGISTRY_URL": f"http://127.0.0.1:{free_port()}",
        "MAX_TRANSMIT_DELAY_S": "0.2",
        "MAX_STAGE_DELAY_S": "0.2",
        "EXECUTION_FAILURE_RATE": "0",
        "POLL_INTERVAL_S": "0.2",
        "WEB_CONCURRENCY": "2",
        **{key.upper(): str(value) for key, value in settings.items()},
    })
    system = System(env=env, log_dir=log_dir)
    try:
        for name in services:
            system.start(name)
        for name, url in (("ground", system.ground_url), ("spacecraft", system.spacecraft_url),
                          ("registry-api", system.registry_url)):
            if name in services:
                system.wait_healthy(url)
    except Exception:
        system.stop_all()
        raise
    return system


def wait_for(predicate, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)

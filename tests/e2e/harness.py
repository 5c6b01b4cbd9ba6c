"""Start the real services as processes on free loopback ports, against a test database.

A system runs as deployed: mc-migrate first (which creates the first admin from
ADMIN_PASSWORD), the services with the run's secrets (accounts.Credentials: ADMIN_PASSWORD,
UPLINK_KEY, SECRET_KEY) and a private VAR_DIR in their environment, and, when ground or
registry-api runs, an operator and a viewer created by the admin over the API. Tests act as
those users (``system.headers("operator")``, ``system.session("viewer")``); the uplink key is
``system.uplink_headers``.

The same ``System`` also stands for a stack someone else started (stack mode, see stack.py):
then it owns no process (``private`` is False), and whatever needs one (``start``, ``stop``,
``kill``, the logs) is refused: such tests are marked ``local_only``.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from mission_control.testing import healthy_within, wait_for  # noqa: F401 (wait_for: for the tests)

from .accounts import Account, Credentials, sign_up

BIN = Path(sys.executable).parent


def port_range() -> range | None:
    """MC_TEST_PORTS (``18300-18499``), or None; under pytest-xdist each worker takes its own
    slice of it, so two workers never pick the same free port and both start on it."""
    low, _, high = os.environ.get("MC_TEST_PORTS", "").partition("-")
    if not low:
        return None
    ports = range(int(low), int(high) + 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker.startswith("gw") and workers > 1:
        size = len(ports) // workers
        first = ports.start + int(worker[2:]) * size
        ports = range(first, first + size)
    return ports


# Ports this process handed out lately: a port is only free until its service binds it, so
# the ports of one system (picked one after another) must differ, and one just given to a
# system still starting must not be given again. In a range of 150 a random pick repeats one
# of a system's four ports about once in 40 systems, without this.
_GIVEN: deque[int] = deque(maxlen=64)


def free_port() -> int:
    """A loopback port nothing listens on and not handed out lately: any the system picks,
    or, with MC_TEST_PORTS set, one of that range (for machines where each run has its own
    ports)."""
    ports = port_range()
    candidates = random.sample(ports, len(ports)) if ports else [0] * 32
    # In a small range, only the latest half of its ports count as given lately.
    keep = min(len(_GIVEN), len(ports) // 2) if ports else len(_GIVEN)
    given = set(list(_GIVEN)[len(_GIVEN) - keep:])
    for port in candidates:
        if port in given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            chosen = sock.getsockname()[1]
        if chosen not in given:
            _GIVEN.append(chosen)
            return chosen
    raise RuntimeError(f"no free port in MC_TEST_PORTS={os.environ.get('MC_TEST_PORTS', '')}")


COMMANDS = {
    "ground": [str(BIN / "mc-serve"), "ground"],
    "spacecraft": [str(BIN / "mc-serve"), "spacecraft"],
    "command-sender": [str(BIN / "command-sender")],
    "registry-api": [str(BIN / "mc-serve"), "registry-api"],
    "robot-server": [str(BIN / "mc-serve"), "robot-server"],
}


@dataclass
class System:
    """A running set of services; ``env`` is what every one of them was given (in stack mode:
    what the suite knows of them, the URLs and maybe DATABASE_URL)."""

    env: dict[str, str]
    log_dir: Path | None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    credentials: Credentials = field(default_factory=Credentials)
    sign_up_url: str | None = None  # ground's or registry-api's, when the system runs one
    private: bool = True  # the test's own processes and database; False for a shared stack
    max_wait_s: float = 30  # in stack mode: MC_E2E_MAX_WAIT_S, the stack's delays are its own
    worker_metrics_urls: list[str] = field(default_factory=list)  # each command-sender's /metrics

    def wait_s(self, local: float) -> float:
        """How long to wait for the pipeline: ``local`` in the test's own system (its delays
        are the test's), the generous ``max_wait_s`` against a stack."""
        return local if self.private else max(local, self.max_wait_s)

    @property
    def hostnames(self) -> set[str]:
        """The hosts the system's services answer on (what a browser may talk to)."""
        return {urlsplit(url).hostname or "" for url in
                (self.ground_url, self.spacecraft_url, self.registry_url)}

    def _own(self, what: str) -> None:
        if not self.private:
            raise RuntimeError(f"{what} needs the test's own processes, not a shared stack: "
                               "mark the test local_only")

    @property
    def users(self) -> dict[str, Account]:
        """The run's users by role (admin, operator, viewer): name, password, token. They are
        signed up on first need (sign-ups cost several argon2 hashes; many tests need none)."""
        if self.sign_up_url and self.credentials.users["admin"].token is None:
            sign_up(self.sign_up_url, self.credentials)
        return self.credentials.users

    def token(self, role: str = "operator") -> str:
        """The bearer token of the run's user of ``role``."""
        return self.users[role].signed_in_token

    def headers(self, role: str = "operator") -> dict[str, str]:
        """``Authorization: Bearer <token>`` of the run's user of ``role``."""
        return self.users[role].headers

    def session(self, role: str = "operator") -> requests.Session:
        """A requests session that sends the bearer token of the user of ``role``."""
        session = requests.Session()
        session.headers.update(self.headers(role))
        return session

    @property
    def uplink_headers(self) -> dict[str, str]:
        """What the command-sender presents to the spacecraft."""
        return {"Authorization": f"Bearer {self.credentials.uplink_key}"}

    def logs(self) -> dict[str, str]:
        """Every log this system's processes wrote (mc-migrate's included), by file name."""
        self._own("reading the logs")
        return {path.name: path.read_text(errors="replace")
                for path in sorted(self.log_dir.glob("*.log"))}

    @property
    def ground_url(self) -> str:
        return self.env["GROUND_URL"]

    @property
    def spacecraft_url(self) -> str:
        return self.env["SPACECRAFT_URL"]

    @property
    def registry_url(self) -> str:
        return self.env["REGISTRY_URL"]

    @property
    def robot_server_url(self) -> str:
        return self.env["ROBOT_SERVER_URL"]

    def start(self, name: str, *, instance: str | None = None, **extra_env: str) -> subprocess.Popen:
        self._own("starting a process")
        key = instance or name
        metrics_port = {**self.env, **extra_env}.get("METRICS_PORT", "0")
        if name == "command-sender" and metrics_port != "0":  # a test gave it a metrics port
            self.worker_metrics_urls.append(f"http://127.0.0.1:{metrics_port}")
        log = open(self.log_dir / f"{key}.log", "ab")
        process = subprocess.Popen(COMMANDS[name], env={**self.env, **extra_env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.processes[key] = process
        return process

    def kill(self, key: str) -> None:
        """SIGKILL the process group: no clean-up runs, as in a crash."""
        self._own("killing a process")
        process = self.processes.pop(key)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self, key: str, timeout: float = 15) -> int:
        self._own("stopping a process")
        process = self.processes.pop(key)
        os.killpg(process.pid, signal.SIGTERM)
        return _wait_or_kill(process, timeout)

    def stop_all(self, timeout: float = 15) -> None:
        """SIGTERM to every process group at once, then wait for each (SIGKILL past
        ``timeout``): the services shut down side by side, not one after another."""
        processes = list(self.processes.values())
        self.processes.clear()
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                _wait_or_kill(process, max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass

    def log(self, key: str) -> str:
        self._own("reading a log")
        return (self.log_dir / f"{key}.log").read_text(errors="replace")

    def wait_healthy(self, url: str, timeout: float = 30) -> None:
        if healthy_within(url, timeout):
            return
        logs = "\n".join(f"--- {k}\n{self.log(k)[-3000:]}" for k in self.processes)
        raise TimeoutError(f"{url} did not become healthy in {timeout}s\n{logs}")


def _wait_or_kill(process: subprocess.Popen, timeout: float) -> int:
    """The process's exit status once it ended within ``timeout``; else its group is killed
    (SIGKILL) and TimeoutExpired raised."""
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(5)
        raise


def migrate(env: dict[str, str], log_dir: Path) -> None:
    """mc-migrate, as before any deployment: the schema, and the first admin."""
    with open(log_dir / "migrate.log", "ab") as log:
        result = subprocess.run([str(BIN / "mc-migrate")], env=env, stdout=log,
                                stderr=subprocess.STDOUT, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"mc-migrate failed ({result.returncode}):\n"
                           f"{(log_dir / 'migrate.log').read_text(errors='replace')[-3000:]}")


def start_system(database_url: str, log_dir: Path, *, services=("ground", "spacecraft", "command-sender"),
                 credentials: Credentials | None = None, **settings: str) -> System:
    """Migrate, start ``services`` and wait until they answer; sign the users up when ground or
    registry-api runs. Systems started with the same ``credentials`` share their users."""
    credentials = credentials or Credentials()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update({
        "DATABASE_URL": database_url,
        "VAR_DIR": str(log_dir / "var"),
        **credentials.env(),
        "GROUND_URL": f"http://127.0.0.1:{free_port()}",
        "SPACECRAFT_URL": f"http://127.0.0.1:{free_port()}",
        "REGISTRY_URL": f"http://127.0.0.1:{free_port()}",
        "ROBOT_SERVER_URL": f"http://127.0.0.1:{free_port()}",
        "MAX_TRANSMIT_DELAY_S": "0.2",
        "MAX_STAGE_DELAY_S": "0.2",
        "EXECUTION_FAILURE_RATE": "0",
        "POLL_INTERVAL_S": "0.2",
        "WEB_CONCURRENCY": "2",
        # Two test processes start services side by side on one PostgreSQL server (100
        # connections): small pools keep them clear of its limit.
        "DB_POOL_SIZE": "5",
        "METRICS_PORT": "0",  # no command-sender port unless a test gives one (metrics_port=)
        "APPROVAL_REQUIRED": "none",  # hazardous commands go straight on unless a test asks
        **{key.upper(): str(value) for key, value in settings.items()},
    })
    system = System(env=env, log_dir=log_dir, credentials=credentials)
    try:
        migrate(env, log_dir)
        for name in services:
            system.start(name)
        for name, url in (("ground", system.ground_url), ("spacecraft", system.spacecraft_url),
                          ("registry-api", system.registry_url),
                          ("robot-server", system.robot_server_url)):
            if name in services:
                system.wait_healthy(url)
        if "ground" in services or "registry-api" in services:
            system.sign_up_url = system.ground_url if "ground" in services else \
                system.registry_url
    except Exception:
        system.stop_all()
        raise
    return system


def scheduled_or_gone(command: dict) -> dict | None:
    """The command once the worker scheduled it (a transmit time) or, with a short delay,
    already sent it (no longer READY)."""
    return command if command["transmit_at"] or command["status"] != "READY" else None

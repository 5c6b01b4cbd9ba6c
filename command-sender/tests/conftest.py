"""The worker under test talks HTTP to the real spacecraft app, served on a loopback port;
both hold the same UPLINK_KEY unless a test gives the worker another."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from command_sender.worker import Worker
from mission_control.status import ACTIVE
from mission_control.models import Telecommand
from mission_control.settings import Settings
from spacecraft.app import create_app as create_spacecraft

UPLINK_KEY = "test-uplink-key-" + uuid.uuid4().hex


@pytest.fixture
def spacecraft_url(database, var_dir):
    """The spacecraft app (same database) on a free loopback port, for the test's duration."""
    app = create_spacecraft(Settings(database_url=database.url, max_stage_delay_s=0,
                                     execution_failure_rate=0, var_dir=var_dir,
                                     uplink_key=UPLINK_KEY), database=database)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    app.extensions["executor"].stop()  # started on demand by the first receipt


@pytest.fixture
def make_worker(database, spacecraft_url, var_dir):
    """Build workers on the test database; settings override the fast test defaults."""
    workers: list[Worker] = []

    def build(**overrides) -> Worker:
        values = dict(database_url=database.url, spacecraft_url=spacecraft_url,
                      var_dir=var_dir, uplink_key=UPLINK_KEY,
                      max_transmit_delay_s=0, max_stage_delay_s=0, poll_interval_s=0.05,
                      retry_backoff_s=0.01, uplink_timeout_s=2, lease_s=5)
        values.update(overrides)
        worker = Worker(Settings(**values), database=database)
        workers.append(worker)
        return worker

    yield build
    for worker in workers:
        worker.stop()
        worker.close()


class Running:
    """Workers running in threads until stopped."""

    def __init__(self, *workers: Worker) -> None:
        self.workers = workers
        self.threads = [threading.Thread(target=w.run, daemon=True) for w in workers]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        for worker in self.workers:
            worker.stop()
        for thread in self.threads:
            thread.join(30)
            assert not thread.is_alive(), "worker did not stop"


def active_count(database) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Telecommand).where(
            Telecommand.status.in_([s.value for s in ACTIVE])))


def wait_until_settled(database, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while active_count(database):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{active_count(database)} commands still active after {timeout}s")
        time.sleep(0.05)


@pytest.fixture
def running():
    return Running


@pytest.fixture
def settle():
    return wait_until_settled

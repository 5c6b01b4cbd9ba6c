"""The worker's figures: pickup latency, transitions, uplink errors by kind, and its /health.

Series live in the test process's default registry, so each test compares figures after its
work with figures before it.
"""

from __future__ import annotations

import socket
import time

import requests
from sqlalchemy import update

from command_sender import monitoring
from mission_control import metrics
from mission_control.metrics_testing import figure, promtool_check
from mission_control.models import Target, Telecommand
from mission_control.testing import gen_command

PICKUP = "mc_pickup_latency_seconds_count"
TRANSITIONS = "mc_telecommand_transitions_total"
ERRORS = "mc_uplink_errors_total"


def page() -> str:
    return metrics.exposition().decode()


def moved(before: str, name: str, **labels: str) -> float:
    return figure(page(), name, **labels) - figure(before, name, **labels)


def test_every_transmission_is_timed_and_every_step_counted(database, make_worker, running,
                                                            settle):
    before = page()
    for _ in range(5):
        gen_command(database)
    with running(make_worker(max_transmit_delay_s=0.2)):
        settle(database)
    assert moved(before, PICKUP) == 5
    assert moved(before, "mc_pickup_latency_seconds_bucket", le="30.0") == 5
    for from_status, to_status in (("READY", "TRANSMITTED"), ("TRANSMITTED", "ACKNOWLEDGED"),
                                   ("ACKNOWLEDGED", "EXECUTED")):
        assert moved(before, TRANSITIONS, from_status=from_status, to_status=to_status) == 5
    assert all(moved(before, ERRORS, kind=kind) == 0 for kind in monitoring.KINDS)


def test_uplink_errors_are_counted_by_kind(database, make_worker, running, settle):
    with database.transaction() as session:
        session.add(Target(id="beacon-1", kind="beacon", name="A beacon no uplink serves"))
    before = page()
    lost = gen_command(database)
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == lost)
                        .values(target_id="beacon-1"))
    gen_command(database, command_name="REBOOT")  # not confirmed: the target refuses it
    with running(make_worker()):
        settle(database)
    assert moved(before, ERRORS, kind="unroutable") == 1
    assert moved(before, ERRORS, kind="permanent") == 1

    before = page()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"
    gen_command(database)
    with running(make_worker(spacecraft_url=nowhere, max_send_attempts=2)):
        settle(database)
    assert moved(before, ERRORS, kind="transient") == 2  # two attempts, then FAILED

    before = page()
    gen_command(database)
    with running(make_worker(uplink_key="not-the-key")):
        deadline = time.monotonic() + 20
        while moved(before, ERRORS, kind="key_refused") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert moved(before, ERRORS, kind="key_refused") >= 1


def test_health_follows_the_loops_database_passes(make_worker):
    worker = make_worker()
    healthy, details = monitoring.health(worker)
    assert not healthy and details["worker_id"] == worker.worker_id  # no pass yet
    worker.run_once()
    assert monitoring.health(worker)[0]
    worker.last_pass_ok = time.monotonic() - 60  # the last good pass is long ago
    assert not monitoring.health(worker)[0]
    worker.run_once()
    worker.stop()
    assert not monitoring.health(worker)[0]


def test_a_failing_database_pass_turns_health_off(make_worker, database):
    worker = make_worker()
    worker.run_once()
    worker.last_pass_ok = time.monotonic() - 60
    worker.database = type(database)("postgresql+psycopg2://nobody@127.0.0.1:1/none")
    try:
        worker.run_once()  # fails, logs, returns: no good pass to show
    finally:
        worker.database.dispose()
        worker.database = database
    assert not monitoring.health(worker)[0]


def test_the_worker_serves_metrics_and_health_on_its_port(make_worker):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = make_worker(metrics_port=port)
    server = monitoring.serve(worker)
    try:
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/health", timeout=5).status_code == 503
        worker.run_once()
        answer = requests.get(f"{base}/health", timeout=5)
        assert answer.status_code == 200
        assert answer.json()["status"] == "ok"
        assert answer.json()["worker_id"] == worker.worker_id
        text = requests.get(f"{base}/metrics", timeout=5).text
        for series in ("mc_pickup_latency_seconds_bucket", ERRORS, TRANSITIONS):
            assert f"\n{series}" in text, series
        assert {kind for kind in monitoring.KINDS
                if f'{ERRORS}{{kind="{kind}"}}' in text} == set(monitoring.KINDS)
        promtool_check(text)
    finally:
        server.shutdown()
        server.server_close()


def test_no_port_when_metrics_port_is_zero(make_worker):
    assert monitoring.serve(make_worker(metrics_port=0)) is None

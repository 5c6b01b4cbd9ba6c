"""POST /api/v1/robots/{id}/verify-password: open only to robot-server (the UPLINK_KEY) and
admins, throttled per robot, and unable to starve the API of CPU (one bounded hashing slot)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from typing import Iterator

import pytest
import requests
from werkzeug.serving import make_server

from mission_control import keys, passwords, throttle
from mission_control.settings import get_settings
from mission_control.testing import assert_error, bearer, token_for
from mission_control.timeutil import utcnow
from registry_api.api import ROBOT_SCOPE

from .conftest import PREFIX

PASSWORD = "robot password 1"


@pytest.fixture
def robot(registry, fast_hashing) -> dict:
    return registry.robot(password=PASSWORD)


@pytest.fixture
def uplink_key(app) -> str:
    return keys.uplink_key(app.extensions["settings"])


def verify(client, robot_id: str, password: str, headers: dict | None = None):
    return client.post(f"{PREFIX}/robots/{robot_id}/verify-password",
                       json={"password": password}, headers=headers)


def test_the_uplink_key_may_verify_a_password(anonymous, robot, uplink_key):
    service = bearer(uplink_key)
    assert verify(anonymous, robot["id"], PASSWORD, service).status_code == 204
    assert_error(verify(anonymous, robot["id"], "wrong guess", service), 401, "wrong_password")


def test_without_a_service_key_or_an_admin_it_is_refused_before_any_hashing(
        anonymous, database, robot, uplink_key):
    for headers in ({}, bearer("not-the-key"), bearer(uplink_key + "x"),
                    {"Authorization": f"Basic {uplink_key}"}):
        response = verify(anonymous, robot["id"], PASSWORD, headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for role in ("viewer", "operator"):
        token = token_for(database, role, role)
        response = verify(anonymous, robot["id"], PASSWORD, bearer(token))
        assert assert_error(response, 403, "forbidden")["required_role"] == "admin"
    assert throttle.failures(database, ROBOT_SCOPE, throttle.subject_of(robot["id"])) == 0


def test_the_uplink_key_opens_nothing_else(anonymous, robot, uplink_key):
    service = bearer(uplink_key)
    assert_error(anonymous.get(f"{PREFIX}/robots/{robot['id']}", headers=service), 401)
    assert_error(anonymous.delete(f"{PREFIX}/robots/{robot['id']}", headers=service), 401)
    assert_error(anonymous.get("/api/auth/me", headers=service), 401)


def test_five_wrong_passwords_lock_the_robot_even_for_the_right_one(client, registry, robot):
    other = registry.robot(password=PASSWORD)
    for _ in range(throttle.MAX_FAILURES):
        assert_error(verify(client, robot["id"], "wrong guess"), 401, "wrong_password")
    locked = verify(client, robot["id"], PASSWORD)
    assert_error(locked, 429, "too_many_attempts")
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= throttle.WINDOW_S
    assert locked.get_json()["retry_after_s"] == retry_after
    assert verify(client, other["id"], PASSWORD).status_code == 204  # per robot


def test_a_right_password_clears_the_count(client, database, robot):
    for _ in range(throttle.MAX_FAILURES - 1):
        verify(client, robot["id"], "wrong guess")
    assert verify(client, robot["id"], PASSWORD).status_code == 204
    for _ in range(throttle.MAX_FAILURES - 1):
        assert_error(verify(client, robot["id"], "wrong guess"), 401, "wrong_password")
    assert verify(client, robot["id"], PASSWORD).status_code == 204


def test_failures_older_than_the_window_do_not_count(client, database, robot):
    subject = throttle.subject_of(robot["id"])
    long_ago = utcnow() - timedelta(seconds=throttle.WINDOW_S + 1)
    for _ in range(throttle.MAX_FAILURES):
        throttle.record_failure(database, ROBOT_SCOPE, subject, now=long_ago)
    assert verify(client, robot["id"], PASSWORD).status_code == 204


def test_an_unknown_robot_is_404_and_counts_nothing(client, database):
    robot_id = str(uuid.uuid4())
    for _ in range(throttle.MAX_FAILURES + 1):
        assert_error(verify(client, robot_id, "guess"), 404, "not_found")
    assert throttle.failures(database, ROBOT_SCOPE, throttle.subject_of(robot_id)) == 0


@contextmanager
def every_hashing_slot_taken() -> Iterator[None]:
    """Hold all of this process's hashing slots, as that many long password checks would."""
    with ExitStack() as stack:
        for _ in range(get_settings().max_concurrent_hashes):
            stack.enter_context(passwords._turn())
        yield


def test_a_check_that_finds_no_hashing_slot_is_503_and_reads_still_answer(
        client, database, robot, monkeypatch):
    monkeypatch.setattr(passwords, "WAIT_S", 0.2)
    with every_hashing_slot_taken():
        started = time.monotonic()
        busy = verify(client, robot["id"], PASSWORD)
        waited = time.monotonic() - started
        assert_error(busy, 503, "busy")
        assert busy.headers["Retry-After"] == "1"
        assert 0.2 <= waited < 2
        read_started = time.monotonic()
        assert client.get(f"{PREFIX}/robots/{robot['id']}").status_code == 200
        assert time.monotonic() - read_started < 1
    # Refused for want of a slot is not a wrong password, and the slot is usable again.
    assert throttle.failures(database, ROBOT_SCOPE, throttle.subject_of(robot["id"])) == 0
    assert verify(client, robot["id"], PASSWORD).status_code == 204


@contextmanager
def served(app) -> Iterator[str]:
    """``app`` served by a real threaded HTTP server on a loopback port of 5800-5899."""
    server = None
    for port in range(5800, 5900):
        try:
            server = make_server("127.0.0.1", port, app, threaded=True)
            break
        except OSError:
            continue
    assert server is not None, "no free port in 5800-5899"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_a_burst_of_real_password_checks_does_not_starve_a_read(app, registry, admin_token):
    """Real argon2 (about 0.2 s of CPU and 64 MiB each): eight checks at once take turns in
    the hashing slots, while a cheap GET keeps answering quickly."""
    robot = registry.robot(password=PASSWORD)  # hashed with the real parameters
    headers = bearer(admin_token)
    with served(app) as base, requests.Session() as reader:
        url = f"{base}{PREFIX}/robots/{robot['id']}"

        def guess(index: int) -> int:
            password = PASSWORD if index % 2 else f"wrong guess {index}"
            return requests.post(f"{url}/verify-password", json={"password": password},
                                 headers=headers, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            checks = [pool.submit(guess, i) for i in range(8)]
            time.sleep(0.1)  # the checks are queued for the slot by now
            latencies = []
            while not all(c.done() for c in checks):
                started = time.monotonic()
                assert reader.get(url, headers=headers, timeout=10).status_code == 200
                latencies.append(time.monotonic() - started)
                time.sleep(0.05)
            statuses = [c.result() for c in checks]
    # Right passwords pass, wrong ones fail, and some may be turned away busy; nothing else
    # (four wrong guesses stay under the throttle's five).
    assert set(statuses) <= {204, 401, 503} and 204 in statuses and 401 in statuses
    assert latencies and max(latencies) < 1.0, latencies

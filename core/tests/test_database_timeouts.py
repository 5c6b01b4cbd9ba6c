"""A database host that accepts connections but never answers costs a bounded wait: the
connection attempt times out, and /health answers 503 within its own bound."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

from mission_control import db
from mission_control.db import Database
from mission_control.settings import Settings
from mission_control.testing import assert_error
from mission_control.web import service_app


@pytest.fixture
def silent_database():
    """A PostgreSQL URL whose server completes the TCP handshake, then says nothing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)  # never accepted: the kernel queues connections, nobody answers
    database = Database(f"postgresql+psycopg2://postgres@127.0.0.1:{server.getsockname()[1]}/x")
    yield database
    database.dispose()
    server.close()


def test_connecting_to_a_silent_host_times_out(silent_database):
    started = time.monotonic()
    with pytest.raises(OperationalError):
        with silent_database.engine.connect():
            pass
    assert time.monotonic() - started < db.CONNECT_TIMEOUT_S + 2


def test_health_is_503_within_its_bound_when_the_database_does_not_answer(silent_database):
    app = service_app(__name__, "probe", Settings(database_url=silent_database.url),
                      silent_database, dict, "probe")
    client = app.test_client()

    for _ in range(2):  # asking again neither waits longer nor piles up stuck queries
        started = time.monotonic()
        body = assert_error(client.get("/health"), 503, "unavailable")
        assert time.monotonic() - started < db.PING_TIMEOUT_S + 1
        assert body["database"] == "unreachable"


def test_health_is_200_on_a_database_that_answers(database):
    app = service_app(__name__, "probe", Settings(database_url=database.url), database, dict,
                      "probe")

    assert app.test_client().get("/health").get_json()["database"] == "ok"


def test_a_request_that_finds_no_free_connection_is_told_to_retry(database):
    """The pool's checkout timeout (every connection stayed taken): 503 with Retry-After,
    not a 500."""
    app = service_app(__name__, "probe", Settings(database_url=database.url), database, dict,
                      "probe")

    @app.get("/busy")
    def busy():
        raise PoolTimeout("QueuePool limit of size 5 overflow 0 reached")

    answer = app.test_client().get("/busy")
    assert_error(answer, 503, "busy")
    assert answer.headers["Retry-After"] == "1"

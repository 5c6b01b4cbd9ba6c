"""The heartbeat fast path (robot_server/fast_path.py): a well-formed heartbeat of a robot
whose session this process keeps is answered without Flask, with the same answer, effects,
headers and metrics; everything else is answered by Flask exactly as before."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from mission_control.registry_models import Module, Robot
from mission_control.robot_models import RobotSession
from mission_control.testing import assert_error
from robot_server import sessions
from robot_server.fast_path import HeartbeatFastPath
from robot_server.testing import add_robot, auth, beat, token_of

TELEMETRY = {"battery": 80, "temperature": -3.5, "cpu": 12.5,
             "position": {"x": 1, "y": 2.5, "z": 0}}


@pytest.fixture
def heard():
    """Closes by other processes are heard (as under mc-serve on PostgreSQL): sessions kept."""
    sessions.hearing_closes(True)
    yield
    sessions.hearing_closes(False)


@pytest.fixture
def flask_calls(app):
    """How many requests reached the Flask app behind the fast path."""
    fast = app.wsgi_app
    assert isinstance(fast, HeartbeatFastPath)
    full, calls = fast.full, []

    def counted(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return full(environ, start_response)

    fast.full = counted
    return calls


def _metric(client, name: str, route: str | None = None) -> float:
    total = 0.0
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(name) and (route is None or f'route="{route}"' in line) and \
                (route is None or 'status="200"' in line):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_cached_sessions_heartbeat_is_answered_without_flask_and_recorded(
        app, client, database, heard, flask_calls):
    robot_id, (m1, _m2) = add_robot(database, modules=2)
    token = token_of(client, robot_id)
    url = f"/robots/{robot_id}/heartbeat"
    first = client.post(url, headers=auth(token), json=beat("IDLE"))  # looked up, then kept
    assert first.status_code == 200 and flask_calls[-1] == url
    calls = len(flask_calls)
    beats = _metric(client, "mc_robot_heartbeats_total")
    timed = _metric(client, "mc_http_request_duration_seconds_count",
                    "/robots/<robot_id>/heartbeat")
    fast = client.post(url, headers={**auth(token), "X-Request-ID": "fast-1"}, json=beat(
        "RUNNING", [{"module_id": str(m1), "status": "FAILED"}], telemetry=TELEMETRY))
    assert fast.status_code == 200, fast.get_data(as_text=True)
    assert url not in flask_calls[calls:]  # /metrics was read meanwhile, not the heartbeat
    assert fast.get_json().keys() == first.get_json().keys()
    assert fast.get_json()["connection"] == "online"
    assert fast.mimetype == "application/json"
    assert fast.headers["X-Request-ID"] == "fast-1"
    assert fast.headers["X-Content-Type-Options"] == "nosniff"
    assert set(fast.headers.keys()) == set(first.headers.keys())
    with database.autocommit() as connection:
        row = connection.execute(select(Robot).where(Robot.id == robot_id)).one()
        module = connection.execute(select(Module).where(Module.id == m1)).one()
        telemetry = connection.scalar(select(RobotSession.telemetry))
    assert row.status == "RUNNING" and row.online
    assert module.status == "FAILED"
    assert telemetry == TELEMETRY
    assert _metric(client, "mc_robot_heartbeats_total") == beats + 1
    assert _metric(client, "mc_http_request_duration_seconds_count",
                   "/robots/<robot_id>/heartbeat") == timed + 1


@pytest.mark.parametrize("send, status, error", [
    (lambda c, url, token, other: c.post(url, headers=auth(token), data="{",
                                         content_type="application/json"), 400, "malformed_json"),
    (lambda c, url, token, other: c.post(url, headers=auth(token),
                                         data='{"status": "IDLE", "status": "RUNNING"}',
                                         content_type="application/json"), 400, "duplicate_key"),
    (lambda c, url, token, other: c.post(url, headers=auth(token), json=[1]), 422,
     "validation_error"),
    (lambda c, url, token, other: c.post(url, headers=auth(token), json=beat("ASLEEP")), 422,
     "validation_error"),
    (lambda c, url, token, other: c.post(url, headers=auth(token), json=beat(
        "IDLE", [{"module_id": str(other), "status": "IDLE"}])), 422, "validation_error"),
    (lambda c, url, token, other: c.post(url, headers=auth(token), data=json.dumps(beat()),
                                         content_type="text/plain"), 415,
     "unsupported_media_type"),
    (lambda c, url, token, other: c.post(url, headers=auth(token), json=beat(
        telemetry={"note": "x" * 70_000})), 413, "payload_too_large"),
    (lambda c, url, token, other: c.post(url, headers=auth(token), json=beat(),
                                         environ_overrides={"HTTP_HOST": "evil.example"}),
     400, "bad_host"),
    (lambda c, url, token, other: c.post(url, headers=auth("not-a-session"), json=beat()),
     401, "unauthorized"),
    (lambda c, url, token, other: c.post(url.replace("/robots/", "/robots/x"),
                                         headers=auth(token), json=beat()), 404, "not_found"),
])
def test_whatever_is_not_a_good_heartbeat_is_answered_by_flask_as_before(
        client, database, heard, flask_calls, send, status, error):
    robot_id, _ = add_robot(database, modules=1)
    _other_robot, (other_module,) = add_robot(database, "r2", modules=1)
    token = token_of(client, robot_id)
    url = f"/robots/{robot_id}/heartbeat"
    assert client.post(url, headers=auth(token), json=beat()).status_code == 200  # kept now
    calls = len(flask_calls)
    assert_error(send(client, url, token, other_module), status, error)
    assert len(flask_calls) == calls + 1  # answered by Flask


def test_odd_headers_and_a_database_error_go_to_flask(client, database, heard, flask_calls,
                                                     monkeypatch):
    robot_id, (module_id,) = add_robot(database, modules=1)
    token = token_of(client, robot_id)
    url = f"/robots/{robot_id}/heartbeat"
    assert client.post(url, headers=auth(token), json=beat()).status_code == 200
    odd = client.post(url, headers=auth(token), data=json.dumps(beat()),
                      content_type="application/json",
                      environ_overrides={"CONTENT_LENGTH": "\u00b2"})  # a digit, not ASCII
    assert odd.status_code < 500 and flask_calls[-1] == url
    owners = client.application.extensions["module_owners"]

    def database_away(*_args):
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(owners, "check", database_away)
    calls = len(flask_calls)
    assert_error(client.post(url, headers=auth(token), json=beat(
        "IDLE", [{"module_id": str(module_id), "status": "IDLE"}])), 503)
    assert len(flask_calls) == calls + 1


def test_another_robots_token_and_a_closed_session_are_refused(client, database, heard,
                                                               flask_calls):
    robot_id, _ = add_robot(database)
    other_id, _ = add_robot(database, "r2")
    token = token_of(client, robot_id)
    url = f"/robots/{robot_id}/heartbeat"
    assert client.post(url, headers=auth(token), json=beat()).status_code == 200
    assert_error(client.post(f"/robots/{other_id}/heartbeat", headers=auth(token),
                             json=beat()), 403, "forbidden")
    assert client.delete(f"/robots/{robot_id}/session", headers=auth(token)).status_code == 204
    assert_error(client.post(url, headers=auth(token), json=beat()), 401, "unauthorized")


def test_the_fast_path_refuses_an_app_with_hooks_it_does_not_mirror(make_app):
    app = make_app()
    app.before_request(lambda: None)
    with pytest.raises(RuntimeError, match="mirror"):
        HeartbeatFastPath(app)

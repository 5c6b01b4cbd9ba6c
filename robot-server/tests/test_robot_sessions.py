"""Sessions: the robot's password opens one; its token (stored as SHA-256) authorises the
robot's calls, for that robot only, until it expires or the session is closed."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mission_control import throttle
from mission_control.robot_models import RobotSession
from mission_control.testing import assert_error
from mission_control.timeutil import utcnow
from mission_control.web import ApiError
from robot_server import sessions
from robot_server.testing import PASSWORD, add_robot, auth, beat, open_session, token_of


def _sessions(database):
    with database.autocommit() as connection:
        return connection.execute(select(RobotSession)).all()


def test_the_right_password_opens_a_session_whose_token_is_stored_only_hashed(client, database,
                                                                              robot):
    robot_id, _ = robot
    response = open_session(client, robot_id)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "expires_at"} and len(body["token"]) >= 40
    rows = _sessions(database)
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in repr(tuple(rows[0]))
    assert PASSWORD not in response.get_data(as_text=True)
    assert client.post(f"/robots/{robot_id}/heartbeat", json=beat(),
                       headers=auth(body["token"])).status_code == 200


def test_a_wrong_password_is_401_and_counted(client, database, robot):
    robot_id, _ = robot
    assert_error(open_session(client, robot_id, "wrong"), 401, "wrong_password")
    assert throttle.failures(database, throttle.ROBOT_SCOPE,
                             throttle.subject_of(str(robot_id))) == 1
    assert _sessions(database) == []


def test_a_robot_without_a_password_opens_no_session(client, database):
    robot_id, _ = add_robot(database, "nopass", password=None)
    assert_error(open_session(client, robot_id, "anything"), 401, "wrong_password")


def test_too_many_wrong_passwords_are_throttled_even_for_the_right_one(client, robot):
    robot_id, _ = robot
    for _ in range(throttle.MAX_FAILURES):
        assert_error(open_session(client, robot_id, "wrong"), 401)
    response = open_session(client, robot_id)
    assert_error(response, 429, "throttled")
    assert int(response.headers["Retry-After"]) > 0


def test_unknown_and_malformed_robot_ids_are_404(client):
    assert_error(open_session(client, uuid.uuid4()), 404, "not_found")
    assert_error(client.post("/robots/not-a-uuid/session", json={"password": "x"}), 404)
    assert_error(client.post("/robots/not-a-uuid/heartbeat", json=beat()), 404)
    assert_error(client.delete("/robots/%00/session"), 404)


def test_bad_session_bodies_are_json_errors(client, robot):
    robot_id, _ = robot
    url = f"/robots/{robot_id}/session"
    assert_error(client.post(url, data="password=x"), 415)
    assert_error(client.post(url, data="{", content_type="application/json"), 400)
    assert_error(client.post(url, json=["x"]), 422)
    assert_error(client.post(url, json={"password": ""}), 422)
    assert_error(client.post(url, json={"password": 5}), 422)
    assert_error(client.post(url, json={"password": "x", "extra": 1}), 422)
    assert_error(client.post(url, data='{"password": "' + "x" * 70_000 + '"}',
                             content_type="application/json"), 413)


def test_calls_without_a_valid_token_are_401(client, robot):
    robot_id, _ = robot
    url = f"/robots/{robot_id}/heartbeat"
    response = client.post(url, json=beat())
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.post(url, json=beat(), headers=auth("made-up")), 401)
    assert_error(client.post(url, json=beat(), headers={"Authorization": "Basic eDp5"}), 401)
    assert_error(client.delete(f"/robots/{robot_id}/session"), 401)


def test_a_token_used_for_another_robots_id_is_403(client, database, robot):
    robot_id, _ = robot
    other_id, _ = add_robot(database, "r2")
    token = token_of(client, robot_id)
    assert_error(client.post(f"/robots/{other_id}/heartbeat", json=beat(), headers=auth(token)),
                 403, "forbidden")
    assert_error(client.delete(f"/robots/{other_id}/session", headers=auth(token)), 403)


def test_an_expired_token_is_401(client, database, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    with database.begin() as connection:
        connection.execute(update(RobotSession).values(
            expires_at=utcnow() - timedelta(seconds=1)))
    assert_error(client.post(f"/robots/{robot_id}/heartbeat", json=beat(), headers=auth(token)),
                 401)


def test_each_use_renews_the_session(make_app, database, robot):
    robot_id, _ = robot
    client = make_app(robot_session_ttl_s=60).test_client()
    token = token_of(client, robot_id)
    with database.begin() as connection:
        connection.execute(update(RobotSession).values(
            expires_at=utcnow() + timedelta(seconds=5)))
    assert client.post(f"/robots/{robot_id}/heartbeat", json=beat(),
                       headers=auth(token)).status_code == 200
    (row,) = _sessions(database)
    assert row.expires_at > utcnow() + timedelta(seconds=50)


def test_a_closed_session_replayed_is_401(client, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    assert client.delete(f"/robots/{robot_id}/session", headers=auth(token)).status_code == 204
    assert_error(client.post(f"/robots/{robot_id}/heartbeat", json=beat(), headers=auth(token)),
                 401)
    assert_error(client.delete(f"/robots/{robot_id}/session", headers=auth(token)), 401)


def test_the_password_is_never_logged(client, robot, caplog):
    robot_id, _ = robot
    caplog.set_level("DEBUG")
    open_session(client, robot_id)
    open_session(client, robot_id, "a wrong secret guess")
    assert PASSWORD not in caplog.text and "a wrong secret guess" not in caplog.text


def test_a_session_for_a_robot_deleted_meanwhile_is_404(database):
    with pytest.raises(ApiError) as refused:
        sessions.open_session(database, uuid.uuid4(), 60)
    assert refused.value.status == 404

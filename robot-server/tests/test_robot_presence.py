"""Heartbeats, closing a session and the offline sweeper: the registry's robot and module
rows, connection events, and /metrics."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from mission_control.registry_models import Module, Robot
from mission_control.robot_models import Lease, RobotSession
from mission_control.testing import assert_error
from mission_control.timeutil import utcnow
from robot_server import presence
from robot_server.sweeper import Sweeper
from robot_server.testing import add_robot, auth, beat, token_of


def _robot(database, robot_id):
    with database.autocommit() as connection:
        return connection.execute(select(Robot).where(Robot.id == robot_id)).one()


def _modules(database, robot_id):
    with database.autocommit() as connection:
        return {row.id: row for row in connection.execute(
            select(Module).where(Module.robot_id == robot_id))}


def _events(database, robot_id):
    return [event for event, _ in presence.events(database, robot_id)]


def test_a_heartbeat_updates_the_robot_and_its_modules_and_connects_once(client, database,
                                                                        robot):
    robot_id, (m1, m2) = robot
    token = token_of(client, robot_id)
    before = utcnow()
    response = client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat(
        "RUNNING", [{"module_id": str(m1), "status": "FAILED"}],
        telemetry={"battery": 80, "temperature": -3.5, "cpu": 12.5,
                   "position": {"x": 1, "y": 2.5, "z": 0}}))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["connection"] == "online"
    assert response.get_json()["heartbeat_timeout_s"] == 3.0
    row = _robot(database, robot_id)
    assert row.status == "RUNNING" and row.online and row.last_online >= before
    modules = _modules(database, robot_id)
    assert modules[m1].status == "FAILED" and modules[m1].last_online >= before
    assert modules[m2].status == "IDLE" and modules[m2].last_online is None
    with database.autocommit() as connection:
        telemetry = connection.scalar(select(RobotSession.telemetry))
    assert telemetry == {"battery": 80, "temperature": -3.5, "cpu": 12.5,
                         "position": {"x": 1, "y": 2.5, "z": 0}}
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json=beat("IDLE")).status_code == 200
    assert _robot(database, robot_id).status == "IDLE"
    assert _events(database, robot_id) == ["connect"]


def test_a_module_of_another_robot_is_422_naming_it_and_nothing_is_written(client, database,
                                                                          robot):
    robot_id, (m1, _) = robot
    _, (foreign,) = add_robot(database, "r2", modules=1)
    token = token_of(client, robot_id)
    response = client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat(
        "RUNNING", [{"module_id": str(m1), "status": "RUNNING"},
                    {"module_id": str(foreign), "status": "RUNNING"}]))
    body = assert_error(response, 422, "validation_error")
    assert body["fields"] == [{"field": "modules.1.module_id",
                               "message": f"module {foreign} is not a module of this robot"}]
    row = _robot(database, robot_id)
    assert row.status == "IDLE" and not row.online and row.last_online is None
    assert _modules(database, robot_id)[m1].status == "IDLE"
    assert _events(database, robot_id) == []


def test_bad_heartbeats_are_422_or_400(client, robot):
    robot_id, (m1, _) = robot
    token = token_of(client, robot_id)
    url = f"/robots/{robot_id}/heartbeat"

    def post(body):
        return client.post(url, headers=auth(token), json=body)

    assert_error(post({"status": "ASLEEP"}), 422)
    assert_error(post({}), 422)
    assert_error(post(beat(telemetry={"battery": 101})), 422)
    assert_error(post(beat(telemetry={"battery": True})), 422)
    assert_error(post(beat(telemetry={"cpu": "12"})), 422)
    assert_error(post(beat(telemetry={"speed": 1})), 422)
    assert_error(post(beat(telemetry={"position": {"x": 1, "y": 2}})), 422)
    assert_error(post(beat(modules=[{"module_id": "nope", "status": "IDLE"}])), 422)
    assert_error(post(beat(modules=[{"module_id": str(m1), "status": "IDLE"}] * 2)), 422)
    for number in ("NaN", "Infinity", "-Infinity"):
        assert_error(client.post(url, headers=auth(token), content_type="application/json",
                                 data='{"status": "IDLE", "telemetry": {"temperature": %s}}'
                                 % number), 422)
    assert_error(client.post(url, headers=auth(token), data="x"), 415)
    assert_error(client.post(url, headers=auth(token), data="[", content_type="application/json"),
                 400)


def test_closing_the_session_marks_the_robot_offline_with_a_disconnect(client, database, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat())
    assert client.delete(f"/robots/{robot_id}/session", headers=auth(token)).status_code == 204
    assert not _robot(database, robot_id).online
    assert _events(database, robot_id) == ["connect", "disconnect"]


def test_the_sweeper_marks_a_silent_robot_offline_once_and_it_comes_back(app, client, database,
                                                                        robot):
    robot_id, _ = robot
    quiet_id, _ = add_robot(database, "quiet")
    token = token_of(client, robot_id)
    client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat())
    sweeper = app.extensions["sweeper"]
    assert sweeper.run_once() == 0  # a fresh heartbeat: still online
    with database.begin() as connection:
        connection.execute(update(Robot).where(Robot.id == robot_id).values(
            last_online=utcnow() - timedelta(seconds=3.1)))
    assert sweeper.run_once() == 1
    assert sweeper.run_once() == 0
    assert not _robot(database, robot_id).online
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json=beat()).status_code == 200
    assert _robot(database, robot_id).online
    assert _events(database, robot_id) == ["connect", "timeout", "connect"]
    assert _events(database, quiet_id) == []


def test_only_the_lease_holder_sweeps(database, robot):
    robot_id, _ = robot
    with database.begin() as connection:
        connection.execute(update(Robot).where(Robot.id == robot_id).values(
            online=True, last_online=utcnow() - timedelta(seconds=10)))
    first, second = Sweeper(database, 3.0, lease_s=0.5), Sweeper(database, 3.0, lease_s=0.5)
    assert first.holds_lease() and not second.holds_lease()
    assert second.run_once() == 0 and _robot(database, robot_id).online
    assert first.run_once() == 1
    time.sleep(0.6)  # the holder stops renewing: another takes the lease over
    assert second.holds_lease() and not first.holds_lease()
    with database.autocommit() as connection:
        assert connection.scalar(select(Lease.holder)) == second.holder
    second.stop()  # a holder that stops hands the lease back at once
    assert first.holds_lease()


def test_the_sweeper_thread_finds_a_silent_robot_within_timeout_plus_one_second(make_app,
                                                                                database, robot):
    robot_id, _ = robot
    app = make_app(heartbeat_interval_s=0.2)  # timeout 0.6 s
    client = app.test_client()
    token = token_of(client, robot_id)
    client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat())
    sweeper = app.extensions["sweeper"]
    sweeper.start()
    try:
        started = time.monotonic()
        while _robot(database, robot_id).online and time.monotonic() - started < 5:
            time.sleep(0.05)
        assert not _robot(database, robot_id).online
        assert time.monotonic() - started < 0.6 + 1
    finally:
        sweeper.stop()
    assert _events(database, robot_id) == ["connect", "timeout"]


def test_metrics_show_heartbeats_robots_online_and_refused_sessions(client, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    client.post(f"/robots/{robot_id}/session", json={"password": "wrong"})
    client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat())
    page = client.get("/metrics").get_data(as_text=True)
    assert "mc_robots_online 1.0" in page
    assert "mc_robot_heartbeats_total" in page
    assert 'mc_robot_sessions_refused_total{reason="wrong_password"}' in page
    assert 'mc_robot_sessions_refused_total{reason="throttled"}' in page


def test_the_access_line_of_a_robot_call_names_the_robot(client, robot, caplog):
    """Successful heartbeats and polls log theirs at DEBUG (a fleet makes thousands a second);
    refusals at INFO."""
    robot_id, _ = robot
    token = token_of(client, robot_id)
    caplog.clear()  # the session's own line (201), caught when an earlier test set INFO
    with caplog.at_level("DEBUG", logger="mission_control.access"):
        assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                           json=beat("IDLE")).status_code == 200
        assert client.get(f"/robots/{robot_id}/commands?wait=0",
                          headers=auth(token)).status_code == 200
        assert client.post(f"/robots/{robot_id}/heartbeat", json=beat("IDLE")).status_code == 401
    named = [(r.status, r.user, r.levelname) for r in caplog.records
             if r.name == "mission_control.access"]
    assert named == [(200, f"robot:{robot_id}", "DEBUG"), (200, f"robot:{robot_id}", "DEBUG"),
                     (401, "-", "INFO")]
    assert token not in caplog.text

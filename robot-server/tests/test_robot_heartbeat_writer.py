"""Heartbeats written together (HeartbeatWriter, as under mc-serve), module ownership kept in
memory, and session renewal at most once per step: what each writes to the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from mission_control.registry_models import Module, Robot
from mission_control.robot_models import RobotSession
from mission_control.testing import assert_error
from mission_control.timeutil import utcnow
from robot_server import presence, sessions
from robot_server.heartbeats import Beat
from robot_server.testing import add_robot, auth, beat, token_of


def _robot(database, robot_id):
    with database.autocommit() as connection:
        return connection.execute(select(Robot).where(Robot.id == robot_id)).one()


def _module_statuses(database, robot_id):
    with database.autocommit() as connection:
        return {row.id: row.status for row in connection.execute(
            select(Module.id, Module.status).where(Module.robot_id == robot_id))}


def _batching_writer(app):
    writer = app.extensions["heartbeat_writer"]
    writer.period_s = 60  # started, but it writes only when the test flushes
    writer.start()
    return writer


def test_heartbeats_wait_for_the_flush_and_merge_per_robot(app, client, database, robot):
    robot_id, (m1, m2) = robot
    token = token_of(client, robot_id)
    writer = _batching_writer(app)
    try:
        for body in (beat("RUNNING", [{"module_id": str(m1), "status": "RUNNING"}],
                          telemetry={"battery": 90}),
                     beat("FAILED", [{"module_id": str(m2), "status": "FAILED"}])):
            response = client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                                   json=body)
            assert response.status_code == 200, response.get_data(as_text=True)
        assert not _robot(database, robot_id).online  # answered, not yet written

        assert writer.flush() == 1  # one robot: its two heartbeats in one row write

        row = _robot(database, robot_id)
        assert row.online and row.status == "FAILED"
        assert _module_statuses(database, robot_id) == {m1: "RUNNING", m2: "FAILED"}
        with database.autocommit() as connection:
            assert connection.scalar(select(RobotSession.telemetry)) == {"battery": 90}
        assert [event for event, _ in presence.events(database, robot_id)] == ["connect"]
        assert writer.flush() == 0
    finally:
        writer.stop()


def test_stopping_the_writer_writes_what_it_holds(app, client, database, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    writer = _batching_writer(app)
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json=beat("RUNNING")).status_code == 200

    writer.stop()

    assert _robot(database, robot_id).status == "RUNNING"


def test_an_older_heartbeat_does_not_overwrite_a_newer_one(client, database, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json=beat("RUNNING")).status_code == 200
    newest = _robot(database, robot_id).last_online

    with database.autocommit() as connection:
        session_id = connection.scalar(select(RobotSession.id))

    # Another process flushing a heartbeat answered before this one.
    presence.record(database, [Beat(robot_id, session_id, "FAILED", newest - timedelta(seconds=1))])

    row = _robot(database, robot_id)
    assert (row.status, row.last_online) == ("RUNNING", newest)


def test_a_module_added_after_its_robot_was_seen_is_accepted(client, database, robot):
    robot_id, (m1, _) = robot
    token = token_of(client, robot_id)
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json=beat("IDLE", [{"module_id": str(m1), "status": "IDLE"}])
                       ).status_code == 200
    other_robot, (foreign,) = add_robot(database, "r2", modules=1)
    with database.transaction() as session:
        session.execute(update(Module).where(Module.id == foreign)
                        .values(robot_id=robot_id, name="moved"))

    response = client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                           json=beat("IDLE", [{"module_id": str(foreign), "status": "RUNNING"}]))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert _module_statuses(database, robot_id)[foreign] == "RUNNING"
    _, (not_ours,) = add_robot(database, "r3", modules=1)
    body = assert_error(client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                                    json=beat("IDLE", [{"module_id": str(not_ours),
                                                        "status": "IDLE"}])), 422)
    assert [f["field"] for f in body["fields"]] == ["modules.0.module_id"]


def test_a_session_is_renewed_once_per_step_not_on_every_call(client, database, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)

    def expires_at():
        with database.autocommit() as connection:
            return connection.scalar(select(RobotSession.expires_at))

    opened = expires_at()
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json=beat()).status_code == 200
    assert expires_at() == opened  # used within the step: no write
    with database.transaction() as session:  # as if the session were last renewed 2 min ago
        session.execute(update(RobotSession).values(expires_at=utcnow() + timedelta(seconds=3480)))
    sessions.recent.clear()  # and this process had not checked it for as long
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json=beat()).status_code == 200
    assert expires_at() >= utcnow() + timedelta(seconds=3590)


def test_a_heartbeat_held_when_its_session_closes_does_not_bring_the_robot_back(
        app, client, database, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                       json=beat()).status_code == 200  # online (written at once)
    writer = _batching_writer(app)
    try:
        assert client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token),
                           json=beat("RUNNING")).status_code == 200
        with database.autocommit() as connection:
            session_id = connection.scalar(select(RobotSession.id))
        held = Beat(robot_id, session_id, "FAILED", utcnow())  # as another process holds one
        assert client.delete(f"/robots/{robot_id}/session", headers=auth(token)).status_code == 204

        writer.flush()
        presence.record(database, [held])

        row = _robot(database, robot_id)
        assert not row.online and row.status == "IDLE"
        assert [event for event, _ in presence.events(database, robot_id)] == \
            ["connect", "disconnect"]
    finally:
        writer.stop()



def test_heartbeat_telemetry_is_stored_as_points_of_the_robots_series(app, client, database,
                                                                        robot):
    from mission_control import telemetry

    robot_id, _ = robot
    token = token_of(client, robot_id)
    writer = _batching_writer(app)
    try:
        body = beat("RUNNING", telemetry={"battery": 90, "cpu": 12.5,
                                          "position": {"x": 1.0, "y": 2.0, "z": 0.0}})
        response = client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert writer.flush() == 1
    finally:
        writer.stop()
    with database.transaction() as session:
        latest = {p["parameter"]: (p["value"], p["unit"])
                  for p in telemetry.latest(session, str(robot_id))}
    assert latest == {"battery": (90.0, "%"), "cpu": (12.5, "%"), "position_x": (1.0, "m"),
                      "position_y": (2.0, "m"), "position_z": (0.0, "m")}
    assert _robot(database, robot_id).last_online.isoformat() == \
        next(iter(telemetry_times(database, str(robot_id))))


def telemetry_times(database, source):
    from mission_control.telemetry_models import TelemetryPoint

    with database.autocommit() as connection:
        return {t.isoformat() for t in connection.scalars(
            select(TelemetryPoint.time).where(TelemetryPoint.source == source))}

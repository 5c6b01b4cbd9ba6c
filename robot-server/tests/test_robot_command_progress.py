"""Progress reports of executing commands (docs/progress.md): who may report, which bodies are
refused, at most one write a second per command, and a row per phase."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mission_control.progress_models import CommandPhase, CommandProgress
from mission_control.testing import assert_error
from mission_control.timeutil import utcnow
from robot_server import progress
from robot_server.testing import add_robot, auth, token_of, uplink_command


def started(client, uplink, robot_id, token) -> str:
    body = uplink_command(robot_id, "MOVE_TO", {"x": 1, "y": 2, "z": 0})
    assert uplink.post("/commands", json=body).status_code == 202
    assert client.post(f"/robots/{robot_id}/commands/{body['id']}/ack",
                       headers=auth(token)).status_code == 200
    return body["id"]


FIELDS = object()


def report(client, robot_id, token, command_id, body=FIELDS, **fields):
    return client.post(f"/robots/{robot_id}/commands/{command_id}/progress",
                       headers=auth(token) if token else {},
                       json=fields if body is FIELDS else body)


def phases(database, command_id) -> list[str]:
    with database.transaction() as session:
        return list(session.scalars(select(CommandPhase.phase)
                                    .where(CommandPhase.command_id == command_id)
                                    .order_by(CommandPhase.id)))


def age_progress(database, command_id, seconds: float = 2) -> None:
    with database.transaction() as session:
        session.execute(update(CommandProgress).where(CommandProgress.command_id == command_id)
                        .values(updated_at=utcnow() - timedelta(seconds=seconds)))


def test_progress_is_stored_and_each_new_phase_starts_a_row(client, uplink, robot, database):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    command_id = started(client, uplink, robot_id, token)
    first = report(client, robot_id, token, command_id, percent=0, phase="planning")
    assert first.status_code == 200
    assert first.get_json() | {"updated_at": None} == {
        "recorded": True, "percent": 0.0, "phase": "planning", "done": None, "total": None,
        "updated_at": None}
    # A new phase is written at once, however soon; the same phase at most once a second.
    assert report(client, robot_id, token, command_id, percent=10, phase="driving",
                  done=1, total=4).get_json()["recorded"] is True
    dropped = report(client, robot_id, token, command_id, percent=20, done=2, total=4)
    assert dropped.status_code == 200
    assert (dropped.get_json()["recorded"], dropped.get_json()["percent"]) == (False, 10.0)
    age_progress(database, command_id)
    later = report(client, robot_id, token, command_id, percent=50, done=2, total=4).get_json()
    assert (later["recorded"], later["phase"], later["percent"], later["done"]) == \
        (True, "driving", 50.0, 2)
    age_progress(database, command_id)
    alive = report(client, robot_id, token, command_id).get_json()  # {}: still running
    assert (alive["recorded"], alive["phase"], alive["percent"], alive["total"]) == \
        (True, "driving", 50.0, 4)
    assert alive["updated_at"] > later["updated_at"]
    assert report(client, robot_id, token, command_id, percent=100,
                  phase="arrived").get_json()["recorded"] is True
    assert phases(database, command_id) == ["planning", "driving", "arrived"]
    with database.transaction() as session:
        stored = session.get_one(CommandProgress, command_id)
        assert (stored.robot_id, stored.percent, stored.phase) == (robot_id, 100.0, "arrived")


def test_progress_needs_the_robots_own_session(client, uplink, robot, database):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    command_id = started(client, uplink, robot_id, token)
    other_id = add_robot(database, "r2")[0]
    other_token = token_of(client, other_id)
    assert_error(report(client, robot_id, None, command_id, percent=1), 401)
    assert_error(report(client, robot_id, other_token, command_id, percent=1), 403)
    # The other robot's own path: the command is not its own.
    assert_error(report(client, other_id, other_token, command_id, percent=1), 404, "not_found")
    for unknown in ("no-such-command", "x" * 300, "%00"):
        assert_error(report(client, robot_id, token, unknown, percent=1), 404)
    assert_error(report(client, "not-a-uuid", token, command_id, percent=1), 404)
    assert phases(database, command_id) == []


def test_progress_only_while_executing(client, uplink, robot):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    body = uplink_command(robot_id, "DOCK")
    uplink.post("/commands", json=body)
    refused = assert_error(report(client, robot_id, token, body["id"], percent=1), 409,
                           "not_acknowledged")
    assert refused["state"] == "RECEIVED"
    client.post(f"/robots/{robot_id}/commands/{body['id']}/ack", headers=auth(token))
    client.post(f"/robots/{robot_id}/commands/{body['id']}/result", headers=auth(token),
                json={"status": "EXECUTED"})
    assert_error(report(client, robot_id, token, body["id"], percent=1), 409, "finished")


@pytest.mark.parametrize("body", [
    {"percent": -1}, {"percent": 100.5}, {"percent": "50"}, {"percent": True},
    {"done": 5, "total": 4}, {"done": -1}, {"total": 1.5}, {"done": 2**63},
    {"phase": ""}, {"phase": "x" * 65}, {"phase": "bad\u0000phase"}, {"phase": 3},
    {"percent": 1, "extra": 1}, [], "text", None,
])
def test_bad_progress_bodies_are_refused(client, uplink, robot, database, body):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    command_id = started(client, uplink, robot_id, token)
    answer = report(client, robot_id, token, command_id, body=body)
    assert 400 <= answer.status_code < 500
    assert_error(answer, answer.status_code)
    with database.transaction() as session:
        assert session.get(CommandProgress, command_id) is None


def test_phases_per_command_are_bounded(client, uplink, robot, database):
    robot_id = robot[0]
    token = token_of(client, robot_id)
    command_id = started(client, uplink, robot_id, token)
    for n in range(progress.MAX_PHASES + 3):
        report(client, robot_id, token, command_id, phase=f"step {n}")
    assert len(phases(database, command_id)) == progress.MAX_PHASES

"""GET /robots/{id}: the session's robot tells its client where to listen and which modules
are its own; another robot's token and no token are refused."""

from __future__ import annotations

from sqlalchemy import update

from mission_control.registry_models import Robot
from mission_control.testing import assert_error
from robot_server.testing import add_robot, auth, token_of


def test_the_robot_reads_its_address_and_its_modules(client, database, robot):
    robot_id, module_ids = robot
    with database.transaction() as session:
        session.execute(update(Robot).where(Robot.id == robot_id)
                        .values(ip_address="127.0.0.1", port=18150))
    response = client.get(f"/robots/{robot_id}", headers=auth(token_of(client, robot_id)))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["id"], body["name"], body["status"]) == (str(robot_id), "r1", "IDLE")
    assert (body["ip_address"], body["port"]) == ("127.0.0.1", 18150)
    assert [m["id"] for m in body["modules"]] == [str(m) for m in module_ids]  # m0, m1
    assert {m["status"] for m in body["modules"]} == {"IDLE"}


def test_another_robots_token_or_none_is_refused(client, database, robot):
    robot_id, _ = robot
    other_id, _ = add_robot(database, "r2")
    assert_error(client.get(f"/robots/{robot_id}", headers=auth(token_of(client, other_id))),
                 403, "forbidden")
    assert_error(client.get(f"/robots/{robot_id}"), 401, "unauthorized")
    assert_error(client.get("/robots/not-a-uuid"), 404, "not_found")

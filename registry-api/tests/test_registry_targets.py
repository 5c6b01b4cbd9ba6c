"""Robots and modules become telecommand targets in the transaction that writes them, and a
deleted one's target stays (for its commands) marked removed."""

from __future__ import annotations

from sqlalchemy import select

from mission_control.models import Target

PREFIX = "/api/v1"


def _targets(database) -> dict[str, Target]:
    with database.transaction() as session:
        rows = session.scalars(select(Target).where(Target.kind.in_(("robot", "module"))))
        return {t.id: t for t in rows}


def test_created_robots_and_modules_are_targets(registry, database):
    robot = registry.robot(name="Rover")
    module = registry.module(robot_id=robot["id"], name="Arm")

    targets = _targets(database)

    assert set(targets) == {robot["id"], module["id"]}
    assert (targets[robot["id"]].kind, targets[robot["id"]].name,
            targets[robot["id"]].parent_id) == ("robot", "Rover", None)
    assert (targets[module["id"]].kind, targets[module["id"]].name,
            targets[module["id"]].parent_id) == ("module", "Arm", robot["id"])
    assert all(t.removed_at is None for t in targets.values())


def test_renames_and_moves_follow(client, registry, database):
    robot, other = registry.robot(), registry.robot()
    module = registry.module(robot_id=robot["id"])

    assert client.patch(f"{PREFIX}/robots/{robot['id']}", json={"name": "Renamed"}).status_code == 200
    assert client.patch(f"{PREFIX}/modules/{module['id']}",
                        json={"robot_id": other["id"], "name": "Gripper"}).status_code == 200

    targets = _targets(database)
    assert targets[robot["id"]].name == "Renamed"
    assert (targets[module["id"]].name, targets[module["id"]].parent_id) == ("Gripper", other["id"])


def test_deleting_a_robot_marks_it_and_its_modules_removed(client, registry, database):
    robot, kept = registry.robot(), registry.robot()
    module = registry.module(robot_id=robot["id"])

    assert client.delete(f"{PREFIX}/robots/{robot['id']}?cascade=true").status_code == 204

    targets = _targets(database)
    assert targets[robot["id"]].removed_at is not None
    assert targets[module["id"]].removed_at is not None
    assert targets[kept["id"]].removed_at is None


def test_a_refused_create_leaves_no_target(client, registry, database):
    robot = registry.robot(name="Twin")
    level_id = robot["level_id"]

    response = client.post(f"{PREFIX}/robots", json={"name": "Twin", "owner": "Ada",
                                                     "owner_email": "ada@example.com",
                                                     "level_id": level_id})

    assert response.status_code == 409
    assert [t.name for t in _targets(database).values()] == ["Twin"]

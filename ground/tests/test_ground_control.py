"""Command authority (issue 12.5): an operator takes exclusive control of a target; other
users' commands to it (or to its modules) are refused with 409 naming the holder, until it is
released, its lease expires, or an admin breaks it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from mission_control import authority
from mission_control.authority_models import TargetControl
from mission_control.models import Target
from mission_control.testing import assert_error, bearer_client, run_together
from mission_control.timeutil import utcnow


@pytest.fixture
def robot(database) -> str:
    with database.transaction() as session:
        session.add(Target(id="robot-1", kind="robot", name="Robot 1"))
        session.flush()
        session.add(Target(id="robot-1-arm", kind="module", name="Arm", parent_id="robot-1"))
    return "robot-1"


def send(client, target: str = "spacecraft", **fields):
    return client.post("/api/telecommands", json={"command_name": "PING", "target": target,
                                                  **fields})


def test_a_command_to_a_target_controlled_by_another_user_is_refused(alice, bob, database):
    taken = alice.post("/api/targets/spacecraft/control", json={"lease_s": 60})
    assert taken.status_code == 200
    assert taken.get_json()["holder"] == "alice"

    body = assert_error(send(bob), 409, "controlled")
    assert (body["holder"], body["target"]) == ("alice", "spacecraft")
    assert body["expires_at"] == taken.get_json()["expires_at"]
    assert "controlled by alice" in body["message"]
    assert send(alice).status_code == 201  # the holder can command


def test_control_of_a_robot_covers_its_modules(alice, bob, robot):
    alice.post(f"/api/targets/{robot}/control")
    body = assert_error(send(bob, robot, module_id="robot-1-arm"), 409, "controlled")
    assert body["holder"] == "alice"
    state = bob.get("/api/targets/robot-1-arm/control").get_json()
    assert state["control"]["holder"] == "alice" and state["control"]["target"] == robot


def test_someone_else_cannot_take_a_held_target_but_the_holder_renews(alice, bob):
    first = alice.post("/api/targets/spacecraft/control", json={"lease_s": 60}).get_json()

    body = assert_error(bob.post("/api/targets/spacecraft/control"), 409, "controlled")
    assert body["holder"] == "alice" and body["expires_at"] == first["expires_at"]
    renewed = alice.post("/api/targets/spacecraft/control", json={"lease_s": 600}).get_json()
    assert renewed["acquired_at"] == first["acquired_at"]
    assert renewed["expires_at"] > first["expires_at"]


def test_an_expired_lease_frees_the_target(alice, bob, database):
    alice.post("/api/targets/spacecraft/control")
    with database.transaction() as session:
        session.execute(update(TargetControl).values(expires_at=utcnow() - timedelta(seconds=1)))

    assert send(bob).status_code == 201
    assert bob.get("/api/targets/spacecraft/control").get_json()["control"] is None
    assert bob.get("/api/controls").get_json()["items"] == []
    taken = bob.post("/api/targets/spacecraft/control").get_json()
    assert taken["holder"] == "bob"
    assert_error(send(alice), 409, "controlled")


def test_the_holder_releases_and_others_cannot(alice, bob):
    alice.post("/api/targets/spacecraft/control")

    assert_error(bob.delete("/api/targets/spacecraft/control"), 403, "not_holder")
    assert alice.delete("/api/targets/spacecraft/control").status_code == 204
    assert send(bob).status_code == 201
    assert_error(alice.delete("/api/targets/spacecraft/control"), 404, "not_controlled")


def test_an_admin_breaks_another_users_control_and_it_is_logged(app, database, alice, caplog):
    admin = bearer_client(app, database, "root", "admin")
    alice.post("/api/targets/spacecraft/control")

    with caplog.at_level(logging.WARNING, logger="mission_control.authority"):
        assert admin.delete("/api/targets/spacecraft/control").status_code == 204

    assert "control of spacecraft held by alice broken by admin root" in caplog.text
    assert admin.get("/api/controls").get_json()["items"] == []


def test_controls_lists_every_running_hold(alice, bob, robot):
    alice.post("/api/targets/spacecraft/control")
    bob.post(f"/api/targets/{robot}/control")
    items = alice.get("/api/controls").get_json()["items"]
    assert [(c["target"], c["holder"]) for c in items] == [(robot, "bob"), ("spacecraft", "alice")]


@pytest.mark.parametrize("body, status", [
    ({"lease_s": 0}, 422), ({"lease_s": -5}, 422), ({"lease_s": "60"}, 422),
    ({"lease_s": 10 ** 9}, 422), ({"other": 1}, 422), ([], 422)])
def test_bad_leases_are_refused(alice, body, status):
    assert alice.post("/api/targets/spacecraft/control", json=body).status_code == status


@pytest.mark.parametrize("target", ["nope", "x" * 65, "a%00b"])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_targets_are_404(alice, target, method):
    response = getattr(alice, method)(f"/api/targets/{target}/control")
    assert_error(response, 404, "not_found")


def test_a_viewer_cannot_take_control(app, database):
    viewer = bearer_client(app, database, "vera", "viewer")
    assert_error(viewer.post("/api/targets/spacecraft/control"), 403)


@pytest.mark.parametrize("before", ["never held", "expired"])
def test_racing_takers_leave_exactly_one_holder(database, before):
    """Eight users take the same free target at once (no row yet: INSERTs race; an expired
    row: UPDATEs race): one holds it."""
    if before == "expired":
        with database.transaction() as session:
            session.add(TargetControl(target_id="spacecraft", holder="old",
                                      acquired_at=utcnow() - timedelta(hours=2),
                                      expires_at=utcnow() - timedelta(hours=1)))

    def take(index: int) -> str | None:
        try:
            with database.transaction() as session:
                return authority.take(session, "spacecraft", f"user-{index}", 60).holder
        except authority.ControlledByOther:
            return None

    won = [holder for holder in run_together(take) if holder]
    assert len(won) == 1
    with database.transaction() as session:
        assert [c.holder for c in authority.holds(session)] == won

"""Approval and command authority apply to stacks and fleet-wide batches as to single
commands: a hazardous step or batch waits for a second user, a controlled target refuses
another user's stack or batch with nothing written."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from mission_control import stacks
from mission_control.batch_models import Batch
from mission_control.models import Telecommand
from mission_control.stack_models import Stack
from mission_control.status import Status
from mission_control.testing import assert_error, bearer_client

from .test_ground_batches import gen_robot


@pytest.fixture
def app(make_app):
    return make_app(approval_required="hazardous")


def count(database, model) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def statuses(database, **where) -> list[str]:
    with database.transaction() as session:
        query = select(Telecommand.status)
        for column, value in where.items():
            query = query.where(getattr(Telecommand, column) == value)
        return sorted(session.scalars(query))


def hazardous_stack(client) -> dict:
    """A stack of REBOOT (hazardous: its step awaits approval) then PING, as ``client``."""
    created = client.post("/api/stacks", json={"target": "spacecraft", "steps": [
        {"command_name": "REBOOT", "confirm": True, "wait_for": "ACKNOWLEDGED"},
        {"command_name": "PING", "wait_for": "EXECUTED"}]})
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def test_a_hazardous_batch_waits_and_one_approval_releases_it(alice, bob, database):
    robots = [gen_robot(database, f"r{n}")[0] for n in range(3)]
    sent = alice.post("/api/batches", json={"command_name": "REBOOT", "confirm": True,
                                            "targets": robots})
    assert sent.status_code == 201, sent.get_json()
    batch_id = sent.get_json()["id"]
    assert statuses(database, batch_id=uuid.UUID(batch_id)) == ["AWAITING_APPROVAL"] * 3

    own = assert_error(alice.post(f"/api/batches/{batch_id}/approve"), 403, "own_command")
    assert "alice" in own["message"]
    approved = bob.post(f"/api/batches/{batch_id}/approve")
    assert approved.status_code == 200 and approved.get_json()["approved"] == 3
    assert statuses(database, batch_id=uuid.UUID(batch_id)) == ["READY"] * 3
    with database.transaction() as session:
        assert set(session.scalars(select(Telecommand.approved_by))) == {"bob"}
    assert_error(bob.post(f"/api/batches/{batch_id}/approve"), 409, "not_awaiting_approval")
    assert_error(bob.post(f"/api/batches/{uuid.uuid4()}/approve"), 404)


def test_a_plain_batch_is_ready_at_once(alice, database):
    robots = [gen_robot(database, f"r{n}")[0] for n in range(2)]
    sent = alice.post("/api/batches", json={"command_name": "PING", "targets": robots})
    assert sent.status_code == 201
    assert statuses(database) == ["READY", "READY"]


def test_a_batch_touching_a_target_controlled_by_another_user_is_refused(alice, bob,
                                                                           database):
    free, held = gen_robot(database, "free")[0], gen_robot(database, "held",
                                                           modules=("arm",))
    assert bob.post(f"/api/targets/{held[0]}/control").status_code == 200
    for targets in ([free, held[0]], [free, held[1]["arm"]]):  # the robot, or its module
        refused = assert_error(alice.post("/api/batches", json={"command_name": "PING",
                                                                 "targets": targets}),
                               409, "controlled")
        assert refused["holder"] == "bob"
    assert count(database, Batch) == 0 and count(database, Telecommand) == 0
    assert bob.post("/api/batches", json={"command_name": "PING",
                                          "targets": [free, held[0]]}).status_code == 201


def test_a_stack_to_a_controlled_target_is_refused_with_nothing_written(alice, bob, database):
    assert bob.post("/api/targets/spacecraft/control").status_code == 200
    body = {"target": "spacecraft", "steps": [{"command_name": "PING",
                                               "wait_for": "EXECUTED"}]}
    refused = assert_error(alice.post("/api/stacks", json=body), 409, "controlled")
    assert refused["holder"] == "bob"
    assert count(database, Stack) == 0 and count(database, Telecommand) == 0
    assert bob.post("/api/stacks", json=body).status_code == 201


def test_a_hazardous_step_waits_for_approval_and_the_stack_waits_with_it(alice, bob,
                                                                        database):
    stack = hazardous_stack(alice)
    first = stack["steps"][0]["telecommand_id"]
    assert [s["status"] for s in stack["steps"]] == ["AWAITING_APPROVAL", "PENDING"]
    with database.transaction() as session:
        assert stacks.advance(session, actor="test-worker", approval_policy="hazardous") == []
    assert count(database, Telecommand) == 1  # step 2 waits for step 1

    assert bob.post(f"/api/telecommands/{first}/approve").status_code == 200
    with database.transaction() as session:
        command = session.get(Telecommand, uuid.UUID(first))
        assert command.status == Status.READY and command.transmit_at is None  # scheduled next
    rejected = hazardous_stack(alice)["steps"][0]["telecommand_id"]
    assert bob.post(f"/api/telecommands/{rejected}/reject",
                    json={"reason": "not today"}).status_code == 200
    with database.transaction() as session:
        stacks.advance(session, actor="test-worker", approval_policy="hazardous")
    failed = [s for s in alice.get("/api/stacks").get_json()["items"] if s["status"] == "FAILED"]
    assert len(failed) == 1 and "CANCELLED" in failed[0]["status_reason"]


def test_cancelling_a_stack_cancels_a_step_awaiting_approval_so_none_can_approve_it(
        alice, bob, database):
    stack = hazardous_stack(alice)
    first = stack["steps"][0]["telecommand_id"]
    assert alice.post(f"/api/stacks/{stack['id']}/cancel").status_code == 200
    with database.transaction() as session:
        command = session.get(Telecommand, uuid.UUID(first))
        assert command.status == Status.CANCELLED and "stack cancelled" in command.status_reason
    assert_error(bob.post(f"/api/telecommands/{first}/approve"), 409)
    assert statuses(database) == ["CANCELLED"]


def test_cancelling_a_batch_cancels_its_commands_awaiting_approval(alice, bob, database):
    ids = [gen_robot(database, f"r{i}")[0] for i in range(2)]
    batch_id = alice.post("/api/batches", json={"command_name": "REBOOT", "confirm": True,
                                                "targets": ids}).get_json()["id"]
    assert statuses(database) == ["AWAITING_APPROVAL"] * 2
    assert bob.post(f"/api/batches/{batch_id}/cancel").get_json()["cancelled"] == 2
    assert statuses(database) == ["CANCELLED"] * 2
    assert_error(bob.post(f"/api/batches/{batch_id}/approve"), 409)

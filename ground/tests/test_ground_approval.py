"""Two-person approval (issue 12.1): hazardous commands wait AWAITING_APPROVAL until a second
operator or admin approves them; rejected or expired ones end CANCELLED; a race of approve
against cancel has exactly one winner."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from mission_control import approval, lifecycle
from mission_control.models import Telecommand, TelecommandHistory
from mission_control.testing import assert_error, bearer_client, history_problems
from mission_control.timeutil import utcnow
from ground import telecommands


@pytest.fixture
def app(make_app):
    return make_app(approval_required="hazardous")


def send_reboot(client) -> dict:
    response = client.post("/api/telecommands", json={"command_name": "REBOOT", "confirm": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_hazardous_command_waits_for_approval_and_a_plain_one_does_not(alice):
    reboot = send_reboot(alice)
    ping = alice.post("/api/telecommands", json={"command_name": "PING"}).get_json()

    assert reboot["status"] == "AWAITING_APPROVAL" and reboot["approved_by"] is None
    assert ping["status"] == "READY"
    history = alice.get(f"/api/telecommands/{reboot['id']}").get_json()["history"]
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in history] == [
        (None, "AWAITING_APPROVAL", "alice")]


@pytest.mark.parametrize("policy, expected", [("all", "AWAITING_APPROVAL"), ("none", "READY")])
def test_the_setting_decides_which_commands_need_approval(make_app, database, policy, expected):
    client = bearer_client(make_app(approval_required=policy), database, "alice")
    assert client.post("/api/telecommands", json={"command_name": "PING"}).get_json()["status"] \
        == expected


def test_the_sender_cannot_approve_their_own_command(alice):
    command = send_reboot(alice)

    body = assert_error(alice.post(f"/api/telecommands/{command['id']}/approve"), 403,
                        "own_command")
    assert "alice sent this command" in body["message"]
    assert alice.get(f"/api/telecommands/{command['id']}").get_json()["status"] == \
        "AWAITING_APPROVAL"


def test_a_viewer_cannot_approve(app, database, alice):
    command = send_reboot(alice)
    viewer = bearer_client(app, database, "vera", "viewer")

    assert_error(viewer.post(f"/api/telecommands/{command['id']}/approve"), 403)
    assert alice.get(f"/api/telecommands/{command['id']}").get_json()["status"] == \
        "AWAITING_APPROVAL"


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_a_second_operator_or_admin_approves_and_the_history_shows_both(app, database, alice,
                                                                         role):
    command = send_reboot(alice)
    second = bearer_client(app, database, f"second-{role}", role)

    approved = second.post(f"/api/telecommands/{command['id']}/approve")

    assert approved.status_code == 200
    body = approved.get_json()
    assert (body["status"], body["approved_by"], body["operator"]) == (
        "READY", f"second-{role}", "alice")
    assert [(h["to_status"], h["actor"]) for h in body["history"]] == [
        ("AWAITING_APPROVAL", "alice"), ("READY", f"second-{role}")]
    assert_error(second.post(f"/api/telecommands/{command['id']}/approve"), 409,
                 "not_awaiting_approval")["status"] == "READY"


def test_reject_ends_cancelled_with_the_reason(alice, bob, database):
    command = send_reboot(alice)

    rejected = bob.post(f"/api/telecommands/{command['id']}/reject",
                        json={"reason": "not during the pass"}).get_json()

    assert rejected["status"] == "CANCELLED"
    assert rejected["status_reason"] == "rejected by bob: not during the pass"
    assert rejected["history"][-1]["actor"] == "bob"
    body = assert_error(bob.post(f"/api/telecommands/{command['id']}/approve"), 409,
                        "not_awaiting_approval")
    assert body["status"] == "CANCELLED" and "command is CANCELLED" in body["message"]
    assert history_problems(database) == []


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "a\x00b"},
                                  {"reason": "x" * 501}, {"reason": "ok", "extra": 1}])
def test_reject_needs_a_plain_reason(alice, bob, body):
    command = send_reboot(alice)
    response = bob.post(f"/api/telecommands/{command['id']}/reject", json=body)
    assert response.status_code in (400, 415, 422) and response.is_json


@pytest.mark.parametrize("path", ["approve", "reject"])
@pytest.mark.parametrize("command_id", ["0b7e9c52-6f1d-4a8e-b3c2-9d5a1e7f4c30", "not-a-uuid", "%00"])
def test_unknown_commands_are_404(bob, path, command_id):
    assert_error(bob.post(f"/api/telecommands/{command_id}/{path}", json={"reason": "r"}), 404,
                 "not_found")


def test_a_ready_command_is_not_awaiting_approval(alice, bob):
    ping = alice.post("/api/telecommands", json={"command_name": "PING"}).get_json()
    body = assert_error(bob.post(f"/api/telecommands/{ping['id']}/approve"), 409,
                        "not_awaiting_approval")
    assert body["status"] == "READY"


def test_cancel_also_cancels_a_command_awaiting_approval(alice):
    command = send_reboot(alice)
    cancelled = alice.put(f"/api/telecommands/{command['id']}/cancel").get_json()
    assert (cancelled["status"], cancelled["status_reason"]) == ("CANCELLED", "cancelled by alice")


def _age(database, command_id: str, seconds: float) -> None:
    with database.transaction() as session:
        session.execute(update(Telecommand).where(Telecommand.id == uuid.UUID(command_id))
                        .values(created_at=utcnow() - timedelta(seconds=seconds)))


def test_an_old_request_expires_cancelled_and_fresh_ones_stay(alice, database):
    old, fresh = send_reboot(alice), send_reboot(alice)
    _age(database, old["id"], 3601)

    with database.transaction() as session:
        assert approval.expire(session, 3600, actor="worker-1") == 1

    expired = alice.get(f"/api/telecommands/{old['id']}").get_json()
    assert (expired["status"], expired["status_reason"]) == ("CANCELLED", "approval expired")
    assert expired["history"][-1]["actor"] == "worker-1"
    assert alice.get(f"/api/telecommands/{fresh['id']}").get_json()["status"] == \
        "AWAITING_APPROVAL"


def test_approving_a_request_past_its_timeout_expires_it_instead(alice, bob, database):
    command = send_reboot(alice)
    _age(database, command["id"], 3601)

    body = assert_error(bob.post(f"/api/telecommands/{command['id']}/approve"), 409,
                        "not_awaiting_approval")
    assert body["status"] == "CANCELLED"
    assert alice.get(f"/api/telecommands/{command['id']}").get_json()["status_reason"] == \
        "approval expired"


def test_the_worker_never_schedules_a_command_awaiting_approval(alice, database):
    from command_sender import claims

    command = send_reboot(alice)
    with database.transaction() as session:
        claims.schedule_new(session, 0, 100)
        assert claims.claim_due(session, "w", 100, 30) == []
        row = session.get(Telecommand, uuid.UUID(command["id"]))
        assert (row.status, row.transmit_at, row.next_step_at) == ("AWAITING_APPROVAL", None, None)


def test_approve_racing_cancel_has_exactly_one_winner(app, database, alice):
    """Two sessions at once, many times: the approver and the canceller (each its own
    transaction) both try to move the command out of AWAITING_APPROVAL; exactly one does.
    (A cancel that loses to the approval may still cancel the READY command after it.)"""
    for _ in range(10):
        command_id = uuid.UUID(send_reboot(alice)["id"])
        outcomes: dict[str, bool] = {}
        barrier = threading.Barrier(2)

        def approve():
            barrier.wait(timeout=10)
            try:
                with database.transaction() as session:
                    approval.approve(session, command_id, approver="bob", timeout_s=3600)
                outcomes["approve"] = True
            except approval.NotAwaitingApproval:
                outcomes["approve"] = False

        def cancel():
            barrier.wait(timeout=10)
            try:
                with database.transaction() as session:
                    telecommands.cancel(session, command_id, operator="carol")
                outcomes["cancel"] = True
            except telecommands.NotCancellable:
                outcomes["cancel"] = False

        threads = [threading.Thread(target=approve), threading.Thread(target=cancel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        with database.transaction() as session:
            left = session.scalars(select(TelecommandHistory.to_status).where(
                TelecommandHistory.telecommand_id == command_id,
                TelecommandHistory.from_status == "AWAITING_APPROVAL")).all()
            status = lifecycle.current_status(session, command_id).value
        assert len(left) == 1, left  # one winner out of AWAITING_APPROVAL
        assert outcomes["approve"] == (left == ["READY"])
        assert status == ("CANCELLED" if outcomes["cancel"] else "READY")
    assert history_problems(database) == []

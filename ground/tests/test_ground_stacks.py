"""Command stacks through the API, the command-sender's advance pass run by hand in between:
each step is created only once the previous one reached its stage, a failure stops the stack
(or not, per stack), and a cancel cancels what was not transmitted yet."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from mission_control import lifecycle, stacks
from mission_control.models import Telecommand
from mission_control.stack_models import StackStep
from mission_control.status import Status
from mission_control.testing import assert_error

PATH = [Status.READY, Status.TRANSMITTED, Status.ACKNOWLEDGED]


def step(command_name="PING", wait_for="EXECUTED", **more):
    return {"command_name": command_name, "wait_for": wait_for, **more}


def create(client, *steps, **more):
    response = client.post("/api/stacks", json={"target": "spacecraft", "steps": list(steps),
                                                 **more})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def advance(database):
    with database.transaction() as session:
        return stacks.advance(session, actor="test-worker", approval_policy="none")


def move(database, command_id, *path):
    """Walk a command along ``path`` (statuses, the first its current one)."""
    with database.transaction() as session:
        for here, there in zip(path, path[1:]):
            assert lifecycle.transition(session, uuid.UUID(command_id), here, there,
                                        actor="test-worker", reason="as told")


def show(client, stack_id):
    response = client.get(f"/api/stacks/{stack_id}")
    assert response.status_code == 200
    return response.get_json()


def commands(database):
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(Telecommand))


def test_steps_are_sent_in_order_each_after_the_previous_reached_its_stage(client, database):
    stack = create(client, step(wait_for="ACKNOWLEDGED"), step("SET_HEATER", args={"on": True}),
                   step(delay_s=5), name="warm up")
    first = stack["steps"][0]["telecommand_id"]
    assert stack["status"] == "RUNNING" and stack["progress"] == {"done": 0, "total": 3}
    assert [s["status"] for s in stack["steps"]] == ["READY", "PENDING", "PENDING"]

    advance(database)
    move(database, first, Status.READY, Status.TRANSMITTED)
    advance(database)
    assert commands(database) == 1  # not acknowledged yet: step 2 waits

    move(database, first, Status.TRANSMITTED, Status.ACKNOWLEDGED)
    advance(database)
    second = show(client, stack["id"])["steps"][1]
    assert second["status"] == "READY" and commands(database) == 2
    with database.transaction() as session:
        command = session.get(Telecommand, uuid.UUID(second["telecommand_id"]))
        assert command.stack_id == uuid.UUID(stack["id"]) and command.args == {"on": True}

    move(database, second["telecommand_id"], *PATH)
    advance(database)
    assert commands(database) == 2  # step 2 waits for EXECUTED
    move(database, second["telecommand_id"], Status.ACKNOWLEDGED, Status.EXECUTED)
    advance(database)
    third = show(client, stack["id"])["steps"][2]
    with database.transaction() as session:
        command = session.get(Telecommand, uuid.UUID(third["telecommand_id"]))
        assert 4 < (command.transmit_at - command.created_at).total_seconds() <= 5

    move(database, first, Status.ACKNOWLEDGED, Status.EXECUTED)
    move(database, third["telecommand_id"], *PATH, Status.EXECUTED)
    advance(database)
    done = show(client, stack["id"])
    assert done["status"] == "COMPLETED" and done["progress"] == {"done": 3, "total": 3}
    assert [s["status"] for s in done["steps"]] == ["EXECUTED"] * 3


def test_a_failed_step_stops_the_stack(client, database):
    stack = create(client, step(), step(), step())
    move(database, stack["steps"][0]["telecommand_id"], *PATH, Status.FAILED)
    advance(database)

    stopped = show(client, stack["id"])
    assert stopped["status"] == "FAILED"
    assert "step 1 (PING) FAILED: as told" == stopped["status_reason"]
    assert [s["status"] for s in stopped["steps"]] == ["FAILED", "SKIPPED", "SKIPPED"]
    advance(database)
    assert commands(database) == 1


def test_a_cancelled_step_stops_the_stack_too(client, database):
    stack = create(client, step(), step())
    client.put(f"/api/telecommands/{stack['steps'][0]['telecommand_id']}/cancel")
    advance(database)
    assert show(client, stack["id"])["status"] == "FAILED"
    assert commands(database) == 1


def test_on_failure_continue_goes_on_and_completes(client, database):
    stack = create(client, step(), step(), on_failure="continue")
    move(database, stack["steps"][0]["telecommand_id"], *PATH, Status.FAILED)
    advance(database)
    second = show(client, stack["id"])["steps"][1]
    assert second["status"] == "READY"

    move(database, second["telecommand_id"], *PATH, Status.EXECUTED)
    advance(database)
    done = show(client, stack["id"])
    assert done["status"] == "COMPLETED" and done["status_reason"] == "1 of 2 steps unsuccessful"


def test_cancel_cancels_the_ready_step_and_skips_the_rest(client, database):
    stack = create(client, step(), step(), step())
    response = client.post(f"/api/stacks/{stack['id']}/cancel")
    assert response.status_code == 200
    cancelled = response.get_json()
    assert cancelled["status"] == "CANCELLED"
    assert [s["status"] for s in cancelled["steps"]] == ["CANCELLED", "SKIPPED", "SKIPPED"]
    advance(database)
    assert commands(database) == 1

    again = client.post(f"/api/stacks/{stack['id']}/cancel")
    assert assert_error(again, 409, "not_cancellable")["status"] == "CANCELLED"


def test_cancel_leaves_a_transmitted_step_to_finish(client, database):
    stack = create(client, step(), step())
    first = stack["steps"][0]["telecommand_id"]
    move(database, first, Status.READY, Status.TRANSMITTED)
    assert client.post(f"/api/stacks/{stack['id']}/cancel").status_code == 200
    move(database, first, *PATH[1:], Status.EXECUTED)
    advance(database)
    shown = show(client, stack["id"])
    assert shown["status"] == "CANCELLED" and shown["steps"][1]["status"] == "SKIPPED"


def test_a_step_is_created_once_however_often_the_pass_runs(client, database):
    stack = create(client, step(wait_for="ACKNOWLEDGED"), step())
    move(database, stack["steps"][0]["telecommand_id"], *PATH)
    for _ in range(3):
        advance(database)
    with database.transaction() as session:
        sent = session.scalars(select(StackStep.telecommand_id)
                               .where(StackStep.stack_id == uuid.UUID(stack["id"]))).all()
    assert commands(database) == 2 and None not in sent


def test_list_is_paginated_newest_first_and_filters_by_status(client, database):
    older = create(client, step())
    newer = create(client, step())
    client.post(f"/api/stacks/{older['id']}/cancel")

    page = client.get("/api/stacks?limit=1").get_json()
    assert page["total"] == 2 and [s["id"] for s in page["items"]] == [newer["id"]]
    assert "steps" not in page["items"][0] and page["items"][0]["progress"]["total"] == 1
    running = client.get("/api/stacks?status=RUNNING").get_json()
    assert [s["id"] for s in running["items"]] == [newer["id"]]


@pytest.mark.parametrize("body,error,index", [
    ({"target": "spacecraft", "steps": [step(), step("NOPE")]}, "invalid_command", 1),
    ({"target": "spacecraft", "steps": [step("SET_HEATER", args={"on": "yes"})]},
     "invalid_command", 0),
    ({"target": "spacecraft", "steps": [step(), step(), step("REBOOT")]}, "invalid_command", 2),
    ({"target": "mars", "steps": [step()]}, "unknown_target", 0),
    ({"target": "spacecraft", "steps": [step(module_id="m-1")]}, "unknown_target", 0),
])
def test_a_refused_step_is_named_and_nothing_is_stored(client, database, body, error, index):
    refused = assert_error(client.post("/api/stacks", json=body), 422, error)
    assert refused["step"] == index and f"steps[{index}]" in refused["message"]
    assert client.get("/api/stacks").get_json()["total"] == 0 and commands(database) == 0


def test_a_hazardous_step_with_confirm_is_accepted(client):
    stack = create(client, step("REBOOT", confirm=True))
    assert stack["steps"][0]["confirm"] is True


@pytest.mark.parametrize("body", [
    {"target": "spacecraft", "steps": []},
    {"target": "spacecraft", "steps": [step()] * 101},
    {"target": "spacecraft", "steps": [step(delay_s=-1)]},
    {"target": "spacecraft", "steps": [step(delay_s=86_401)]},
    {"target": "spacecraft", "steps": [step(wait_for="TRANSMITTED")]},
    {"target": "spacecraft", "steps": [{"command_name": "PING"}]},
    {"target": "spacecraft", "on_failure": "retry", "steps": [step()]},
    {"target": "spacecraft", "steps": [step(extra=1)]},
    {"steps": [step()]},
    {"target": "space\x00craft", "steps": [step()]},
    {"target": "spacecraft", "steps": "PING"},
    [],
])
def test_bad_bodies_are_422(client, database, body):
    assert_error(client.post("/api/stacks", json=body), 422)
    assert commands(database) == 0


@pytest.mark.parametrize("path", ["/api/stacks/nope", "/api/stacks/844c38b2-87cf-4b0a-9267-6a6aba1f517f",
                                  "/api/stacks/1%00"])
def test_unknown_or_malformed_ids_are_404(client, path):
    assert_error(client.get(path), 404, "not_found")
    assert_error(client.post(path + "/cancel"), 404, "not_found")


@pytest.mark.parametrize("query", ["status=DONE", "limit=0", "limit=501", "offset=-1",
                                   "limit=1&limit=2", "color=red"])
def test_bad_list_queries_are_422(client, query):
    assert_error(client.get(f"/api/stacks?{query}"), 422)


def test_the_page_lists_stacks_live_and_cancels_them(client, database):
    stack = create(client, step(), step(), name="page stack")
    page = client.get("/stacks")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "page stack" in html and f'id="cancel-{stack["id"]}"' in html
    assert 'hx-trigger="every 1s"' in html and 'id="nav-stacks"' in html

    fragment = client.get("/ui/stacks")
    version = fragment.get_data(as_text=True).split('data-version="')[1].split('"')[0]
    assert client.get(f"/ui/stacks?since={version}").status_code == 204

    csrf = html.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post(f"/ui/stacks/{stack['id']}/cancel", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert show(client, stack["id"])["status"] == "CANCELLED"
    assert client.get(f"/ui/stacks?since={version}").status_code == 200


def test_stacks_waiting_for_their_step_do_not_crowd_out_those_due(client, database):
    waiting = [create(client, step()) for _ in range(3)]
    due = create(client, step(), step())
    move(database, due["steps"][0]["telecommand_id"], *PATH, Status.EXECUTED)
    with database.transaction() as session:
        assert len(stacks.advance(session, actor="test-worker", approval_policy="none", limit=1)) == 1
    assert show(client, due["id"])["steps"][1]["status"] == "READY"
    assert all(show(client, s["id"])["progress"]["done"] == 0 for s in waiting)

"""Execution at most once when executors, re-sends and polls race on the same commands."""

from __future__ import annotations

from sqlalchemy import select

from mission_control.models import UplinkedCommand
from mission_control.testing import run_together

from .conftest import executor_of

THREADS = 8


def test_concurrent_resends_polls_and_executors_execute_each_command_once(app, command):
    commands = [command("CAPTURE_IMAGE", {"exposure_ms": 5}) for _ in range(12)]
    executor = executor_of(app)

    def resend_poll_and_execute(index: int) -> list[int]:
        client = app.test_client()
        statuses = []
        for body in commands:
            statuses.append(client.post("/commands", json=body).status_code)
            statuses.append(client.get(f"/commands/{body['id']}").status_code)
            executor.run_once()
            if index % 2:
                statuses.append(client.get("/state").status_code)
        return statuses

    for statuses in run_together(resend_poll_and_execute):
        assert set(statuses) <= {200, 202}

    client = app.test_client()
    for body in commands:
        report = client.get(f"/commands/{body['id']}").get_json()
        assert (report["state"], report["executions"], report["receipts"]) == \
            ("EXECUTED", 1, THREADS)
    assert client.get("/state").get_json()["images_captured"] == len(commands)


def test_racing_executions_of_one_command_have_one_winner(app, command):
    body = command("CAPTURE_IMAGE", {"exposure_ms": 5})
    app.test_client().post("/commands", json=body)
    executor = executor_of(app)

    ran = run_together(lambda _index: executor.run_once())

    assert sorted(ran) == [0] * (THREADS - 1) + [1]
    assert app.extensions["onboard"].state().images_captured == 1


def test_two_executors_racing_over_300_due_commands_run_each_once(make_app, command, database):
    # Two apps are two processes' worth of executor on one database; small passes interleave.
    apps = [make_app(uplink_batch_max=40) for _ in range(2)]
    bodies = [command("CAPTURE_IMAGE", {"exposure_ms": n + 1}) for n in range(300)]
    client = apps[0].test_client()
    for start in range(0, len(bodies), 40):
        assert client.post("/commands", json={"commands": bodies[start:start + 40]}).status_code == 202

    ran = run_together(lambda index: executor_of(apps[index % 2]).run_until_idle(), count=4)

    assert sum(ran) == 300
    with database.transaction() as session:
        rows = session.execute(select(UplinkedCommand.state, UplinkedCommand.executions)).all()
    assert len(rows) == 300 and set(rows) == {("EXECUTED", 1)}
    assert client.get("/state").get_json()["images_captured"] == 300

"""Execution at most once when many threads re-send and poll the same commands at once."""

from __future__ import annotations


from spacecraft.onboard import Onboard
from mission_control.testing import run_together

THREADS = 8


def test_concurrent_resends_and_polls_execute_each_command_once(make_app, command):
    app = make_app()
    commands = [command("CAPTURE_IMAGE", {"exposure_ms": 5}) for _ in range(12)]

    def resend_and_poll(index: int) -> list[int]:
        client = app.test_client()
        statuses = []
        for body in commands:
            statuses.append(client.post("/commands", json=body).status_code)
            statuses.append(client.get(f"/commands/{body['id']}").status_code)
            if index % 2:
                statuses.append(client.get("/state").status_code)
        return statuses

    for statuses in run_together(resend_and_poll):
        assert set(statuses) <= {200, 202}

    client = app.test_client()
    for body in commands:
        report = client.get(f"/commands/{body['id']}").get_json()
        assert (report["state"], report["executions"], report["receipts"]) == \
            ("EXECUTED", 1, THREADS)
    assert client.get("/state").get_json()["images_captured"] == len(commands)


def test_racing_executions_of_one_command_have_one_winner(make_app, command):
    app = make_app()
    body = command("CAPTURE_IMAGE", {"exposure_ms": 5})
    app.test_client().post("/commands", json=body)
    onboard: Onboard = app.extensions["onboard"]

    outcomes = run_together(lambda _index: onboard.execute_if_due(body["id"]))

    assert sorted(outcomes, key=str) == ["EXECUTED"] + [None] * (THREADS - 1)
    assert onboard.state().images_captured == 1

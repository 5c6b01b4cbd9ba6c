"""Execution at most once when many threads re-send and poll the same commands at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from spacecraft.onboard import Onboard

THREADS = 8


def run_together(work, count: int = THREADS) -> list:
    """Run ``work(index)`` in ``count`` threads released at the same moment; re-raise failures."""
    barrier = threading.Barrier(count)

    def start(index: int):
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return [future.result() for future in [pool.submit(start, i) for i in range(count)]]


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

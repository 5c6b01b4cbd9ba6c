"""The executor runs commands on its own clock; reads never execute; a crashed pass undoes all."""

from __future__ import annotations

import random
import time

import pytest
from sqlalchemy import event, select

from mission_control.models import UplinkedCommand

from .conftest import executor_of


def stored(database, command_id: str) -> tuple[str, int]:
    with database.transaction() as session:
        row = session.execute(select(UplinkedCommand.state, UplinkedCommand.executions)
                              .where(UplinkedCommand.id == command_id)).one()
    return row.state, row.executions


def wait_executed(database, command_id: str, timeout: float = 10) -> float:
    """Seconds until the command is EXECUTED, asking only the database."""
    started = time.monotonic()
    while stored(database, command_id) != ("EXECUTED", 1):
        assert time.monotonic() - started < timeout, f"{command_id} never executed"
        time.sleep(0.01)
    return time.monotonic() - started


def test_command_nobody_asks_about_executes_on_its_own(app, command, database):
    executor_of(app).start()
    body = command("SET_HEATER", {"on": True})
    app.test_client().post("/commands", json=body)

    wait_executed(database, body["id"])
    assert app.extensions["onboard"].state().heater_on is True


def test_receipt_wakes_the_executor_before_its_poll(make_app, command, database):
    app = make_app(executor_poll_s=30)
    executor_of(app).start()
    time.sleep(0.1)  # the thread's first pass is over; it now sleeps for the poll period
    body = command("PING")
    app.test_client().post("/commands", json=body)

    assert wait_executed(database, body["id"]) < 5


def test_executor_sleeps_until_the_next_command_is_due(make_app, command, database):
    app = make_app(executor_poll_s=30, max_stage_delay_s=0.3)
    executor_of(app).start()
    body = command("PING")
    app.test_client().post("/commands", json=body)

    assert wait_executed(database, body["id"]) < 5


def test_outside_gunicorn_a_receipt_starts_the_executor(make_app, command, database):
    app = make_app()
    app.extensions["executor"].on_demand = True
    body = command("PING")
    app.test_client().post("/commands", json=body)

    wait_executed(database, body["id"])


def test_stopped_executor_finishes_and_runs_nothing_more(app, command, database):
    executor = executor_of(app)
    executor.start()
    assert executor.running
    executor.stop()
    assert not executor.running
    body = command("PING")
    app.test_client().post("/commands", json=body)
    time.sleep(0.3)
    assert stored(database, body["id"]) == ("RECEIVED", 0)


def test_reads_never_execute(client, command, database, run_executor):
    body = command("CAPTURE_IMAGE", {"exposure_ms": 5})
    client.post("/commands", json=body)

    report = client.get(f"/commands/{body['id']}").get_json()
    queried = client.post("/commands/query", json={"ids": [body["id"]]}).get_json()
    state = client.get("/state").get_json()
    assert (report["state"], report["executions"]) == ("RECEIVED", 0)
    assert queried["commands"][0]["state"] == "RECEIVED"
    assert state["images_captured"] == 0
    assert stored(database, body["id"]) == ("RECEIVED", 0)

    assert run_executor() == 1
    assert client.get(f"/commands/{body['id']}").get_json()["state"] == "EXECUTED"


class FailingDraws(random.Random):
    """A random source that breaks after ``good`` draws, as a crash in the middle of a pass."""

    def __init__(self, good: int) -> None:
        super().__init__(1)
        self.good = good

    def random(self) -> float:
        if self.good == 0:
            raise RuntimeError("crash in the middle of the pass")
        self.good -= 1
        return super().random()


def _post_due_commands(app, command, count: int = 10) -> list[str]:
    bodies = [command("CAPTURE_IMAGE", {"exposure_ms": n + 1}) for n in range(count)]
    assert app.test_client().post("/commands", json={"commands": bodies}).status_code == 202
    return [body["id"] for body in bodies]


def _assert_all_received(app, database, ids: list[str]) -> None:
    assert {stored(database, command_id) for command_id in ids} == {("RECEIVED", 0)}
    assert app.extensions["onboard"].state().images_captured == 0


def test_crash_while_applying_commands_leaves_every_claimed_command_received(app, command,
                                                                              database):
    ids = _post_due_commands(app, command)
    executor = executor_of(app)
    executor.rng = FailingDraws(good=5)

    with pytest.raises(RuntimeError):
        executor.run_once()
    _assert_all_received(app, database, ids)

    executor.rng = random.Random()
    assert executor.run_until_idle() == len(ids)
    assert {stored(database, command_id) for command_id in ids} == {("EXECUTED", 1)}


def test_crash_at_the_last_write_of_a_pass_undoes_the_outcomes_too(app, command, database):
    ids = _post_due_commands(app, command)

    def fail_on_state_write(_conn, _cursor, statement, *_args):
        if statement.startswith("UPDATE spacecraft_state"):
            raise RuntimeError("crash before the commit")

    event.listen(database.engine, "before_cursor_execute", fail_on_state_write)
    try:
        with pytest.raises(RuntimeError):
            executor_of(app).run_once()
    finally:
        event.remove(database.engine, "before_cursor_execute", fail_on_state_write)
    _assert_all_received(app, database, ids)

    assert executor_of(app).run_until_idle() == len(ids)
    assert app.extensions["onboard"].state().images_captured == len(ids)

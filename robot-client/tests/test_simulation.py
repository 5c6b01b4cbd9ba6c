"""What a simulated robot decides without I/O: module commands follow the catalog's
MODULE_TRANSITIONS, a command that makes no sense in the module's status fails naming both
statuses, a failed execution leaves the module FAILED; the telemetry buffer counts what it
drops; the backoff grows to its cap, with jitter."""

from __future__ import annotations

import random

import pytest

from mission_control.catalog import MODULE_TRANSITIONS
from robot_client.waiting import Backoff
from robot_client.simulation import SimulatedRobot, TelemetryBuffer

MODULE = "6f1b0c1e-0000-4000-8000-000000000001"


def robot(status: str = "IDLE") -> SimulatedRobot:
    return SimulatedRobot(modules={MODULE: status}, rng=random.Random(7))


def command(name: str, module_id: str | None = MODULE, **args) -> dict:
    return {"id": "c1", "command_name": name, "args": args, "module_id": module_id}


@pytest.mark.parametrize("name", sorted(MODULE_TRANSITIONS))
def test_a_module_command_moves_the_module_as_the_catalog_says(name):
    needed, after = MODULE_TRANSITIONS[name]
    simulated = robot(needed)
    outcome = simulated.execute(command(name), failure_rate=0)
    assert outcome.to_json() == {"status": "EXECUTED", "detail": None, "module_status": after}
    assert simulated.modules[MODULE] == after


@pytest.mark.parametrize("name", sorted(MODULE_TRANSITIONS))
def test_a_module_command_in_the_wrong_status_fails_naming_both_and_changes_nothing(name):
    needed, _ = MODULE_TRANSITIONS[name]
    wrong = next(s for s in ("IDLE", "RUNNING", "FAILED") if s != needed)
    simulated = robot(wrong)
    outcome = simulated.execute(command(name), failure_rate=0)
    assert outcome.status == "FAILED" and outcome.module_status == wrong
    assert needed in outcome.detail and wrong in outcome.detail
    assert simulated.modules[MODULE] == wrong


def test_a_failed_execution_leaves_the_module_failed():
    simulated = robot("IDLE")
    outcome = simulated.execute(command("START"), failure_rate=1)
    assert (outcome.status, outcome.module_status) == ("FAILED", "FAILED")
    assert simulated.modules[MODULE] == "FAILED"
    assert simulated.execute(command("RESET"), failure_rate=0).module_status == "IDLE"


def test_a_command_for_a_module_of_another_robot_fails():
    outcome = robot().execute(command("START", "6f1b0c1e-0000-4000-8000-000000000002"), 0)
    assert outcome.status == "FAILED" and "not a module of this robot" in outcome.detail


def test_robot_commands_change_its_state_and_report_no_module_status():
    simulated = robot()
    moved = simulated.execute(command("MOVE_TO", None, x=3.0, y=-2.0, z=0.5), failure_rate=0)
    assert moved.to_json() == {"status": "EXECUTED", "detail": None, "module_status": None}
    assert simulated.telemetry()["position"] == {"x": 3.0, "y": -2.0, "z": 0.5}
    simulated.execute(command("DOCK", None), failure_rate=0)
    assert simulated.telemetry()["position"] == {"x": 0.0, "y": 0.0, "z": 0.0}
    failed = simulated.execute(command("PING", None), failure_rate=1)
    assert failed.status == "FAILED" and failed.module_status is None


def test_the_heartbeat_carries_every_module_and_the_newest_telemetry():
    simulated = robot("RUNNING")
    point = simulated.telemetry()
    assert 0 <= point["battery"] <= 100 and 0 <= point["cpu"] <= 100
    assert simulated.heartbeat(point) == {
        "status": "IDLE", "modules": [{"module_id": MODULE, "status": "RUNNING"}],
        "telemetry": point}
    assert "telemetry" not in simulated.heartbeat(None)


def test_the_buffer_keeps_the_newest_points_and_counts_the_dropped():
    buffer = TelemetryBuffer(3)
    for value in range(5):
        buffer.add({"battery": value})
    assert buffer.newest() == {"battery": 4}
    assert [p["battery"] for p in buffer.points] == [2, 3, 4]
    assert buffer.flush() == (3, 2)
    assert buffer.flush() == (0, 0) and buffer.newest() is None


def test_the_backoff_doubles_up_to_its_cap_with_jitter_and_starts_over_after_a_reset():
    backoff = Backoff(cap_s=2.0, rng=random.Random(1))
    delays = [backoff.delay() for _ in range(8)]
    ceilings = [min(2.0, 0.25 * 2 ** n) for n in range(8)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings))
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.delay() <= 0.25

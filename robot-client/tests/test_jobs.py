"""A job's progress reports (robot_client/jobs.py), against a stand-in for robot-server: the
phases in order, the percent rising, and a report that fails does not stop the job."""

from __future__ import annotations

import asyncio

from robot_client import jobs
from robot_client.server import Unavailable


class Server:
    """Records each progress report; fails the ones ``failing`` names (by index)."""

    def __init__(self, failing: tuple[int, ...] = ()) -> None:
        self.reports: list[dict] = []
        self.failing = failing

    async def progress(self, command_id: str, body: dict) -> dict:
        self.reports.append(body)
        if len(self.reports) - 1 in self.failing:
            raise Unavailable("robot-server is away")
        return {"recorded": True}


def run_job(server: Server, name: str, seconds: float, executed: bool = True) -> None:
    command = {"id": "c1", "command_name": name, "args": {}, "module_id": None}

    async def main() -> None:
        await jobs.run(server, command, seconds, asyncio.Event())
        await jobs.finish(server, command, executed)

    asyncio.run(main())


def test_a_move_reports_planning_then_driving_then_arrived():
    server = Server()
    run_job(server, "MOVE_TO", 2.6)
    phases = [r["phase"] for r in server.reports]
    assert phases[0] == "planning" and phases[-1] == "arrived"
    assert set(phases[1:-1]) == {"driving"} and len(phases) >= 4  # about once a second
    percents = [r["percent"] for r in server.reports]
    assert percents == sorted(percents) and (percents[0], percents[-1]) == (0, 100)


def test_a_failed_dock_reports_no_last_phase_and_failed_reports_are_dropped():
    server = Server(failing=(0, 1))
    run_job(server, "DOCK", 0, executed=False)
    assert [r["phase"] for r in server.reports] == ["planning", "driving"]
    run_job(server, "DOCK", 0)
    assert server.reports[-1] == {"percent": 100, "phase": "docked"}


def test_only_robot_commands_of_the_catalogs_jobs_are_jobs():
    assert jobs.is_job({"command_name": "MOVE_TO", "module_id": None})
    assert not jobs.is_job({"command_name": "PING", "module_id": None})
    assert not jobs.is_job({"command_name": "DOCK", "module_id": "m1"})

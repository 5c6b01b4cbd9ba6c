"""Long-running commands (jobs) report their progress while they run (docs/progress.md): a
MOVE_TO or a DOCK spends its random execution time in phases (planning, then driving with
its percent about once a second) and says where it ended before its result.

Progress is best effort: a report that fails (robot-server away, the session lost, the
command already timed out) is not retried; the heartbeat loop deals with the session, and
the result is what counts.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mission_control.catalog import max_silence_s

from .server import (
    Conflict, NotServed, Refused, RetryAfter, RobotServer, SessionLost, Unavailable,
)
from .waiting import pause

log = logging.getLogger(__name__)

REPORT_EVERY_S = 1.0  # robot-server stores about one report a second per command
PLANNING_SHARE = 0.2  # of the execution time
# A job's last phase once it reached its goal.
LAST_PHASE = {"MOVE_TO": "arrived", "DOCK": "docked"}


def is_job(command: dict[str, Any]) -> bool:
    """A robot command the catalog expects progress from (it has a max_silence_s)."""
    return command.get("module_id") is None and \
        max_silence_s(command["command_name"]) is not None


async def report(server: RobotServer, command_id: str, **progress: Any) -> None:
    """One progress report; failures are logged and dropped."""
    try:
        await server.progress(command_id, progress)
    except (Unavailable, RetryAfter, SessionLost, Conflict, NotServed, Refused) as error:
        log.debug("robot command %s: progress not reported (%s: %s)", command_id,
                  type(error).__name__, error)


async def run(server: RobotServer, command: dict[str, Any], seconds: float,
              stop: asyncio.Event) -> None:
    """Spend ``seconds`` executing the job ``command``: planning, then driving with its
    percent (10 to 90) every REPORT_EVERY_S. The caller reports the last phase and the
    result."""
    command_id = command["id"]
    loop = asyncio.get_running_loop()
    await report(server, command_id, phase="planning", percent=0)
    await pause(stop, seconds * PLANNING_SHARE)
    driving = seconds * (1 - PLANNING_SHARE)
    start = loop.time()
    end = start + driving
    while not stop.is_set():
        share = min(1.0, (loop.time() - start) / driving) if driving > 0 else 1.0
        await report(server, command_id, phase="driving", percent=round(10 + 80 * share, 1))
        left = end - loop.time()
        if left <= 0:
            return
        await pause(stop, min(REPORT_EVERY_S, left))


async def finish(server: RobotServer, command: dict[str, Any], executed: bool) -> None:
    """A job that reached its goal says so (100 %) before its result."""
    if executed:
        await report(server, command["id"], percent=100,
                     phase=LAST_PHASE.get(command["command_name"], "done"))

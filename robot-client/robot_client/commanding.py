"""The command half of a robot's engine: the long poll, and each command acknowledged,
executed after a random delay (a job reports its progress meanwhile, jobs.py) and reported.

``RobotEngine`` (engine.py) mixes it in: it provides the session (``server``, ``reopen``), the
simulated robot, the settings, the random source and the counters this loop uses.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from . import jobs
from .server import Conflict, NotServed, Refused, RetryAfter, SessionLost, Unavailable
from .waiting import Backoff, pause

log = logging.getLogger("robot_client.engine")
# The 409 a retry gets when an earlier attempt of the same call landed after all: only this
# robot's session acknowledges and reports its commands, one at a time.
OURS = {"acknowledge": "already_acknowledged", "report": "finished"}


class CommandLoop:
    """Polls, executes and reports a robot's commands (mixed into RobotEngine)."""

    async def _commands(self, stop: asyncio.Event) -> None:
        backoff = Backoff(self.settings.robot_backoff_max_s, self.rng)
        told_not_served = False
        while not stop.is_set():
            token = self.server.token
            try:
                commands = await self.server.poll_commands()
                backoff.reset()
            except SessionLost:
                await self.reopen(token, stop)
                continue
            except NotServed as error:
                if not told_not_served:
                    log.warning("robot %s: robot-server serves no command poll (%s); asking "
                                "again every %.0f s", self.robot_id, error,
                                self.settings.robot_backoff_max_s)
                    told_not_served = True
                await pause(stop, self.settings.robot_backoff_max_s)
                continue
            except RetryAfter as busy:
                await pause(stop, busy.seconds)
                continue
            except (Unavailable, Refused) as error:
                self.stats.errors += 1
                log.debug("robot %s: command poll failed: %s", self.robot_id, error)
                await pause(stop, backoff.delay())
                continue
            for command in commands:
                if stop.is_set():
                    return
                await self.execute(command, stop)

    async def execute(self, command: dict[str, Any], stop: asyncio.Event) -> None:
        """Acknowledge, execute after a random delay (a job reports its progress meanwhile,
        robot_client/jobs.py), report. A 409 on the acknowledgement
        means another delivery got there first (or the command expired): not executed."""
        command_id = command["id"]
        if not await self._call_retrying(stop, "acknowledge", command_id):
            return
        self.robot.status = "RUNNING"
        delay = self.rng.uniform(0, self.settings.max_stage_delay_s)
        job = jobs.is_job(command)
        await (jobs.run(self.server, command, delay, stop) if job else pause(stop, delay))
        outcome = self.robot.execute(command, self.settings.execution_failure_rate)
        if job:
            await jobs.finish(self.server, command, outcome.status == "EXECUTED")
        self.robot.status = "IDLE"
        self.stats.executed += 1
        log.info("robot %s: command %s %s %s%s", self.robot_id, command_id,
                 command["command_name"], outcome.status,
                 f": {outcome.detail}" if outcome.detail else "")
        await self._call_retrying(stop, "report", command_id, outcome.to_json())

    async def _call_retrying(self, stop: asyncio.Event, call: str, command_id: str,
                             *args: Any) -> bool:
        """``acknowledge`` or ``report`` for a command, retried over connection errors and
        5xx; False when robot-server refuses it (409 and other 4xx). An attempt that got no
        answer may still have landed: a retry told that the command is acknowledged already
        (or finished) is answered by our own first attempt, not another's."""
        backoff = Backoff(self.settings.robot_backoff_max_s, self.rng)
        tried = False
        while not stop.is_set():
            token = self.server.token
            try:
                await getattr(self.server, call)(command_id, *args)
                return True
            except SessionLost:
                await self.reopen(token, stop)
            except Conflict as conflict:
                if tried and conflict.error == OURS[call]:
                    log.info("robot %s: command %s: an earlier %s got through", self.robot_id,
                             command_id, call)
                    return True
                log.info("robot %s: command %s: %s refused (409 %s)", self.robot_id,
                         command_id, call, conflict)
                return False
            except (NotServed, Refused) as error:
                log.warning("robot %s: command %s: %s refused (%s)", self.robot_id, command_id,
                            call, error)
                return False
            except (Unavailable, RetryAfter) as error:
                self.stats.errors += 1
                tried = tried or isinstance(error, Unavailable)
                await pause(stop, error.seconds if isinstance(error, RetryAfter)
                            else backoff.delay())
        return False

"""The engine's acknowledge/report retries over a network that loses answers: a retry told
409 "already acknowledged" after an attempt that got no answer is that attempt's own success
(the command runs); told so on a first attempt, it is another delivery's (it does not run)."""

from __future__ import annotations

import asyncio
import random

import aiohttp

from mission_control.settings import Settings
from robot_client.engine import RobotEngine
from robot_client.server import Conflict, Unavailable


class LostAnswers:
    """Stands in for the network between the robot and robot-server: the first ``lost``
    acknowledgements land but their answers are lost (a timeout); later ones are answered
    409 already_acknowledged, as robot-server answers a second acknowledgement."""

    def __init__(self, lost: int) -> None:
        self.lost = lost
        self.calls = 0
        self.token = "t"

    async def acknowledge(self, command_id: str) -> None:
        self.calls += 1
        if self.calls <= self.lost:
            raise Unavailable("timed out")
        raise Conflict("the command was acknowledged already: it runs once",
                       "already_acknowledged")


def acknowledged(server: LostAnswers) -> bool:
    async def main() -> bool:
        async with aiohttp.ClientSession() as http:
            engine = RobotEngine("r1", "pw", http, Settings(robot_backoff_max_s=0.01),
                                 rng=random.Random(1))
            engine.server = server
            return await engine._call_retrying(asyncio.Event(), "acknowledge", "c1")

    return asyncio.run(main())


def test_a_retry_after_a_lost_answer_counts_the_first_attempt():
    server = LostAnswers(lost=1)
    assert acknowledged(server) is True and server.calls == 2


def test_a_first_attempt_told_already_acknowledged_does_not_run_the_command():
    server = LostAnswers(lost=0)
    assert acknowledged(server) is False and server.calls == 1

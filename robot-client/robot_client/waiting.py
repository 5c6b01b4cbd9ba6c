"""Waiting in the engine's loops: stoppable sleeps, and exponential backoff with jitter."""

from __future__ import annotations

import asyncio
import random

BACKOFF_BASE_S = 0.25


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less when ``stop`` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    except asyncio.TimeoutError:
        pass


async def unless_stopped(stop: asyncio.Event, work) -> bool:
    """Await ``work`` (a coroutine), cancelled when ``stop`` is set first: whether it ran to
    its end. Its exceptions pass up."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        task.cancel()  # nothing when it is done
        await asyncio.gather(task, stopped, return_exceptions=True)
    if task.cancelled():
        return False
    task.result()
    return True


class Backoff:
    """Exponential backoff with jitter: each delay is drawn in [d/2, d], d doubling from
    BACKOFF_BASE_S up to ``cap_s``, so robots cut off together do not return together."""

    def __init__(self, cap_s: float, rng: random.Random) -> None:
        self.cap_s = cap_s
        self.rng = rng
        self.attempt = 0

    def delay(self) -> float:
        ceiling = min(self.cap_s, BACKOFF_BASE_S * 2 ** min(self.attempt, 30))
        self.attempt += 1
        return self.rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0

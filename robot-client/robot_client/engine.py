"""The robot engine that ``run`` and ``fleet`` share: one asyncio task set per robot.

A robot opens a session (waiting out 429/503 Retry-After, backing off while robot-server is
away), then runs two loops until it is stopped: heartbeats every HEARTBEAT_INTERVAL_S with a
new telemetry point each (POSTed, or published over MQTT with ``--transport mqtt``), and the
command long poll (acknowledge, execute, report). Being
asyncio, one process holds thousands of robots, each mostly waiting on a socket.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

import aiohttp

from mission_control.settings import Settings
from mission_control.timeutil import isoformat, utcnow

from .commanding import CommandLoop
from .mqtt_publisher import Publisher
from .server import (
    CALL_TIMEOUT_S, NotServed, Refused, RetryAfter, RobotServer, SessionLost, Unavailable,
)
from .simulation import SimulatedRobot, TelemetryBuffer
from .waiting import Backoff, pause, unless_stopped

log = logging.getLogger(__name__)
PROFILE_REFRESH_S = 1.0  # an unknown module asks robot-server again at most this often


@dataclass
class Stats:
    """Counters of one process's robots (the fleet's summary line)."""

    sessions: int = 0
    heartbeats: int = 0
    errors: int = 0
    executed: int = 0


class RobotEngine(CommandLoop):
    """One simulated robot talking to robot-server."""

    def __init__(self, robot_id: str, password: str, http: aiohttp.ClientSession,
                 settings: Settings, *, stats: Stats | None = None,
                 rng: random.Random | None = None,
                 opening: asyncio.Semaphore | None = None,
                 publisher: Publisher | None = None) -> None:
        self.robot_id = robot_id
        # --transport mqtt: heartbeats go to the broker; the session and commands stay HTTP.
        self.publisher = publisher
        self.password = password
        self.settings = settings
        self.stats = stats or Stats()
        self.rng = rng or random.Random()
        self.server = RobotServer(http, settings.robot_server_url, robot_id)
        # Somewhere on the floor near the origin (a fleet's robots do not all stand on one spot).
        self.robot = SimulatedRobot(rng=self.rng, position={
            "x": round(self.rng.uniform(0.0, 10.0), 1), "y": round(self.rng.uniform(-3.0, 5.0), 1),
            "z": 0.0})
        self.buffer = TelemetryBuffer(settings.telemetry_buffer_points)
        self.profile: dict[str, Any] = {}
        self._session_lock = asyncio.Lock()
        # A fleet's robots share one: how many of them wait on a session (argon2) at once.
        self.opening = opening or asyncio.Semaphore(1)
        self._profile_read_at = 0.0

    # -- the session --------------------------------------------------------------------

    async def open_session(self, stop: asyncio.Event) -> bool:
        """Open a session and read the robot's profile, retrying until done or stopped;
        WrongPassword when robot-server refuses the password."""
        backoff = Backoff(self.settings.robot_backoff_max_s, self.rng)
        while not stop.is_set():
            try:
                if self.server.token is None:
                    if not await unless_stopped(stop, self._open()):
                        return False
                    self.stats.sessions += 1
                    log.info("robot %s: session opened", self.robot_id)
                await self.read_profile()
                return True
            except RetryAfter as busy:  # robot-server is hashing other robots' passwords
                delay = busy.seconds + self.rng.uniform(0, max(1.0, busy.seconds))
                log.info("robot %s: robot-server asks to wait (%s); next try in %.1f s",
                         self.robot_id, busy, delay)
            except SessionLost:  # the new session was lost before its first use
                self._forget_session()
                delay = backoff.delay()
            except (Unavailable, NotServed, Refused) as error:
                self.stats.errors += 1
                delay = backoff.delay()
                log.warning("robot %s: cannot open a session (%s); next try in %.1f s",
                            self.robot_id, error, delay)
            await pause(stop, delay)
        return False

    async def _open(self) -> None:
        async with self.opening:
            await self.server.open_session(self.password)

    def _forget_session(self) -> None:
        if self.server.token is not None:
            self.server.token = None
            self.stats.sessions -= 1

    async def reopen(self, stale_token: str | None, stop: asyncio.Event) -> None:
        """After a 401: open a new session, once however many loops noticed it."""
        async with self._session_lock:
            if self.server.token == stale_token:
                log.info("robot %s: session expired or lost; opening a new one", self.robot_id)
                self._forget_session()
                await self.open_session(stop)

    async def read_profile(self) -> None:
        """The robot's address and modules; modules new to the robot take the registry's
        status, the ones it knows keep their own."""
        self.profile = await self.server.profile()
        self._profile_read_at = asyncio.get_running_loop().time()
        registered = {m["id"]: m["status"] for m in self.profile["modules"]}
        self.robot.modules = {module_id: self.robot.modules.get(module_id, status)
                              for module_id, status in registered.items()}

    async def close(self) -> None:
        """Close the session (deregistration: robot-server marks the robot offline)."""
        if self.server.token is None:
            return
        try:
            await self.server.close_session()
            log.info("robot %s: session closed", self.robot_id)
        except Exception as error:  # leaving anyway: the session lapses by itself
            log.warning("robot %s: could not close the session: %s", self.robot_id, error)
        self.stats.sessions -= 1

    # -- modules (from the listener) ------------------------------------------------------

    async def set_module_status(self, module_id: str, status: str) -> str | None:
        """Take a module's new status for the next heartbeat; its time, or None when the
        module is not this robot's (robot-server is asked again, for one added since)."""
        if module_id not in self.robot.modules and self.server.token is not None and \
                asyncio.get_running_loop().time() - self._profile_read_at > PROFILE_REFRESH_S:
            try:
                await self.read_profile()
            except Exception as error:
                log.warning("robot %s: could not read its modules: %s", self.robot_id, error)
        if module_id not in self.robot.modules:
            return None
        self.robot.modules[module_id] = status
        log.info("robot %s: module %s is %s", self.robot_id, module_id, status)
        return isoformat(utcnow())

    # -- the loops ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Open the session, heartbeat and execute commands until ``stop``; then close it.
        WrongPassword (or any other error of a loop) ends the run and is raised."""
        if not await self.open_session(stop):
            return
        heartbeats = asyncio.create_task(self._heartbeats(stop))
        tasks = [heartbeats, asyncio.create_task(self._commands(stop)),
                 asyncio.create_task(stop.wait())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks[1:]:
                task.cancel()
            if stop.is_set():
                # A heartbeat in flight lands before the session closes: cut off, robot-server
                # could record it after the close and show the robot online again.
                await asyncio.wait([heartbeats], timeout=CALL_TIMEOUT_S)
            heartbeats.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await self.close()
        for result in results:
            if isinstance(result, BaseException) and \
                    not isinstance(result, asyncio.CancelledError):
                raise result

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        interval = self.settings.heartbeat_interval_s
        backoff = Backoff(self.settings.robot_backoff_max_s, self.rng)
        next_try = 0.0
        failing = False
        while not stop.is_set():
            tick = loop.time()
            self.buffer.add(self.robot.telemetry())
            if tick >= next_try:
                token = self.server.token
                try:
                    await self._send_heartbeat(self.robot.heartbeat(self.buffer.newest()))
                except SessionLost:
                    await self.reopen(token, stop)
                    continue
                except (Unavailable, RetryAfter) as error:
                    self.stats.errors += 1
                    delay = error.seconds if isinstance(error, RetryAfter) else backoff.delay()
                    next_try = loop.time() + delay
                    # The first failure of a run is a warning; the retries that follow, info.
                    log.log(logging.INFO if failing else logging.WARNING,
                            "robot %s: heartbeat failed (%s); next try in %.1f s, %d "
                                "telemetry points buffered, %d dropped", self.robot_id, error,
                            delay, len(self.buffer.points), self.buffer.dropped)
                    failing = True
                except (Refused, NotServed) as error:  # e.g. a module deleted meanwhile
                    self.stats.errors += 1
                    log.warning("robot %s: heartbeat refused (%s); reading its modules again",
                                self.robot_id, error)
                    await self._read_profile_quietly()
                else:
                    self.stats.heartbeats += 1
                    held, dropped = self.buffer.flush()
                    if failing:
                        log.info("robot %s: robot-server reached again; sent the newest of %d "
                                 "buffered telemetry points (%d dropped while away)",
                                 self.robot_id, held, dropped)
                    failing = False
                    backoff.reset()
            await pause(stop, tick + interval - loop.time())

    async def _send_heartbeat(self, body: dict[str, Any]) -> None:
        if self.publisher is not None:
            self.publisher.heartbeat(self.robot_id, body)
        else:
            await self.server.heartbeat(body)

    async def _read_profile_quietly(self) -> None:
        try:
            await self.read_profile()
        except Exception as error:
            log.warning("robot %s: could not read its modules: %s", self.robot_id, error)

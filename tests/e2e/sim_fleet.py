"""Simulated robots for fleet-wide tests and the fleet_command bench: robots written straight
to the registry's tables (with their targets, as registry-api writes them: creating thousands
through registry-api would hash each password), and robot-client's engine running any subset
of them in a background thread, started and stopped at will."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid

import aiohttp
from sqlalchemy import insert

from mission_control.models import Target
from mission_control.passwords import hash_password
from mission_control.registry_models import Level, Project, Robot, Workspace
from mission_control.settings import Settings
from mission_control.testing import cheap_hash
from mission_control.timeutil import utcnow
from robot_client.engine import RobotEngine, Stats

PASSWORD = "simulated fleet password"


def add_fleet(database, count: int, prefix: str = "sim", *,
              cheap: bool = False) -> tuple[str, list[str]]:
    """``count`` robots on a new level (one argon2id hash for all; ``cheap``: with the
    cheapest parameters, for tests): the level's id and theirs."""
    now = utcnow()
    level_id = uuid.uuid4()
    stored = cheap_hash(PASSWORD) if cheap else hash_password(PASSWORD)
    robots = [{"id": uuid.uuid4(), "level_id": level_id, "name": f"{prefix}-{i:05d}",
               "owner": "sim", "owner_email": "sim@example.com", "status": "IDLE",
               "password_hash": stored, "created_at": now, "updated_at": now}
              for i in range(count)]
    with database.engine.begin() as connection:
        workspace_id, project_id = uuid.uuid4(), uuid.uuid4()
        connection.execute(insert(Workspace.__table__), {
            "id": workspace_id, "name": f"{prefix}-{workspace_id.hex[:8]}", "description": "",
            "created_at": now, "updated_at": now})
        connection.execute(insert(Project.__table__), {
            "id": project_id, "workspace_id": workspace_id, "name": prefix, "description": "",
            "created_at": now, "updated_at": now})
        connection.execute(insert(Level.__table__), {
            "id": level_id, "project_id": project_id, "name": prefix, "description": "",
            "elevation": 0.0, "created_at": now, "updated_at": now})
        connection.execute(insert(Robot.__table__), robots)
        connection.execute(insert(Target.__table__), [
            {"id": str(r["id"]), "kind": "robot", "name": r["name"], "parent_id": None,
             "created_at": now, "removed_at": None} for r in robots])
    return str(level_id), [str(r["id"]) for r in robots]


class SimulatedFleet:
    """robot-client's engines in one asyncio loop of a background thread."""

    def __init__(self, robot_server_url: str, *, heartbeat_interval_s: float = 1.0,
                 max_stage_delay_s: float = 0.2, execution_failure_rate: float = 0.0) -> None:
        self.settings = Settings(robot_server_url=robot_server_url,
                                 heartbeat_interval_s=heartbeat_interval_s,
                                 max_stage_delay_s=max_stage_delay_s,
                                 execution_failure_rate=execution_failure_rate)
        self.stats = Stats()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._stop: asyncio.Event | None = None
        self._http: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task] = []
        self._engines: list[RobotEngine] = []
        self._rng = random.Random(12)
        self._call(self._open())

    def _call(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _open(self) -> None:
        self._stop = asyncio.Event()
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self._opening = asyncio.Semaphore(100_000)

    def start(self, robot_ids: list[str]) -> None:
        """Run these robots (sessions open, heartbeats, long polls, commands executed)."""
        async def spawn() -> None:
            for robot_id in robot_ids:
                engine = RobotEngine(robot_id, PASSWORD, self._http, self.settings,
                                     stats=self.stats, rng=random.Random(self._rng.random()),
                                     opening=self._opening)
                self._engines.append(engine)
                self._tasks.append(asyncio.create_task(engine.run(self._stop)))
        self._call(spawn())

    def connected(self) -> int:
        """How many of the robots hold a session now."""
        return sum(1 for engine in self._engines if engine.server.token is not None)

    def close(self) -> None:
        """Stop every robot (each closes its session) and the loop."""
        async def finish() -> None:
            self._stop.set()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=15)
            await self._http.close()
        try:
            self._call(finish())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

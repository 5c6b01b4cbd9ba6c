"""The fleet bench's load generator: N robots in one process, driven by robot-client's own
engine (asyncio, aiohttp), with their heartbeats timed and their commands' arrival noted.

Run by bench/fleet.py in a process of its own (``run``). First every robot of the largest step
opens its session, all at once (a reconnect storm: robot-server checks a few passwords at a
time and answers the rest 429 + Retry-After; the clients wait and retry), with no heartbeat
running yet: that is timed, and how many 429 "busy" answers it took is read from robot-server's
/metrics. The sessions outlive the whole run (bench/fleet.py sets ROBOT_SESSION_TTL_S). Then for each step it starts the robots that step adds (their sessions
open already; the robots already running keep beating), lets them settle, then measures a
window: every heartbeat's round trip, errors, and the delivery of PING commands posted to
robot-server's uplink for connected robots (POST /commands -> the robot's long poll returning
it). It reports to the parent through ``queue``: ("sessions", result) when the sessions are
open, ("window", n) when a window starts, ("step", result) when it ends, ("done", None) at the
end.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from mission_control.settings import Settings
from robot_client.engine import RobotEngine, Stats

# Every robot of a step asks for its session at once (a reconnect storm): robot-server bounds
# its password checks and answers 429 + Retry-After beyond them; the clients wait and retry.
OPENING_AT_ONCE = 100_000
SETTLE_S = 5.0            # after the last session opened, before the window
PROBES_PER_S = 10.0       # delivery probes (PING commands) per second
PROBE_LOST_S = 10.0       # a probe not delivered within this counts as lost
SESSIONS_TIMEOUT_S = 900.0


@dataclass
class Probe:
    heartbeats_ms: list[float] = field(default_factory=list)
    heartbeat_errors: int = 0
    sent: dict[str, float] = field(default_factory=dict)      # command id -> time posted
    received: dict[str, float] = field(default_factory=dict)  # command id -> time polled
    post_errors: int = 0

    def reset(self) -> None:
        self.heartbeats_ms.clear()
        self.heartbeat_errors = 0
        self.sent.clear()
        self.received.clear()
        self.post_errors = 0


def _instrument(engine: RobotEngine, probe: Probe) -> None:
    """Time the engine's heartbeats and note when its long poll brings each command."""
    server = engine.server
    heartbeat, poll = server.heartbeat, server.poll_commands

    async def timed_heartbeat(body: dict[str, Any]) -> dict[str, Any]:
        began = time.perf_counter()
        try:
            answer = await heartbeat(body)
        except Exception:
            probe.heartbeat_errors += 1
            raise
        probe.heartbeats_ms.append((time.perf_counter() - began) * 1000.0)
        return answer

    async def noted_poll(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        commands = await poll(*args, **kwargs)
        now = time.time()
        for command in commands:
            probe.received.setdefault(command["id"], now)
        return commands

    server.heartbeat, server.poll_commands = timed_heartbeat, noted_poll


async def _post_probes(http: aiohttp.ClientSession, url: str, uplink_key: str,
                       engines: list[RobotEngine], probe: Probe, stop: asyncio.Event,
                       rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {uplink_key}"}
    while not stop.is_set():
        ready = [e for e in engines if e.server.token is not None]
        if ready:
            engine = rng.choice(ready)
            command_id = str(uuid.uuid4())
            probe.sent[command_id] = time.time()
            try:
                async with http.post(f"{url}/commands", headers=headers, json={
                        "id": command_id, "command_name": "PING", "target": engine.robot_id},
                        timeout=aiohttp.ClientTimeout(total=10)) as response:
                    if response.status != 202:
                        probe.post_errors += 1
            except (aiohttp.ClientError, asyncio.TimeoutError):
                probe.post_errors += 1
        try:
            await asyncio.wait_for(stop.wait(), 1.0 / PROBES_PER_S)
        except asyncio.TimeoutError:
            pass


def _delivery(probe: Probe) -> tuple[list[float], int]:
    latencies = [(probe.received[i] - sent) * 1000.0 for i, sent in probe.sent.items()
                 if i in probe.received]
    return latencies, len(probe.sent) - len(latencies)


async def _refused_busy(http: aiohttp.ClientSession, url: str) -> float:
    """robot-server's count of sessions refused 429 "busy" (all workers), from /metrics."""
    async with http.get(f"{url}/metrics") as response:
        text = await response.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("mc_robot_sessions_refused_total") and 'reason="busy"' in line)


async def _open_sessions(http, url: str, engines: list[RobotEngine], stop: asyncio.Event,
                         stats: Stats) -> dict:
    """Every robot asks for its session at once, before any heartbeat; timed."""
    busy_before = await _refused_busy(http, url)
    began = time.monotonic()
    opening = asyncio.gather(*(engine.open_session(stop) for engine in engines))
    try:
        opened = await asyncio.wait_for(opening, SESSIONS_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise TimeoutError(f"{stats.sessions} of {len(engines)} sessions open after "
                           f"{SESSIONS_TIMEOUT_S:.0f} s") from None
    seconds = time.monotonic() - began
    return {"robots": len(engines), "opened": sum(opened), "seconds": round(seconds, 1),
            "per_s": round(sum(opened) / max(seconds, 0.1), 1),
            "refused_busy": int(await _refused_busy(http, url) - busy_before),
            "errors": stats.errors}


async def _step(http, url, uplink_key, engines, probe, stats, window_s, queue, rng) -> dict:
    await asyncio.sleep(SETTLE_S)  # the added robots' first beats, spread over a second
    queue.put(("window", len(engines)))
    probe.reset()
    errors_before, cpu_before, began = stats.errors, time.process_time(), time.monotonic()
    stop = asyncio.Event()
    poster = asyncio.create_task(_post_probes(http, url, uplink_key, engines, probe, stop, rng))
    await asyncio.sleep(window_s)
    stop.set()
    await poster
    elapsed = time.monotonic() - began
    cpu_s = time.process_time() - cpu_before
    heartbeats = list(probe.heartbeats_ms)
    await asyncio.sleep(min(PROBE_LOST_S, 3.0))  # the last probes' deliveries
    latencies, lost = _delivery(probe)
    return {"robots": len(engines), "window_s": round(elapsed, 1), "heartbeats": len(heartbeats),
            "heartbeat_errors": probe.heartbeat_errors,
            "engine_errors": stats.errors - errors_before, "heartbeats_ms": heartbeats,
            "probes": len(probe.sent), "probe_post_errors": probe.post_errors,
            "probes_lost": lost, "delivery_ms": latencies, "load_cpu_s": round(cpu_s, 2)}


async def _run(url: str, uplink_key: str, robot_ids: list[str], password: str,
               steps: list[int], window_s: float, queue) -> None:
    settings = Settings(robot_server_url=url, heartbeat_interval_s=1.0, max_stage_delay_s=0.0,
                        execution_failure_rate=0.0)
    rng = random.Random(7)
    stats, probe, stop = Stats(), Probe(), asyncio.Event()
    opening = asyncio.Semaphore(OPENING_AT_ONCE)
    engines: list[RobotEngine] = []
    tasks: list[asyncio.Task] = []

    async def start(engine: RobotEngine) -> None:
        await asyncio.sleep(rng.uniform(0, settings.heartbeat_interval_s))  # spread the beats
        await engine.run(stop)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        for robot_id in robot_ids[:steps[-1]]:
            engine = RobotEngine(robot_id, password, http, settings, stats=stats,
                                 rng=random.Random(rng.random()), opening=opening)
            _instrument(engine, probe)
            engines.append(engine)
        queue.put(("sessions", await _open_sessions(http, url, engines, stop, stats)))
        running = 0
        for count in steps:
            for engine in engines[running:count]:
                tasks.append(asyncio.create_task(start(engine)))
            running = count
            queue.put(("step", await _step(http, url, uplink_key, engines[:count], probe,
                                           stats, window_s, queue, rng)))
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def run(queue, url: str, uplink_key: str, robot_ids: list[str], password: str,
        steps: list[int], window_s: float) -> None:
    """The load process's entry point (multiprocessing, spawn)."""
    import logging
    logging.basicConfig(level=logging.ERROR)
    try:
        asyncio.run(_run(url, uplink_key, robot_ids, password, steps, window_s, queue))
        queue.put(("done", None))
    except BaseException as error:  # the parent reports it
        queue.put(("failed", f"{type(error).__name__}: {error}"))
        raise

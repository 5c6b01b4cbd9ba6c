"""The fleet bench's load generator: N robots in one process, each a heartbeat a second on a
keep-alive connection of its own and a pending long poll on another, with every heartbeat's
round trip timed and every command's arrival noted.

Run by bench/fleet.py in a process of its own (``run``). It shares the machine's 2 cores with
robot-server and PostgreSQL, so every millisecond it spends per request is taken from them:
robot-client's engine (aiohttp, a simulated robot each) cost 0.4 ms of CPU per heartbeat, 0.41
cores at 1,000 robots. So the robots here speak HTTP/1.1 themselves (bench/keepalive.py, an
asyncio protocol; bench/fleet_robot.py, one Robot each): each request's bytes are built once (a
heartbeat's body is a format with new telemetry values each time), and each answer is parsed
for its status line, Content-Length and body, its status checked (a heartbeat 200 saying
"online", a poll 200 with its commands, an acknowledgement and a result 200). What robot-server
sees is what robot-client sends: the same routes, headers and bodies, a session per robot.

Sessions: either every robot of the largest step opens its own, all at once and before any
heartbeat (a reconnect storm: robot-server checks a few passwords at a time and answers the
rest 429 + Retry-After; the robots wait and retry), timed; or (``tokens`` given, bench/fleet.py's
``--fleet-fast-sessions``) they were written to the database with known tokens. Then for each
step it starts the robots that step adds, lets them settle, then measures a window: every
heartbeat's round trip, errors, and the delivery of PING commands posted to robot-server's
uplink for running robots (POST /commands -> the robot's long poll bringing it; the robot then
acknowledges and reports it, as robot-client does). Its own event loop's lag is sampled too,
so a late answer can be told from a busy load generator. It reports to the parent through
``queue``: ("sessions", result), ("window", n), ("step", result), ("done", None).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from urllib.parse import urlsplit

from bench.fleet_robot import Probe, Robot
from bench.keepalive import Closed, Connection

SETTLE_S = 5.0            # after a step's robots started, before its window
PROBES_PER_S = 10.0       # delivery probes (PING commands) per second
PROBE_LOST_S = 10.0       # a probe not delivered within this counts as lost
SESSIONS_TIMEOUT_S = 900.0
LAG_TICK_S = 0.01         # the event loop's lag: how late a 10 ms sleep wakes


async def _post_probes(url: str, uplink_key: str, robots: list[Robot], probe: Probe,
                       stop: asyncio.Event, rng: random.Random) -> None:
    """A PING to a random running robot through the uplink, PROBES_PER_S a second."""
    parts = urlsplit(url)
    uplink = Connection(parts.hostname, parts.port)
    head = (f"POST /commands HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer "
            f"{uplink_key}\r\nContent-Type: application/json\r\nContent-Length: ")
    while not stop.is_set():
        command_id = str(uuid.uuid4())
        body = json.dumps({"id": command_id, "command_name": "PING",
                           "target": rng.choice(robots).robot_id}).encode()
        probe.sent[command_id] = time.time()
        try:
            status, _ = await uplink.call(f"{head}{len(body)}\r\n\r\n".encode() + body, 10.0)
            if status != 202:
                probe.post_errors += 1
        except (OSError, Closed, TimeoutError):
            uplink.close()
            probe.post_errors += 1
        try:
            await asyncio.wait_for(stop.wait(), 1.0 / PROBES_PER_S)
        except asyncio.TimeoutError:
            pass
    uplink.close()


async def _sample_lag(probe: Probe, stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        began = loop.time()
        await asyncio.sleep(LAG_TICK_S)
        probe.lag_ms.append((loop.time() - began - LAG_TICK_S) * 1000.0)


def _delivery(probe: Probe) -> tuple[list[float], int]:
    latencies = [(probe.received[i] - sent) * 1000.0 for i, sent in probe.sent.items()
                 if i in probe.received]
    return latencies, len(probe.sent) - len(latencies)


async def _open_sessions(robots: list[Robot], password: str) -> dict:
    """Every robot asks for its session at once, before any heartbeat; timed."""
    refused = [0, 0]  # 429/503 answers, failed calls
    began = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*(r.open_session(password, refused)
                                                for r in robots)), SESSIONS_TIMEOUT_S)
    except asyncio.TimeoutError:
        opened = sum(r.token is not None for r in robots)
        raise TimeoutError(f"{opened} of {len(robots)} sessions open after "
                           f"{SESSIONS_TIMEOUT_S:.0f} s") from None
    seconds = time.monotonic() - began
    return {"robots": len(robots), "opened": len(robots), "seconds": round(seconds, 1),
            "per_s": round(len(robots) / max(seconds, 0.1), 1), "refused_busy": refused[0],
            "errors": refused[1]}


async def _step(url, uplink_key, robots, probe, window_s, queue, rng) -> dict:
    await asyncio.sleep(SETTLE_S)  # the added robots' first beats, spread over a second
    queue.put(("window", len(robots)))
    probe.reset()
    cpu_before, began = time.process_time(), time.monotonic()
    stop = asyncio.Event()
    poster = asyncio.create_task(_post_probes(url, uplink_key, robots, probe, stop, rng))
    lag = asyncio.create_task(_sample_lag(probe, stop))
    await asyncio.sleep(window_s)
    stop.set()
    await asyncio.gather(poster, lag)
    elapsed = time.monotonic() - began
    cpu_s = time.process_time() - cpu_before
    heartbeats = list(probe.heartbeats_ms)
    errors = (probe.heartbeat_errors, probe.engine_errors)
    lags = sorted(probe.lag_ms)
    await asyncio.sleep(min(PROBE_LOST_S, 3.0))  # the last probes' deliveries
    latencies, lost = _delivery(probe)
    return {"robots": len(robots), "window_s": round(elapsed, 1), "heartbeats": len(heartbeats),
            "heartbeat_errors": errors[0], "engine_errors": errors[1],
            "heartbeats_ms": heartbeats, "probes": len(probe.sent),
            "probe_post_errors": probe.post_errors, "probes_lost": lost,
            "delivery_ms": latencies, "load_cpu_s": round(cpu_s, 2),
            "slow_seconds": sorted(probe.slow.items(), key=lambda kv: -kv[1])[:8],
            "load_lag_ms": {"p99": round(lags[int(len(lags) * 0.99)], 1) if lags else None,
                            "max": round(lags[-1], 1) if lags else None}}


async def _run(url: str, uplink_key: str, robot_ids: list[str], tokens: list[str] | None,
               password: str, steps: list[int], window_s: float, queue) -> None:
    parts = urlsplit(url)
    rng = random.Random(7)
    robots = [Robot(robot_id, parts.hostname, parts.port, random.Random(rng.random()))
              for robot_id in robot_ids[:steps[-1]]]
    if tokens is None:
        queue.put(("sessions", await _open_sessions(robots, password)))
    else:
        for robot, token in zip(robots, tokens):
            robot.ready(token)
    probe, stop = Probe(), asyncio.Event()
    tasks: list[asyncio.Task] = []
    running = 0
    for count in steps:
        for robot in robots[running:count]:
            tasks += [asyncio.create_task(robot.heartbeats(probe, stop)),
                      asyncio.create_task(robot.commands(probe, stop))]
        running = count
        queue.put(("step", await _step(url, uplink_key, robots[:count], probe, window_s,
                                       queue, rng)))
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for robot in robots:
        robot.beats.close()
        robot.polls.close()


def run(queue, url: str, uplink_key: str, robot_ids: list[str], tokens: list[str] | None,
        password: str, steps: list[int], window_s: float) -> None:
    """The load process's entry point (multiprocessing, spawn). ``tokens``: the robots'
    sessions, opened already (else each robot opens its own, with ``password``)."""
    try:
        asyncio.run(_run(url, uplink_key, robot_ids, tokens, password, steps, window_s, queue))
        queue.put(("done", None))
    except BaseException as error:  # the parent reports it
        queue.put(("failed", f"{type(error).__name__}: {error}"))
        raise

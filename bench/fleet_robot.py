"""One simulated robot of the fleet bench's load generator (bench/fleet_load.py): its requests'
bytes built once, its two keep-alive connections (heartbeats; the long poll, acknowledgement
and result), its two loops, and the ``Probe`` where the robots note what they measured."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

from bench.keepalive import Closed, Connection

CALL_TIMEOUT_S = 10.0     # robot-client's (robot_client.server)
POLL_WAIT_S = 20          # robot-client's long poll
SESSION_TIMEOUT_S = 60.0
SLOW_MS = 100.0           # heartbeats slower than this are counted per second of the window
HEARTBEAT = (b'{"status":"IDLE","modules":[],"telemetry":{"battery":%.2f,"temperature":%.2f,'
             b'"cpu":%.1f,"position":{"x":%.1f,"y":%.1f,"z":0.0}}}')
RESULT = b'{"status":"EXECUTED","detail":null,"module_status":null}'


@dataclass
class Probe:
    heartbeats_ms: list[float] = field(default_factory=list)
    heartbeat_errors: int = 0
    engine_errors: int = 0     # polls, acknowledgements and results that failed
    sent: dict[str, float] = field(default_factory=dict)      # command id -> time posted
    received: dict[str, float] = field(default_factory=dict)  # command id -> time polled
    post_errors: int = 0
    lag_ms: list[float] = field(default_factory=list)
    slow: dict[int, int] = field(default_factory=dict)  # second of the window -> beats >100 ms
    began: float = 0.0

    def reset(self) -> None:
        self.began = time.monotonic()
        self.slow.clear()
        self.heartbeats_ms.clear()
        self.heartbeat_errors = self.engine_errors = self.post_errors = 0
        self.sent.clear()
        self.received.clear()
        self.lag_ms.clear()


class Robot:
    """One simulated robot: its requests' bytes, its two connections, its two loops."""

    def __init__(self, robot_id: str, host: str, port: int, rng: random.Random) -> None:
        self.robot_id, self.host, self.port, self.rng = robot_id, host, port, rng
        self.token: str | None = None
        self.beats = Connection(host, port)
        self.polls = Connection(host, port)
        self.battery, self.temperature = 100.0, 25.0
        self.x, self.y = round(rng.uniform(0.0, 10.0), 1), round(rng.uniform(-3.0, 5.0), 1)

    def _request(self, head: str, body: bytes | None = None) -> bytes:
        lines = f"{head} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if self.token is not None:
            lines += f"Authorization: Bearer {self.token}\r\n"
        if body is None:
            return (lines + "\r\n").encode()
        return (lines + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode() + body

    def ready(self, token: str) -> None:
        self.token = token
        base = f"/robots/{self.robot_id}"
        self.heartbeat_head = self._request(f"POST {base}/heartbeat", b"")[:-len(b"0\r\n\r\n")]
        self.poll = self._request(f"GET {base}/commands?wait={POLL_WAIT_S}")
        self.base = base

    async def open_session(self, password: str, refused: list[int]) -> None:
        """Until opened: 429/503 answers wait their Retry-After (and a random share of it)."""
        body = json.dumps({"password": password}).encode()
        request = self._request(f"POST /robots/{self.robot_id}/session", body)
        while True:
            try:
                status, answer = await self.beats.call(request, SESSION_TIMEOUT_S)
            except (OSError, Closed, TimeoutError):
                self.beats.close()
                refused[1] += 1
                await asyncio.sleep(1.0 + self.rng.random())
                continue
            if status == 201:
                self.ready(json.loads(answer)["token"])
                return
            if status not in (429, 503):
                raise RuntimeError(f"robot {self.robot_id}: session answered {status} {answer!r}")
            refused[0] += 1
            await asyncio.sleep(1.0 + self.rng.uniform(0, 1.0))  # Retry-After: 1

    async def heartbeats(self, probe: Probe, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.rng.uniform(0, 1.0))  # spread over the second
        due = loop.time()
        while not stop.is_set():
            self.battery = max(0.0, self.battery - self.rng.uniform(0.0, 0.05))
            self.temperature = min(80.0, max(-20.0, self.temperature + self.rng.uniform(-.5, .5)))
            body = HEARTBEAT % (self.battery, self.temperature, self.rng.uniform(2.0, 20.0),
                                self.x, self.y)
            began = time.perf_counter()
            try:
                status, answer = await self.beats.call(
                    self.heartbeat_head + b"%d\r\n\r\n%s" % (len(body), body), CALL_TIMEOUT_S)
            except (OSError, Closed, TimeoutError):
                self.beats.close()
                probe.heartbeat_errors += 1
            else:
                if status == 200 and b'"connection":"online"' in answer:
                    took = (time.perf_counter() - began) * 1000.0
                    probe.heartbeats_ms.append(took)
                    if took > SLOW_MS:
                        second = int(time.monotonic() - probe.began)
                        probe.slow[second] = probe.slow.get(second, 0) + 1
                else:
                    probe.heartbeat_errors += 1
            due += 1.0
            wait = due - loop.time()
            if wait < 0:  # late (a slow answer): the next one a second after this one
                due, wait = loop.time(), 0.0
            await asyncio.sleep(wait)

    async def commands(self, probe: Probe, stop: asyncio.Event) -> None:
        """The long poll; each command it brings acknowledged and reported EXECUTED."""
        await asyncio.sleep(self.rng.uniform(0, 1.0))  # robot-client's start, spread over 1 s
        while not stop.is_set():
            try:
                status, answer = await self.polls.call(self.poll, POLL_WAIT_S + CALL_TIMEOUT_S)
                if status != 200:
                    raise Closed(f"poll answered {status}")
                commands = json.loads(answer)["commands"]
                now = time.time()
                for command in commands:
                    probe.received.setdefault(command["id"], now)
                for command in commands:
                    path = f"{self.base}/commands/{command['id']}"
                    for request in (self._request(f"POST {path}/ack", b""),
                                    self._request(f"POST {path}/result", RESULT)):
                        status, answer = await self.polls.call(request, CALL_TIMEOUT_S)
                        if status != 200:
                            raise Closed(f"{request[:60]!r} answered {status} {answer[:200]!r}")
            except (OSError, Closed, TimeoutError, ValueError, KeyError):
                self.polls.close()
                probe.engine_errors += 1
                await asyncio.sleep(1.0)

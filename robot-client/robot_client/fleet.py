"""``robot-client fleet --count N``: N simulated robots in one process, for demos and load.

The robots are named ``<prefix>-0001`` ... and share one password (ROBOT_PASSWORD, or one
generated into ``var/fleet-<prefix>-password``). Their ids are kept in
``var/fleet-<prefix>.json`` with the password's SHA-256, so a second start reuses them; a
robot of that name found in the registry but not in the file gets the fleet's password
(PATCH), one missing is created.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp

from mission_control.keys import stored_or_new
from mission_control.settings import Settings

from .engine import RobotEngine, Stats
from .mqtt_publisher import Publisher, broker_of
from .registry import Registry, RegistryUnreachable
from .run import stop_on_signals
from .server import WrongPassword
from .waiting import pause

log = logging.getLogger(__name__)
PROGRESS_S = 2.0
SUMMARY_S = 10.0
REGISTER_THREADS = 4
# Sessions the fleet opens at once: each costs robot-server an argon2 check (~0.2 s of CPU);
# more at once would only queue there, past the clients' patience, and starve heartbeats.
OPENING_AT_ONCE = 4
DEMO_WAIT_S = 60.0
OWNER = {"owner": "robot-client fleet", "owner_email": "fleet@example.com"}


def fleet_password(settings: Settings, prefix: str) -> str:
    if settings.robot_password is not None and settings.robot_password.get_secret_value():
        return settings.robot_password.get_secret_value()
    return stored_or_new(settings.var_dir / f"fleet-{prefix}-password")


def _fingerprint(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()


def register_when_up(register_them, wait_s: float = DEMO_WAIT_S) -> list[str]:
    """``register_them()``, tried again while registry-api does not answer yet (started
    beside it, as by make run), for up to ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return register_them()
        except RegistryUnreachable:
            if time.monotonic() >= deadline:
                raise
            time.sleep(1.0)


def idle() -> int:
    """Wait for Ctrl-C (SIGINT) or SIGTERM: an unattended fleet that cannot start must not
    end the other processes of make run (honcho stops them all when one exits)."""
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    return 0


def numbered(prefix: str, count: int) -> list[str]:
    """A fleet's robot names: ``<prefix>-0001`` ..."""
    return [f"{prefix}-{index:04d}" for index in range(1, count + 1)]


def register(registry: Registry, names: list[str], password: str,
             state_path: Path) -> list[str]:
    """The ids of the robots named ``names``, registering or adopting those it lacks."""
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        state = {}
    known = state.get("robots", {}) if state.get("password_sha256") == _fingerprint(password) \
        else {}
    wanted = set(names)
    existing = {r["name"]: r["id"] for r in registry.each("robots") if r["name"] in wanted}

    def ensure(name: str) -> str:
        client = Registry(registry.url, registry.token)  # a requests session per thread
        robot_id = existing.get(name)
        if robot_id is None:
            return client.create("robots", {"name": name, **OWNER, "password": password})["id"]
        if known.get(name) != robot_id:  # not started by this fleet with this password
            client.patch("robots", robot_id, {"password": password})
        return robot_id

    todo = [n for n in names if not (existing.get(n) and known.get(n) == existing[n])]
    if todo:
        log.info("fleet: registering or adopting %d of %d robots", len(todo), len(names))
    with ThreadPoolExecutor(REGISTER_THREADS) as pool:
        ids = dict(zip(todo, pool.map(ensure, todo)))
    robots = {name: ids.get(name) or existing[name] for name in names}
    state_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = state_path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"password_sha256": _fingerprint(password),
                                     "robots": {**known, **robots}}, indent=1))
    temporary.replace(state_path)
    return list(robots.values())


async def _report(stats: Stats, count: int, stop: asyncio.Event) -> None:
    """Progress while the sessions open, then a one-line summary every SUMMARY_S."""
    started = time.monotonic()
    while not stop.is_set() and stats.sessions < count:
        log.info("fleet: sessions opened %d/%d", stats.sessions, count)
        await pause(stop, PROGRESS_S)
    if not stop.is_set():
        log.info("fleet: all %d sessions open in %.1f s", count, time.monotonic() - started)
    last, at = stats.heartbeats, time.monotonic()
    while not stop.is_set():
        await pause(stop, SUMMARY_S)
        if stop.is_set():
            return
        now = time.monotonic()
        log.info("fleet: %d robots, %d sessions open, %.1f heartbeats/s, %d errors, "
                 "%d commands executed", count, stats.sessions,
                 (stats.heartbeats - last) / (now - at), stats.errors, stats.executed)
        last, at = stats.heartbeats, now


async def _one(engine: RobotEngine, delay: float, stop: asyncio.Event) -> None:
    await pause(stop, delay)  # spread the fleet's heartbeats over the interval
    try:
        await engine.run(stop)
    except WrongPassword as refused:
        log.error("robot %s: %s; it stays offline", engine.robot_id, refused)


def fleet_publishers(robot_ids: list[str], password: str, settings: Settings) -> list[Publisher]:
    """``--transport mqtt``: one broker connection for the whole fleet when MQTT_URL names a
    user (a gateway the ACL lets publish for every robot), else one per robot, signed in with
    its id and the fleet's password."""
    broker = broker_of(settings)
    if broker.username:
        return [Publisher(broker, "robot-client-fleet")] * len(robot_ids)
    return [Publisher(broker.with_credentials(robot_id, password), f"robot-{robot_id}")
            for robot_id in robot_ids]


async def run_fleet(robot_ids: list[str], password: str, settings: Settings,
                    transport: str = "http") -> int:
    """Run the robots until Ctrl-C. Their own lines (sessions, retries) are left out below
    ERROR unless LOG_LEVEL=DEBUG: thousands of robots would bury the summary."""
    publishers = fleet_publishers(robot_ids, password, settings) if transport == "mqtt" \
        else [None] * len(robot_ids)
    connections = list({id(p): p for p in publishers if p is not None}.values())
    for publisher in connections:
        publisher.start()
    try:
        return await _run_fleet(robot_ids, password, settings, publishers)
    finally:
        for publisher in connections:
            await asyncio.to_thread(publisher.stop)


async def _run_fleet(robot_ids: list[str], password: str, settings: Settings,
                     publishers: list[Publisher | None]) -> int:
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("robot_client.engine").setLevel(logging.ERROR)
    stop = asyncio.Event()
    stop_on_signals(stop)
    stats = Stats()
    rng = random.Random()
    opening = asyncio.Semaphore(OPENING_AT_ONCE)
    connector = aiohttp.TCPConnector(limit=0)  # every robot holds a long poll open
    async with aiohttp.ClientSession(connector=connector) as http:
        engines = [RobotEngine(robot_id, password, http, settings, stats=stats,
                               rng=random.Random(rng.random()), opening=opening,
                               publisher=publisher)
                   for robot_id, publisher in zip(robot_ids, publishers)]
        reporter = asyncio.create_task(_report(stats, len(engines), stop))
        await asyncio.gather(*(_one(engine, rng.uniform(0, settings.heartbeat_interval_s),
                                    stop) for engine in engines))
        stop.set()
        await reporter
    log.info("fleet: stopped; every session closed")
    return 0

"""``robot-client run``: one robot, its module listener, until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import asyncio
import logging
import signal

import aiohttp

from mission_control.settings import Settings

from .engine import RobotEngine
from .listener import ModuleListener
from .mqtt_publisher import Publisher, broker_of
from .server import WrongPassword

log = logging.getLogger(__name__)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl-C and SIGTERM end the run cleanly: the session is closed, no traceback."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)


async def run_robot(robot_id: str, password: str, settings: Settings,
                    transport: str = "http") -> int:
    """Run the robot until stopped; the exit status (1: the password was refused or the
    robot's address cannot be listened on). ``transport`` "mqtt": heartbeats go to the
    broker of MQTT_URL, signed in as the robot (its id and password) unless the URL names a
    user."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    publisher = None
    if transport == "mqtt":
        publisher = Publisher(broker_of(settings).with_credentials(robot_id, password),
                              f"robot-{robot_id}")
        publisher.start()
    try:
        return await _run(robot_id, password, settings, stop, publisher)
    finally:
        if publisher is not None:
            await asyncio.to_thread(publisher.stop)


async def _run(robot_id: str, password: str, settings: Settings, stop: asyncio.Event,
               publisher: Publisher | None) -> int:
    host = port = None
    async with aiohttp.ClientSession() as http:
        engine = RobotEngine(robot_id, password, http, settings, publisher=publisher)
        listener = ModuleListener([engine], settings.max_body_bytes)
        try:
            if not await engine.open_session(stop):
                return 0
            host, port = engine.profile.get("ip_address"), engine.profile.get("port")
            if host and port:
                await listener.start(host, port)
            else:
                log.warning("robot %s has no ip_address and port in the registry: no module "
                            "listener", robot_id)
            log.info("robot %s (%s) running; Ctrl-C stops it", robot_id, engine.profile["name"])
            await engine.run(stop)
        except WrongPassword as refused:
            log.error("robot %s: %s", robot_id, refused)
            return 1
        except OSError as error:  # the listener's address: taken, or not this machine's
            log.error("robot %s: cannot listen on %s:%s: %s", robot_id, host, port, error)
            await engine.close()
            return 1
        finally:
            await listener.stop()
    return 0

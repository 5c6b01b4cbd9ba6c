"""``make bench``'s mqtt phase: robot telemetry over MQTT into the telemetry store, on
PostgreSQL, through the machine's Mosquitto (127.0.0.1:1883, or ``--mqtt-url``).

``--mqtt-robots`` robots (default 2,000) with open sessions (written to the database
directly, as bench/fleet_capacity.py does: MQTT is recorded only for robots with one) each
publish a telemetry message (battery, temperature, cpu and position x, y, z: six points) at
each rate of ``--mqtt-rates`` messages a second per robot (default 1 and 2), for
``--mqtt-seconds``. robot-server (mc-serve, its default gevent workers, one MQTT shared
subscription) records them through its heartbeat writer, which keeps each robot's newest
telemetry of a flush period (HEARTBEAT_FLUSH_S, 0.2 s): at most 5 messages a second per
robot are stored. Points per second = points stored with times in the window / its length.
The publishers are paho clients in two processes of their own (QoS 0); their CPU is counted.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from mission_control import mqtt
from mission_control.timeutil import utcnow
from tests.e2e.harness import Credentials, start_system

from bench.common import CpuMeter, say
from bench.fleet_capacity import _robots_with_sessions

PUBLISHERS = 2
POINTS_PER_MESSAGE = 6
SETTLE_S = 2.0  # after the window: the last flush period, and the broker's queue


def add_arguments(parser) -> None:
    group = parser.add_argument_group("mqtt phase")
    group.add_argument("--mqtt-url", default="mqtt://127.0.0.1:1883")
    group.add_argument("--mqtt-robots", type=int, default=2000)
    group.add_argument("--mqtt-rates", default="1,2", help="messages per second per robot")
    group.add_argument("--mqtt-seconds", type=float, default=20.0)


def _publish(url: str, robot_ids: list[str], rate: float, seconds: float, results) -> None:
    """A publisher process: each robot's telemetry ``rate`` times a second, spread evenly."""
    import json
    from robot_client.mqtt_publisher import Publisher

    publisher = Publisher(mqtt.parse_url(url), "bench")
    publisher.start()
    if not publisher.wait_connected(10):
        raise RuntimeError(f"the MQTT broker at {url} did not take the connection")
    interval = 1.0 / (rate * len(robot_ids))
    sent, started, cpu0 = 0, time.monotonic(), time.process_time()
    payloads = [json.dumps({"battery": 80.0 - i % 50, "temperature": 30.0, "cpu": 12.5,
                            "position": {"x": 1.0, "y": 2.0, "z": 0.0}}) for i in range(64)]
    topics = [mqtt.topic(robot_id, "telemetry") for robot_id in robot_ids]
    while (now := time.monotonic()) < started + seconds:
        due = int((now - started) / interval)
        while sent < due:
            publisher.client.publish(topics[sent % len(topics)], payloads[sent % 64], qos=0)
            sent += 1
        time.sleep(0.002)
    cpu = time.process_time() - cpu0
    publisher.stop()
    results.put((sent, cpu))


def _stored_since(db, since) -> int:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM telemetry_points WHERE time >= :t"),
                                  {"t": since}).scalar()


def phase_mqtt(db, logs: Path, options, credentials: Credentials) -> dict:
    robots = [robot_id for robot_id, _ in _robots_with_sessions(db, options.mqtt_robots)]
    system = start_system(db.url, logs, services=(), credentials=credentials,
                          heartbeat_interval_s="1")
    system.start("robot-server", MQTT_URL=options.mqtt_url,
                 MQTT_SHARE_GROUP=f"bench-{uuid.uuid4().hex[:8]}")
    system.wait_healthy(system.robot_server_url)
    time.sleep(2.0)  # the workers subscribe
    results: dict[str, dict] = {}
    try:
        context = multiprocessing.get_context("spawn")
        for rate in [float(r) for r in options.mqtt_rates.split(",") if r.strip()]:
            queue = context.Queue()
            shares = [robots[i::PUBLISHERS] for i in range(PUBLISHERS)]
            since = utcnow()
            meter = CpuMeter(system, db.name)
            meter.start()
            workers = [context.Process(target=_publish, args=(
                options.mqtt_url, share, rate, options.mqtt_seconds, queue)) for share in shares]
            for worker in workers:
                worker.start()
            published = [queue.get(timeout=options.mqtt_seconds + 60) for _ in workers]
            for worker in workers:
                worker.join(30)
            time.sleep(SETTLE_S)
            cpu = meter.stop({"publishers": sum(c for _, c in published)})
            stored = _stored_since(db, since)
            sent = sum(s for s, _ in published)
            result = {"robots": len(robots), "rate_per_robot": rate, "messages": sent,
                      "offered_points_per_s": round(sent * POINTS_PER_MESSAGE
                                                    / options.mqtt_seconds),
                      "points_stored": stored,
                      "points_per_s": round(stored / options.mqtt_seconds), "cpu": cpu}
            results[f"{rate:g}"] = result
            say(f"mqtt: {len(robots)} robots at {rate:g}/s: {result['points_per_s']:,} points/s "
                f"stored of {result['offered_points_per_s']:,} offered")
            time.sleep(2.0)
    finally:
        system.stop_all()
    return results


def table_rows(phase: dict, row) -> bool:
    for rate, r in phase.items():
        cores = r["cpu"]["cores_busy"]
        row(f"mqtt: {r['robots']} robots x {rate}/s telemetry: points stored/s (of offered)",
            f"{r['points_per_s']:,} ({r['offered_points_per_s']:,})", "none set")
        row("  cores robot-server / PostgreSQL / publishers",
            f"{cores.get('robot-server', 0):.2f} / {cores.get('postgresql', 0):.2f} / "
            f"{cores.get('publishers', 0):.2f}")
    return False

"""``make bench``'s fleet_command phase: one fleet-wide command (POST /api/batches with a level
selector) to N simulated robots (default 2,000), all connected, on PostgreSQL with the real
processes (ground, one command-sender, robot-server).

Measured per run (``--fleet-command-runs``): the time from the POST until the batch's roll-up
says every target reached a final state (polled every 0.1 s), the POST's own latency, and the
roll-up's query time (the GROUP BY over the batch_id index, timed in SQL after the run, over
every batch's commands so far). The robots are robot-client's engines in a process of their
own (tests/e2e/sim_fleet.py), written straight to the registry's tables with one cheap
argon2id hash (opening 2,000 sessions is the fleet phase's measurement, not this one's). They
beat every ``--fleet-command-heartbeat-s`` (default 10 s): robot-server's heartbeat capacity
on this machine is about 1,000 robots at 1/s, and the phase measures commands, not heartbeats.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from pathlib import Path

import requests

from mission_control.db import Database
from tests.e2e.harness import start_system
from tests.e2e.sim_fleet import SimulatedFleet, add_fleet

from bench.common import FAST, fmt, say, summary

TARGET_S = 10.0
SESSIONS_TIMEOUT_S = 600.0
DONE_TIMEOUT_S = 120.0
ROLL_UP_QUERIES = 20
WAVE = 200  # robots started together


def add_arguments(parser) -> None:
    group = parser.add_argument_group("fleet_command phase")
    group.add_argument("--fleet-command-robots", type=int, default=2000)
    group.add_argument("--fleet-command-runs", type=int, default=3)
    group.add_argument("--fleet-command-timeout", type=float, default=DONE_TIMEOUT_S,
                       help="seconds a run may take before it counts as failed (default 120)")
    group.add_argument("--fleet-command-heartbeat-s", type=float, default=10.0,
                       help="the simulated robots' HEARTBEAT_INTERVAL_S (default 10)")


def _run_fleet(queue, stop, url: str, robot_ids: list[str], heartbeat_s: float) -> None:
    """The simulated robots' process: starts them in waves of WAVE (a storm of thousands of
    sessions at once is the fleet phase's measurement), then reports how many hold a session
    until told to stop."""
    import logging
    logging.basicConfig(level=logging.ERROR)
    fleet = SimulatedFleet(url, heartbeat_interval_s=heartbeat_s, max_stage_delay_s=0.0)
    try:
        for first in range(0, len(robot_ids), WAVE):
            fleet.start(robot_ids[first:first + WAVE])
            while fleet.connected() < min(first + WAVE, len(robot_ids)) and not stop.wait(0.5):
                queue.put(("sessions", fleet.connected()))
        while not stop.wait(0.5):
            queue.put(("sessions", fleet.connected()))
    finally:
        fleet.close()


def _roll_up(system, batch_id: str) -> dict:
    answer = requests.get(f"{system.ground_url}/api/batches/{batch_id}",
                          headers=system.headers("viewer"), timeout=30)
    answer.raise_for_status()
    return answer.json()


def _one_run(system, level_id: str, count: int, timeout_s: float) -> dict:
    began = time.monotonic()
    created = requests.post(f"{system.ground_url}/api/batches", timeout=60,
                            headers=system.headers("operator"),
                            json={"command_name": "PING", "selector": {"level_id": level_id}})
    post_s = time.monotonic() - began
    if created.status_code != 201 or created.json()["count"] != count:
        raise RuntimeError(f"POST /api/batches answered {created.status_code}: "
                           f"{created.text[:200]}")
    batch_id = created.json()["id"]
    while True:
        roll_up = _roll_up(system, batch_id)
        if roll_up["done"]:
            break
        if time.monotonic() - began > timeout_s:
            raise TimeoutError(f"batch {batch_id} not done after {timeout_s:.0f} s: "
                               f"{roll_up['counts']}")
        time.sleep(0.1)
    return {"batch_id": batch_id, "all_final_s": round(time.monotonic() - began, 2),
            "post_s": round(post_s, 3), "counts": roll_up["counts"]}


def _p50_max(seconds: list[float]) -> dict:
    return {"p50": round(summary(seconds)["p50"], 2), "max": round(max(seconds), 2)}


def _stages_s(database: Database, batch_id: str) -> dict:
    """When the batch's commands reached each status, seconds after their creation: the
    median and the slowest (which stage holds a run back)."""
    from sqlalchemy import select

    from mission_control.models import Telecommand, TelecommandHistory
    with database.transaction() as session:
        rows = session.execute(
            select(TelecommandHistory.to_status, TelecommandHistory.at, Telecommand.created_at)
            .join(Telecommand, Telecommand.id == TelecommandHistory.telecommand_id)
            .where(Telecommand.batch_id == uuid.UUID(batch_id),
                   TelecommandHistory.from_status.is_not(None))).all()
    by_status: dict[str, list[float]] = {}
    for status, at, created in rows:
        by_status.setdefault(status, []).append((at - created).total_seconds())
    stages = {status: _p50_max(v) for status, v in by_status.items()}
    stages.update(_robot_stages_s(database, batch_id))
    return stages


def _robot_stages_s(database: Database, batch_id: str) -> dict:
    """The same seen from robot-server (its robot_commands rows, lower case): when it stored
    each command (``received``), handed it to the robot's poll, took its acknowledgement
    and its result, seconds after the telecommand's creation: which hop holds a run back."""
    from sqlalchemy import select

    from mission_control.models import Telecommand
    from mission_control.robot_models import RobotCommand
    columns = {"received": RobotCommand.received_at, "delivered": RobotCommand.delivered_at,
               "acknowledged": RobotCommand.acknowledged_at,
               "finished": RobotCommand.finished_at}
    with database.transaction() as session:
        rows = session.execute(
            select(Telecommand.created_at, *columns.values())
            .join(RobotCommand, RobotCommand.id == Telecommand.id.cast(RobotCommand.id.type))
            .where(Telecommand.batch_id == uuid.UUID(batch_id))).all()
    stages = {}
    for index, name in enumerate(columns, start=1):
        values = [(row[index] - row[0]).total_seconds() for row in rows
                  if row[index] is not None]
        if values:
            stages[name] = _p50_max(values)
    return stages


def _roll_up_query_ms(database: Database, batch_ids: list[str]) -> dict:
    from ground import batches
    timings = []
    for _ in range(ROLL_UP_QUERIES):
        for batch_id in batch_ids:
            with database.transaction() as session:
                began = time.perf_counter()
                batches.counts(session, [uuid.UUID(batch_id)])
                timings.append((time.perf_counter() - began) * 1000.0)
    return summary(timings)


def phase_fleet_command(db, logs: Path, options, credentials) -> dict:
    count = options.fleet_command_robots
    say(f"fleet_command: {count} robots into the registry")
    level_id, robot_ids = add_fleet(db, count, prefix=f"bench-{uuid.uuid4().hex[:6]}",
                                    cheap=True)
    system = start_system(db.url, logs, services=("ground", "command-sender", "robot-server"),
                          credentials=credentials, **FAST,
                          heartbeat_interval_s=str(options.fleet_command_heartbeat_s))
    context = multiprocessing.get_context("spawn")
    queue, stop = context.Queue(), context.Event()
    robots = context.Process(target=_run_fleet, daemon=True, args=(
        queue, stop, system.robot_server_url, robot_ids, options.fleet_command_heartbeat_s))
    database = Database(db.url)
    try:
        robots.start()
        began, sessions = time.monotonic(), 0
        reported = began
        while sessions < count:
            if time.monotonic() - began > SESSIONS_TIMEOUT_S:
                raise TimeoutError(f"{sessions} of {count} sessions open")
            _, sessions = queue.get(timeout=60)
            if time.monotonic() - reported > 15:
                say(f"fleet_command: {sessions} of {count} sessions open")
                reported = time.monotonic()
        say(f"fleet_command: {count} sessions open after {time.monotonic() - began:.0f} s")
        time.sleep(2.0)  # the last sessions' first long polls
        runs = []
        for number in range(options.fleet_command_runs):
            run = _one_run(system, level_id, count, options.fleet_command_timeout)
            run["stages_s"] = _stages_s(database, run["batch_id"])
            runs.append(run)
            say(f"fleet_command: run {number + 1}: POST -> all {count} final in "
                f"{run['all_final_s']:.2f} s (POST {run['post_s'] * 1000:.0f} ms); after creation "
                f"(p50/max s): {run['stages_s']}")
        query = _roll_up_query_ms(database, [r["batch_id"] for r in runs])
        say(f"fleet_command: roll-up query p50 {fmt(query['p50'], ' ms')}, "
            f"max {fmt(query['max'], ' ms')}")
    finally:
        stop.set()
        robots.join(timeout=60)
        if robots.is_alive():
            robots.kill()
        database.dispose()
        system.stop_all()
    final_s = [r["all_final_s"] for r in runs]
    return {"robots": count, "heartbeat_interval_s": options.fleet_command_heartbeat_s,
            "runs": runs, "all_final_s": {"min": min(final_s), "max": max(final_s)},
            "roll_up_query_ms": query,
            "executed_everywhere": all(r["counts"]["EXECUTED"] == count for r in runs)}


def table_rows(result: dict, row) -> bool:
    """The phase's rows in the report table; whether a run left a command not EXECUTED."""
    worst = result["all_final_s"]["max"]
    row(f"fleet_command: POST -> all {result['robots']:,} robots final "
        f"({len(result['runs'])} runs)",
        f"{result['all_final_s']['min']:.2f}-{worst:.2f} s", "< 10 s", worst < TARGET_S)
    query = result["roll_up_query_ms"]
    row("  roll-up query (GROUP BY on batch_id) p50 / max",
        f"{fmt(query['p50'], ' ms')} / {fmt(query['max'], ' ms')}")
    row("  every command EXECUTED", str(result["executed_everywhere"]), "True",
        result["executed_everywhere"])
    return not result["executed_everywhere"]

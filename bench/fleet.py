"""``make bench``'s fleet phase: N simulated robots at 1 heartbeat/s, each with a pending long
poll, against one robot-server (mc-serve, its default workers) on PostgreSQL.

The robots are written to the registry's table directly, all with one real argon2id hash
(the parameters robot-server verifies with; creating thousands through registry-api would
hash each). The load generator (bench/fleet_load.py) runs in its own process. First every
robot of the largest step opens its session, all at once and before any heartbeat (timed:
each costs robot-server one argon2id verification; a reconnect storm, which robot-server
bounds with 429 + Retry-After); the sessions must outlive that phase and the steps after it
before their robots' first heartbeats renew them, so robot-server runs with
ROBOT_SESSION_TTL_S=SESSION_TTL_S (six hours; the default hour is short when sessions open at
under 1/s on a busy machine). Then it steps N up (``--fleet-steps``), measuring a ``--fleet-seconds`` window
each: heartbeat round trips, errors, and command delivery latency (a PING posted to
robot-server's uplink -> the robot's long poll bringing it). robot-server's and PostgreSQL's
CPU and robot-server's RSS are read from /proc, the load generator's CPU from its own process.
The largest N held is the largest step with no error and heartbeat p99 under 100 ms.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from mission_control.passwords import hash_password
from mission_control.registry_models import Robot
from mission_control.robot_models import RobotSession
from mission_control.timeutil import utcnow
from robot_server.sessions import token_hash
from tests.e2e.harness import start_system

from bench import fleet_load
from bench.common import CpuMeter, fmt, say, summary

PASSWORD = "bench fleet password"
HEARTBEAT_P99_MS = 100.0
SESSION_TTL_S = 6 * 3600  # ROBOT_SESSION_TTL_S: outlives the sessions' phase and the steps


def add_arguments(parser) -> None:
    group = parser.add_argument_group("fleet phase")
    group.add_argument("--fleet-steps", default="500,1000,2000",
                       help="robots per step, ascending (default 500,1000,2000)")
    group.add_argument("--fleet-seconds", type=float, default=60.0,
                       help="measured window per step (default 60)")
    group.add_argument("--fleet-profile", type=Path, metavar="DIR",
                       help="record robot-server's processes and the load generator with py-spy "
                            "(pip install py-spy) during each step's window, as collapsed stacks "
                            "in DIR (robot-server-N.txt, load-N.txt)")
    group.add_argument("--fleet-fast-sessions", action="store_true",
                       help="for iterating only: write the robots' sessions to the database "
                            "instead of opening them (no password checked, so the sessions' "
                            "phase, a few minutes of argon2id, is skipped); reported figures "
                            "use the real opening")


def _add_robots(db, count: int, with_sessions: bool) -> tuple[list[str], list[str] | None]:
    """The robots' ids; with ``with_sessions``, an open session each and its token."""
    stored = hash_password(PASSWORD)
    now = utcnow()
    rows = [{"id": uuid.uuid4(), "name": f"bench-robot-{i:05d}", "owner": "bench",
             "owner_email": "bench@example.com", "status": "IDLE", "password_hash": stored,
             "created_at": now, "updated_at": now} for i in range(count)]
    tokens = [secrets.token_urlsafe(32) for _ in rows] if with_sessions else None
    with db.engine.begin() as connection:
        connection.execute(insert(Robot.__table__), rows)
        if tokens is not None:
            connection.execute(insert(RobotSession.__table__), [
                {"robot_id": row["id"], "token_hash": token_hash(token), "created_at": now,
                 "expires_at": now + timedelta(seconds=SESSION_TTL_S)}
                for row, token in zip(rows, tokens)])
    return [str(row["id"]) for row in rows], tokens


def _rss_mb(system, key: str) -> float:
    """Resident memory of a service's processes (its session), in MB."""
    leader = system.processes[key].pid
    total_kb = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            if int(stat[stat.rfind(")") + 2:].split()[3]) != leader:
                continue
            for line in Path(f"/proc/{entry.name}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return round(total_kb / 1024, 1)


def _profile(directory: Path, robots: int, seconds: float,
             pids: dict[str, int]) -> list[subprocess.Popen]:
    """py-spy recording each of ``pids`` (and its children) for a window."""
    directory.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([
        str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid),
        "--subprocesses", "--nonblocking", "--rate", "100", "--duration", str(int(seconds)),
        "--format", "raw", "-o", str(directory / f"{name}-{robots}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name, pid in pids.items()]


def _summarise(step: dict, cpu: dict, rss_mb: float) -> dict:
    heartbeats = summary(step.pop("heartbeats_ms"))
    delivery = summary(step.pop("delivery_ms"))
    errors = step["heartbeat_errors"] + step["engine_errors"] + step["probe_post_errors"] \
        + step["probes_lost"]
    held = errors == 0 and heartbeats["p99"] is not None and heartbeats["p99"] < HEARTBEAT_P99_MS
    return {**step, "heartbeat_ms": heartbeats, "delivery_ms": delivery, "errors": errors,
            "held": held, "heartbeats_per_s": round(step["heartbeats"] / step["window_s"], 1),
            "cpu": cpu, "robot_server_rss_mb": rss_mb}


def phase_fleet(db, logs: Path, options, credentials) -> dict:
    steps = sorted({int(n) for n in options.fleet_steps.split(",") if n.strip()})
    say(f"fleet: {steps[-1]} robots into the registry (one argon2id hash)")
    robot_ids, tokens = _add_robots(db, steps[-1], options.fleet_fast_sessions)
    system = start_system(db.url, logs, services=("robot-server",), credentials=credentials,
                          heartbeat_interval_s="1", robot_session_ttl_s=str(SESSION_TTL_S))
    results: dict[str, dict] = {}
    sessions: dict = {}
    profilers: list[subprocess.Popen] = []
    try:
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        meter = CpuMeter(system, db.name)
        meter.start()  # the sessions' phase
        load = context.Process(target=fleet_load.run, daemon=True, args=(
            queue, system.robot_server_url, credentials.uplink_key, robot_ids, tokens, PASSWORD,
            steps, options.fleet_seconds))
        load.start()
        timeout = 900 + options.fleet_seconds * 2
        while True:
            kind, value = queue.get(timeout=timeout)
            if kind == "sessions":
                sessions = {**value, "cpu": meter.stop()}
                say(f"fleet: {value['opened']} sessions open in {value['seconds']:g} s "
                    f"({value['per_s']:g}/s, {value['refused_busy']} answers 429 busy)")
            elif kind == "window":
                say(f"fleet: {value} robots running; measuring {options.fleet_seconds:g} s")
                if options.fleet_profile is not None:
                    profilers = _profile(options.fleet_profile, value, options.fleet_seconds, {
                        "robot-server": system.processes["robot-server"].pid, "load": load.pid})
                meter.start()
            elif kind == "step":
                cpu = meter.stop({"load generator": value["load_cpu_s"]})
                for profiler in profilers:
                    profiler.wait(timeout=60)
                profilers = []
                result = _summarise(value, cpu, _rss_mb(system, "robot-server"))
                results[str(result["robots"])] = result
                say(f"fleet: {result['robots']} robots: {result['heartbeats_per_s']} heartbeats/s, "
                    f"p99 {fmt(result['heartbeat_ms']['p99'], ' ms')}, {result['errors']} errors, "
                    f"delivery p99 {fmt(result['delivery_ms']['p99'], ' ms')}; cores "
                    f"{ {k: v for k, v in cpu['cores_busy'].items() if v >= 0.01} }; "
                    f"load generator's loop lag p99 {result['load_lag_ms']['p99']} ms; "
                    f"seconds of the window with most heartbeats over 100 ms (second, count): "
                    f"{result['slow_seconds']}")
            elif kind == "failed":
                raise RuntimeError(f"fleet load generator: {value}")
            else:
                break
        load.join(timeout=60)
    finally:
        system.stop_all()
    return {"sessions": sessions, "steps": results}


def table_rows(fleet: dict, row) -> bool:
    """The fleet's rows in the report table; whether any step had errors."""
    steps = fleet["steps"]
    held = [int(n) for n, r in steps.items() if r["held"]]
    row("fleet: largest N held (no errors, heartbeat p99 < 100 ms)",
        fmt(max(held) if held else None, " robots", 0), ">= 2,000 robots",
        bool(held) and max(held) >= 2000)
    opened = fleet["sessions"]
    if opened:
        cores = opened["cpu"]["cores_busy"]
        row(f"  {opened['robots']} sessions asked for at once (before any heartbeat), open in",
            f"{opened['seconds']:g} s ({opened['per_s']:g}/s; {opened['refused_busy']} x 429 "
            f"busy; robot-server {cores.get('robot-server', 0):.2f} cores)")
    for n, r in steps.items():
        hb, dl = r["heartbeat_ms"], r["delivery_ms"]
        cores = r["cpu"]["cores_busy"]
        row(f"  {n} robots: heartbeats/s, p50 / p99", f"{r['heartbeats_per_s']:g}/s, "
            f"{fmt(hb['p50'], ' ms')} / {fmt(hb['p99'], ' ms')}", "p99 < 100 ms", r["held"])
        row(f"  {n} robots: delivery p50 / p99 ({r['probes']} PINGs, {r['probes_lost']} lost)",
            f"{fmt(dl['p50'], ' ms')} / {fmt(dl['p99'], ' ms')}", "p99 <= 500 ms",
            dl["p99"] is not None and dl["p99"] <= 500)
        row(f"  {n} robots: errors", fmt(r["errors"]), "0", r["errors"] == 0)
        row(f"  {n} robots: cores robot-server / PostgreSQL / load generator",
            f"{cores.get('robot-server', 0):.2f} / {cores.get('postgresql', 0):.2f} / "
            f"{cores.get('load generator', 0):.2f}; robot-server RSS {r['robot_server_rss_mb']} MB")
    return False

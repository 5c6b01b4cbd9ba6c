"""robot-server's heartbeat capacity and CPU per heartbeat: a closed-loop load (wrk, many
keep-alive connections, each heartbeat the next robot's) against one robot-server on
PostgreSQL, for profiling and before/after comparisons. Not a phase of ``make bench``, whose
fleet phase measures the issue's open-loop targets (bench/fleet.py).

    python -m bench.fleet_capacity [--robots 400] [--seconds 15] [--connections 16] [--workers 2]
                                   [--warmup 10] [--profile FILE]

``--profile FILE`` records robot-server's workers with py-spy (``pip install py-spy``) during
the measured run, as collapsed stacks (flamegraph.pl's input; each line a stack and a count).

The robots and their sessions are written to the database directly (their tokens known
here), so no password is checked. With more robots than requests a second, each robot beats
less often than HEARTBEAT_TIMEOUT_S and flaps offline: keep ``--robots`` below the rate. The
figures that compare across runs on a shared machine are CPU per heartbeat (robot-server's
and PostgreSQL's process time over the heartbeats answered), not the rate.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import secrets
import subprocess
import sys
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from mission_control.registry_models import Robot
from mission_control.robot_models import RobotSession
from mission_control.timeutil import utcnow
from tests.e2e.harness import Credentials, start_system

from bench.common import BenchDatabase, CpuMeter, say

HEARTBEAT = {"status": "IDLE", "modules": [], "telemetry": {
    "battery": 80.5, "temperature": 31.2, "cpu": 12.0, "position": {"x": 1.0, "y": 2.0, "z": 0.0}}}


def _robots_with_sessions(db: BenchDatabase, count: int) -> list[tuple[str, str]]:
    now = utcnow()
    robots = [{"id": uuid.uuid4(), "name": f"capacity-{i:05d}", "owner": "bench",
               "owner_email": "bench@example.com", "status": "IDLE", "password_hash": None,
               "created_at": now, "updated_at": now} for i in range(count)]
    tokens = [secrets.token_urlsafe(32) for _ in robots]
    with db.engine.begin() as connection:
        connection.execute(insert(Robot.__table__), robots)
        connection.execute(insert(RobotSession.__table__), [
            {"robot_id": robot["id"], "token_hash": hashlib.sha256(token.encode()).hexdigest(),
             "created_at": now, "expires_at": now + timedelta(hours=1)}
            for robot, token in zip(robots, tokens)])
    return [(str(robot["id"]), token) for robot, token in zip(robots, tokens)]


def _script(robots: list[tuple[str, str]]) -> str:
    pairs = ",".join(f'{{"{robot_id}","{token}"}}' for robot_id, token in robots)
    body = json.dumps(HEARTBEAT)
    return f"""
local robots = {{{pairs}}}
local i = 0
request = function()
  i = i % #robots + 1
  return wrk.format("POST", "/robots/" .. robots[i][1] .. "/heartbeat",
    {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. robots[i][2]}},
    '{body}')
end
"""


def _profiler(system, options) -> subprocess.Popen:
    """py-spy recording robot-server's processes (master and workers) for the run."""
    return subprocess.Popen([
        str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
        str(system.processes["robot-server"].pid), "--subprocesses", "--nonblocking",
        "--rate", "250", "--duration", str(options.seconds), "--format", "raw",
        "-o", str(options.profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--robots", type=int, default=400)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", default="2", help="robot-server's WEB_CONCURRENCY")
    parser.add_argument("--warmup", type=int, default=10, help="seconds before measuring")
    parser.add_argument("--profile", type=Path, help="py-spy's collapsed stacks, to this file")
    parser.add_argument("--admin-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    options = parser.parse_args()
    db = BenchDatabase(options.admin_url)
    try:
        db.migrate()
        robots = _robots_with_sessions(db, options.robots)
        with tempfile.TemporaryDirectory(prefix="mc-capacity-") as scratch:
            script = Path(scratch) / "heartbeats.lua"
            script.write_text(_script(robots))
            system = start_system(db.url, Path(scratch), services=("robot-server",),
                                  credentials=Credentials(), heartbeat_interval_s="1",
                                  web_concurrency=options.workers)
            try:
                url = system.robot_server_url
                # Warm up: each worker looks every robot's session up once (then keeps it a
                # minute), which a short warm-up leaves to the measured run.
                subprocess.run(["wrk", "-t1", f"-c{options.connections}",
                                f"-d{options.warmup}s", "-s", str(script), url],
                               capture_output=True, check=True)
                meter = CpuMeter(system, db.name)
                profiler = _profiler(system, options) if options.profile else None
                meter.start()
                out = subprocess.run(["wrk", "-t1", f"-c{options.connections}",
                                      f"-d{options.seconds}s", "--latency", "-s", str(script),
                                      url], capture_output=True, text=True, check=True).stdout
                cpu = meter.stop()
                if profiler is not None:
                    profiler.wait(timeout=60)
            finally:
                system.stop_all()
    finally:
        db.drop()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    answered = rate * options.seconds
    used = cpu["cpu_s"]
    refused = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if refused:
        say(f"WARNING: {refused.group(1)} heartbeats were refused: the figures are not clean")
    say(f"{rate:.0f} heartbeats/s with {options.connections} connections, "
        f"{options.robots} robots, {options.workers} robot-server workers")
    say(f"CPU per heartbeat: robot-server {1000 * used.get('robot-server', 0) / answered:.3f} ms, "
        f"PostgreSQL {1000 * used.get('postgresql', 0) / answered:.3f} ms; "
        f"cores busy {cpu['cores_busy']}")
    print(out)


if __name__ == "__main__":
    main()

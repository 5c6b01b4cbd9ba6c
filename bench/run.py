"""``make bench``: measure Mission Control on PostgreSQL with the real processes.

Three measurements, each against the real services started by the end-to-end harness
(tests/e2e/harness.py) on free loopback ports, in a throwaway PostgreSQL database:

1. pickup latency: POST /api/telecommands -> TRANSMITTED, commands posted one at a time;
2. throughput to a final state of a backlog of READY commands, with 1 and 2 command-senders,
   followed by a correctness check of every command (status, history, executions on board);
3. POST /api/telecommands requests per second under gunicorn (ground alone);
4. registry-api requests per second under gunicorn (bench/registry.py).

Everything (PostgreSQL, gunicorn, the worker, this load generator) shares this machine's
cores, which the report states. Results: a table on stdout, JSON in bench-results/.
Exit status: 0 when the run completed (targets met or not: it is a measurement), 1 on an
error or a correctness violation.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))                     # for tests.e2e.harness
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from loadgen import run_load  # noqa: E402
from mission_control.catalog import validate_command  # noqa: E402
from mission_control.status import Status  # noqa: E402
from mission_control.migrate import upgrade  # noqa: E402
from mission_control.models import SPACECRAFT_TARGET_ID, Telecommand, TelecommandHistory  # noqa: E402
from mission_control.timeutil import utcnow  # noqa: E402
from tests.e2e.harness import System, start_system  # noqa: E402

if __name__ == "__main__":          # bench/registry.py imports this module as ``run``
    sys.modules.setdefault("run", sys.modules[__name__])

RESULTS = ROOT / "bench-results"
FINAL_SQL = "('EXECUTED','FAILED','CANCELLED')"
EXPECTED_PATH = ">READY,READY>TRANSMITTED,TRANSMITTED>ACKNOWLEDGED,ACKNOWLEDGED>EXECUTED"
# What every measurement runs with (see the brief in bench/README.md).
FAST = {"max_transmit_delay_s": "0", "max_stage_delay_s": "0", "execution_failure_rate": "0",
        "poll_interval_s": "1"}


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- statistics ------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (q in [0, 100])."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: list[float]) -> dict:
    return {"n": len(values),
            "mean": statistics.fmean(values) if values else None,
            "p50": percentile(values, 50), "p95": percentile(values, 95),
            "p99": percentile(values, 99), "max": max(values) if values else None,
            "min": min(values) if values else None}


# -- machine and CPU accounting --------------------------------------------------------------

def code_version() -> dict:
    """Which code was measured: the commit and whether the working tree had changes."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if not line[3:].startswith(("bench/", "bench-results/"))]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or None, "uncommitted_changes": changed}


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    return {"nproc": os.cpu_count(), "cpu_model": model, "loadavg_at_start": os.getloadavg(), "memory_gb": round(mem_kb / 1048576, 1),
            "kernel": platform.release(), "python": platform.python_version()}


CLK = os.sysconf("SC_CLK_TCK")


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all cores, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(fields[:8])
    idle = fields[3] + fields[4]
    return total - idle, total


class CpuMeter:
    """CPU seconds used during a window by each service's process group and by PostgreSQL.

    Services run in their own session (the harness starts them with start_new_session), so a
    process belongs to a service when its session id is the service's pid. PostgreSQL is every
    process named ``postgres``. The load generator reports its own CPU time.
    """

    def __init__(self, system: System | None, database_name: str = "") -> None:
        self.sessions = {p.pid: key for key, p in (system.processes.items() if system else [])}
        self.database_name = database_name

    def _postgres_group(self, pid: str) -> str | None:
        """Backends of the bench's database, or the server's shared background processes."""
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            return None
        if self.database_name and f" {self.database_name} " in title:
            return "postgresql"
        if " 127.0.0.1(" in title or " [local]" in title:
            return None                                   # a backend of another database
        return "postgresql (server background)"

    def _sample(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                data = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            close = data.rfind(")")
            comm = data[data.find("(") + 1:close]
            fields = data[close + 2:].split()
            session = int(fields[3])
            seconds = (int(fields[11]) + int(fields[12])) / CLK
            group = self.sessions.get(session)
            if group is None and comm.startswith("postgres"):
                group = self._postgres_group(entry.name)
            if group is not None:
                used[group] = used.get(group, 0.0) + seconds
        used["bench (main process)"] = time.process_time()
        return used

    def start(self) -> None:
        self.before = self._sample()
        self.machine_before = _machine_ticks()
        self.t0 = time.monotonic()

    def stop(self, extra: dict[str, float] | None = None) -> dict:
        after = self._sample()
        wall = time.monotonic() - self.t0
        busy1, total1 = _machine_ticks()
        busy0, total0 = self.machine_before
        cores = {k: round(after[k] - self.before.get(k, 0.0), 2) for k in after}
        for key, value in (extra or {}).items():
            cores[key] = round(value, 2)
        # Whatever else ran on the machine meanwhile (other users' jobs, the kernel, ...).
        machine_busy_s = (busy1 - busy0) / CLK
        cores["other (not this bench)"] = round(max(0.0, machine_busy_s - sum(cores.values())), 2)
        return {
            "wall_s": round(wall, 2),
            "cpu_s": cores,
            "cores_busy": {k: round(v / wall, 2) for k, v in cores.items()} if wall else {},
            "machine_busy_pct": round(100.0 * (busy1 - busy0) / max(1, total1 - total0), 1),
        }


def format_cpu(cpu: dict) -> str:
    parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu["cores_busy"].items(),
                                                        key=lambda kv: -kv[1]))
    return f"machine {cpu['machine_busy_pct']}% busy; cores used: {parts}"


# -- database --------------------------------------------------------------------------------

class BenchDatabase:
    """A throwaway PostgreSQL database, created, migrated and dropped by the bench."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = f"mc_bench_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(admin_url).set(database=self.name).render_as_string(hide_password=False)
        self.engine = create_engine(self.url, pool_size=2)

    def migrate(self) -> None:
        upgrade(self.url)

    def version(self) -> str:
        with self.engine.connect() as connection:
            return connection.execute(text("SHOW server_version")).scalar()

    def scalar(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params):
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).all()

    def execute(self, sql: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(sql))

    def reset(self) -> None:
        self.execute("TRUNCATE telecommand_history, telecommands, spacecraft_commands")

    def analyze(self) -> None:
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE telecommands, telecommand_history, spacecraft_commands"))

    def stats(self) -> dict:
        """Cluster-wide counters for this database (flushed by backends about once a second)."""
        with self.engine.connect() as connection:
            row = connection.execute(text(
                "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_fetched "
                "FROM pg_stat_database WHERE datname = current_database()")).one()
        return dict(row._mapping)

    def active(self) -> int:
        return self.scalar(f"SELECT count(*) FROM telecommands WHERE status NOT IN {FINAL_SQL}")

    def listening(self) -> int:
        return self.scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND query ILIKE 'LISTEN%'")

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": self.name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self.admin.dispose()


def insert_ready(db: BenchDatabase, count: int, operator: str = "bench") -> None:
    """Insert ``count`` READY PING commands exactly as the API would (history row included).

    Same columns and values as ground's ``telecommands.issue`` + ``lifecycle.record_creation``:
    args validated by the catalog, created_at == updated_at == the history row's ``at``, no
    transmit time (the worker draws it), no lease. One transaction: the commit's NOTIFY (the
    migration's trigger) is what the worker would get from the API.
    """
    args = validate_command("spacecraft", "PING", {}, confirm=False)
    commands, history = [], []
    for _ in range(count):
        now = utcnow()
        command_id = uuid.uuid4()
        commands.append({"id": command_id, "target_id": SPACECRAFT_TARGET_ID, "module_id": None,
                         "command_name": "PING", "args": args, "status": Status.READY.value,
                         "status_reason": None, "operator": operator, "idempotency_key": None,
                         "created_at": now, "updated_at": now, "due_at": None,
                         "lease_owner": None, "lease_expires_at": None, "attempts": 0})
        history.append({"telecommand_id": command_id, "from_status": None,
                        "to_status": Status.READY.value, "at": now, "actor": operator,
                        "reason": None})
    with db.engine.begin() as connection:
        connection.execute(Telecommand.__table__.insert(), commands)
        connection.execute(TelecommandHistory.__table__.insert(), history)


def verify(db: BenchDatabase) -> dict:
    """Check every command that reached a final state, and count those that did not.

    A final command must be EXECUTED (failures are disabled), with exactly the history
    READY -> TRANSMITTED -> ACKNOWLEDGED -> EXECUTED, and have run exactly once on board.
    Commands still in flight (a run stopped at its time limit) are counted as unfinished,
    not as violations; no spacecraft record may exist without a telecommand.
    """
    row = db.rows(f"""
        WITH paths AS (
            SELECT t.id, t.status,
                   string_agg(coalesce(h.from_status, '') || '>' || h.to_status, ','
                              ORDER BY h.id) AS path
            FROM telecommands t LEFT JOIN telecommand_history h ON h.telecommand_id = t.id
            GROUP BY t.id, t.status)
        SELECT count(*) AS commands,
               count(*) FILTER (WHERE status NOT IN {FINAL_SQL}) AS unfinished,
               count(*) FILTER (WHERE status IN {FINAL_SQL} AND status <> 'EXECUTED') AS not_executed,
               count(*) FILTER (WHERE status IN {FINAL_SQL}
                                AND path IS DISTINCT FROM '{EXPECTED_PATH}') AS bad_history
        FROM paths""")[0]
    on_board = db.rows(f"""
        SELECT count(*) FILTER (WHERE s.id IS NULL) AS missing,
               count(*) FILTER (WHERE s.executions <> 1) AS executions_not_one,
               coalesce(sum(s.receipts), 0) AS receipts
        FROM telecommands t LEFT JOIN spacecraft_commands s ON s.id = t.id::text
        WHERE t.status IN {FINAL_SQL}""")[0]
    orphans = db.scalar("""SELECT count(*) FROM spacecraft_commands s
                           WHERE NOT EXISTS (SELECT 1 FROM telecommands t WHERE t.id::text = s.id)""")
    over = db.scalar("SELECT count(*) FROM spacecraft_commands WHERE executions > 1")
    examples = [r[0] for r in db.rows(f"""
        SELECT t.id::text FROM telecommands t
        WHERE t.status IN {FINAL_SQL} AND (t.status <> 'EXECUTED' OR (
              SELECT string_agg(coalesce(h.from_status, '') || '>' || h.to_status, ',' ORDER BY h.id)
              FROM telecommand_history h WHERE h.telecommand_id = t.id) IS DISTINCT FROM '{EXPECTED_PATH}')
        LIMIT 5""")]
    result = {"commands": row.commands, "unfinished": row.unfinished,
              "not_executed": row.not_executed, "bad_history": row.bad_history,
              "missing_on_board": on_board.missing,
              "executions_not_one": on_board.executions_not_one,
              "executed_more_than_once_on_board": over,
              "unknown_on_board": orphans, "receipts_on_board": int(on_board.receipts),
              "examples": examples}
    result["violations"] = (row.not_executed + row.bad_history + on_board.missing
                            + on_board.executions_not_one + orphans + over)
    return result


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def wait_listening(db: BenchDatabase, replicas: int) -> None:
    wait_until(lambda: db.listening() >= replicas, 30, 0.1, "command-sender LISTEN connection(s)")


# -- phase 1: pickup latency -----------------------------------------------------------------

def phase_pickup(db: BenchDatabase, logs: Path, count: int, rate: float) -> dict:
    say(f"pickup: starting ground, spacecraft and one command-sender ({FAST})")
    db.reset()
    system = start_system(db.url, logs, **FAST)
    try:
        wait_listening(db, 1)
        url = f"{system.ground_url}/api/telecommands"
        session = requests.Session()
        warm = [session.post(url, json={"command_name": "PING"}, timeout=10) for _ in range(5)]
        if any(r.status_code != 201 for r in warm):
            raise RuntimeError(f"warm-up POST failed: {[r.status_code for r in warm]}")
        wait_until(lambda: db.active() == 0, 30, 0.1, "warm-up commands to finish")
        warm_ids = {r.json()["id"] for r in warm}

        say(f"pickup: posting {count} commands one at a time at {rate:g}/s")
        meter = CpuMeter(system, db.name)
        meter.start()
        ids, rtts, errors = [], [], 0
        start = time.perf_counter()
        for i in range(count):
            pause = start + i / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            begin = time.perf_counter()
            try:
                response = session.post(url, json={"command_name": "PING"}, timeout=10)
                elapsed = (time.perf_counter() - begin) * 1000
                if response.status_code == 201:
                    ids.append(response.json()["id"])
                    rtts.append(elapsed)
                else:
                    errors += 1
            except requests.RequestException:
                errors += 1
            if (i + 1) % max(1, count // 4) == 0:
                say(f"pickup: {i + 1}/{count} posted")
        wait_until(lambda: db.active() == 0, 60, 0.1, "posted commands to finish")
        cpu = meter.stop()
        rows = db.rows(f"""
            SELECT t.id::text,
                   extract(epoch FROM tx.at - t.created_at) * 1000 AS pickup_ms,
                   extract(epoch FROM ex.at - t.created_at) * 1000 AS final_ms
            FROM telecommands t
            JOIN telecommand_history tx ON tx.telecommand_id = t.id AND tx.to_status = 'TRANSMITTED'
            LEFT JOIN telecommand_history ex ON ex.telecommand_id = t.id AND ex.to_status IN {FINAL_SQL}
        """)
        wanted = set(ids)
        pickup = [float(r.pickup_ms) for r in rows if r.id in wanted]
        final = [float(r.final_ms) for r in rows if r.id in wanted and r.final_ms is not None]
        check = verify(db)
        result = {"posted": len(ids), "post_errors": errors, "rate_per_s": rate,
                  "warmup_excluded": len(warm_ids),
                  "pickup_ms": summary(pickup), "post_rtt_ms": summary(rtts),
                  "created_to_final_ms": summary(final), "verification": check, "cpu": cpu}
        say(f"pickup: p50 {fmt(result['pickup_ms']['p50'], ' ms')}, p99 {fmt(result['pickup_ms']['p99'], ' ms')}; "
            f"{format_cpu(cpu)}")
        return result
    finally:
        system.stop_all()


# -- phase 2: throughput to a final state ------------------------------------------------------

def phase_throughput(db: BenchDatabase, logs: Path, count: int, replicas_list: list[int],
                     timeout: float, analyze: bool = True) -> dict:
    say("throughput: starting the spacecraft (command-senders stopped)")
    system = start_system(db.url, logs, services=("spacecraft",), **FAST)
    results = {}
    try:
        for replicas in replicas_list:
            db.reset()
            say(f"throughput[{replicas} replica(s)]: inserting {count} READY commands in bulk")
            insert_ready(db, count)
            if analyze:
                # Planner statistics as autoanalyze would leave them for a backlog that built
                # up while no worker ran (deterministic, instead of racing autovacuum).
                db.analyze()
            time.sleep(1.2)                      # let pg_stat counters of the insert settle
            stats0 = db.stats()
            meter = CpuMeter(None, db.name)
            keys = [f"command-sender-{replicas}r-{i + 1}" for i in range(replicas)]
            t0 = time.monotonic()
            for key in keys:
                system.start("command-sender", instance=key)
            meter.sessions = {p.pid: ("command-sender" if k.startswith("command-sender") else k)
                              for k, p in system.processes.items()}
            meter.start()
            remaining, last_report, timed_out = count, t0, False
            while True:
                remaining = db.active()
                now = time.monotonic()
                if remaining == 0:
                    break
                if now - t0 > timeout:
                    timed_out = True
                    break
                if now - last_report >= 3:
                    done = count - remaining
                    say(f"throughput[{replicas}]: {done}/{count} final after {now - t0:.1f}s")
                    last_report = now
                time.sleep(0.1)
            wall = time.monotonic() - t0
            cpu = meter.stop()
            for key in keys:
                system.stop(key)
            time.sleep(1.2)
            stats1 = db.stats()
            window = db.rows(f"""
                SELECT extract(epoch FROM min(at) FILTER (WHERE from_status = 'READY')) AS first_tx,
                       extract(epoch FROM max(at) FILTER (WHERE to_status IN {FINAL_SQL})) AS last_final
                FROM telecommand_history""")[0]
            per_actor = {r.actor: r.n for r in db.rows(
                "SELECT actor, count(*) AS n FROM telecommand_history "
                "WHERE to_status = 'TRANSMITTED' GROUP BY actor")}
            finished = count - remaining
            active_window = (float(window.last_final) - float(window.first_tx)
                             if window.first_tx is not None and window.last_final is not None else None)
            check = verify(db)
            deltas = {k: stats1[k] - stats0[k] for k in stats0}
            result = {
                "replicas": replicas, "commands": count, "finished": finished,
                "timed_out": timed_out, "timeout_s": timeout, "wall_s_from_spawn": round(wall, 3),
                "per_s_from_spawn": finished / wall if wall else None,
                "active_window_s": round(active_window, 3) if active_window else None,
                "per_s_active_window": finished / active_window if active_window else None,
                "transmitted_by_replica": per_actor,
                "db_counters_per_command": {k: round(v / max(1, finished), 2)
                                            for k, v in deltas.items()},
                "verification": check, "cpu": cpu,
                "cpu_ms_per_command": {k: round(1000 * v / max(1, finished), 2)
                                       for k, v in cpu["cpu_s"].items() if v},
            }
            results[str(replicas)] = result
            say(f"throughput[{replicas}]: {finished}/{count} final in {wall:.1f}s from spawn "
                f"({result['per_s_from_spawn']:.0f}/s; "
                f"{(result['per_s_active_window'] or 0):.0f}/s between the first transmission and "
                f"the last final state); violations {check['violations']}; {format_cpu(cpu)}")
    finally:
        system.stop_all()
    return results


# -- phase 3: POST requests per second ---------------------------------------------------------

def phase_post(db: BenchDatabase, logs: Path, concurrencies: list[int], threads: int,
               seconds: float, max_requests: int, clients: int, processes: int) -> dict:
    results = {}
    for concurrency in concurrencies:
        db.reset()
        say(f"post[WEB_CONCURRENCY={concurrency}, WEB_THREADS={threads}]: starting ground alone")
        system = start_system(db.url, logs, services=("ground",), web_concurrency=str(concurrency),
                              web_threads=str(threads), **FAST)
        try:
            url = f"{system.ground_url}/api/telecommands"
            for _ in range(8 * concurrency):         # fresh connections reach every gunicorn worker
                requests.post(url, json={"command_name": "PING"}, timeout=10)
            say(f"post[{concurrency}]: {clients} keep-alive clients in {processes} processes, "
                f"up to {max_requests} requests or {seconds:g}s")
            meter = CpuMeter(system, db.name)
            load = run_load(system.ground_url, "/api/telecommands", {"command_name": "PING"},
                            processes=processes, threads=max(1, clients // processes),
                            max_requests=max_requests, max_seconds=seconds, on_start=meter.start)
            cpu = meter.stop({"load generator": load.cpu_s})
            duration = load.finished - load.started if load.finished else 0.0
            stored = db.scalar("SELECT count(*) FROM telecommands")
            result = {
                "web_concurrency": concurrency, "web_threads": threads, "clients": clients,
                "processes": processes, "requests": load.requests, "ok": load.ok,
                "errors": load.errors, "statuses": load.statuses,
                "error_samples": load.error_samples, "duration_s": round(duration, 3),
                "per_s": load.ok / duration if duration else None,
                "latency_ms": summary(load.latencies_ms), "rows_in_db": stored, "cpu": cpu,
                "cpu_ms_per_request": {k: round(1000 * v / max(1, load.ok), 2)
                                       for k, v in cpu["cpu_s"].items() if v},
            }
            results[str(concurrency)] = result
            say(f"post[{concurrency}]: {fmt(result['per_s'], digits=0)} POST/s, p50 "
                f"{fmt(result['latency_ms']['p50'], ' ms')}, p99 {fmt(result['latency_ms']['p99'], ' ms')}, "
                f"errors {load.errors} {load.error_samples[:3]}; {format_cpu(cpu)}")
        finally:
            system.stop_all()
    return results


# -- report ----------------------------------------------------------------------------------

def fmt(value, unit="", digits=1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value:,}{unit}"


def table(report: dict) -> tuple[list[tuple], bool]:
    """Rows of (metric, measured, target, met?) and whether a violation/error occurred."""
    rows: list[tuple] = []
    bad = bool(report["errors"])

    def row(metric, measured, target="", met=None):
        rows.append((metric, measured, target, "" if met is None else ("yes" if met else "NO")))

    pickup = report["phases"].get("pickup")
    if pickup:
        p = pickup["pickup_ms"]
        row("pickup POST->TRANSMITTED p50", fmt(p["p50"], " ms"), "<= 20 ms",
            p["p50"] is not None and p["p50"] <= 20)
        row("pickup POST->TRANSMITTED p95", fmt(p["p95"], " ms"))
        row("pickup POST->TRANSMITTED p99", fmt(p["p99"], " ms"), "<= 100 ms",
            p["p99"] is not None and p["p99"] <= 100)
        row("pickup POST->TRANSMITTED max", fmt(p["max"], " ms"))
        r = pickup["post_rtt_ms"]
        row("  POST round trip p50 / p99", f"{fmt(r['p50'], ' ms')} / {fmt(r['p99'], ' ms')}")
        f = pickup["created_to_final_ms"]
        row("  created -> EXECUTED p50 / p99", f"{fmt(f['p50'], ' ms')} / {fmt(f['p99'], ' ms')}")
        v = (pickup["verification"]["violations"] + pickup["verification"]["unfinished"]
             + pickup["post_errors"])
        row(f"  pickup run: violations + POST errors ({pickup['posted']} cmds)", fmt(v), "0", v == 0)
        bad |= v != 0
    throughput = report["phases"].get("throughput") or {}
    for replicas, t in throughput.items():
        rate = t["per_s_active_window"]
        row(f"throughput, {replicas} command-sender(s), {t['commands']} cmds",
            fmt(rate, " cmd/s", 0), ">= 1,000 cmd/s", rate is not None and rate >= 1000)
        row("  same, from process spawn (incl. start-up)", fmt(t["per_s_from_spawn"], " cmd/s", 0))
        v = t["verification"]["violations"]
        row(f"  violations ({replicas} replica(s))", fmt(v), "0", v == 0)
        if t["timed_out"]:
            row(f"  unfinished at the {t['timeout_s']:g}s time limit (rate is a lower bound)",
                fmt(t["commands"] - t["finished"]))
        bad |= v != 0
    posts = report["phases"].get("post") or {}
    for concurrency, p in posts.items():
        row(f"POST/s, WEB_CONCURRENCY={concurrency} x {p['web_threads']} threads",
            fmt(p["per_s"], " req/s", 0), ">= 1,000 req/s", p["per_s"] is not None and p["per_s"] >= 1000)
        lat = p["latency_ms"]
        row(f"  latency p50 / p99 ({p['clients']} clients)",
            f"{fmt(lat['p50'], ' ms')} / {fmt(lat['p99'], ' ms')}")
        row(f"  errors ({p['requests']:,} requests)", fmt(p["errors"]), "0", p["errors"] == 0)
        bad |= p["errors"] != 0
    if report["phases"].get("registry"):
        import registry
        bad |= registry.table_rows(report["phases"]["registry"], row)
    return rows, bad


def _cpu_entries(report: dict):
    for name, phase in report["phases"].items():
        entries = [("", phase)] if name == "pickup" else [(f"[{k}]", v) for k, v in phase.items()]
        for suffix, entry in entries:
            if isinstance(entry, dict) and entry.get("cpu"):
                yield name + suffix, entry


def print_report(report: dict, rows: list[tuple]) -> None:
    m = report["machine"]
    print()
    print(f"Mission Control benchmark, {report['started_at']}")
    print(f"machine: {m['nproc']} cores ({m['cpu_model']}), {m['memory_gb']} GB, Linux {m['kernel']}, "
          f"Python {m['python']}, PostgreSQL {report['postgresql']}")
    generator = (report["phases"].get("registry") or {}).get("load_generator")
    loads = "the Python load generator" + (" (wrk for the registry's GET, list and module POST runs)"
                                           if generator == "wrk" else "")
    print(f"NOTE: PostgreSQL, gunicorn, the command-sender(s) and {loads} all share "
          f"these {m['nproc']} cores (loopback only); numbers are for the whole system on one box.")
    print(f"settings: {report['settings']}")
    code = report["code"]
    print(f"code: commit {code['commit']}"
          + (f" + uncommitted changes in {', '.join(code['uncommitted_changes'])}"
             if code["uncommitted_changes"] else ""))
    others = [(name, entry["cpu"]["cores_busy"].get("other (not this bench)", 0.0))
              for name, entry in _cpu_entries(report)]
    busy_others = [f"{n} {c:.2f}" for n, c in others if c >= 0.25]
    if busy_others:
        print(f"WARNING: other processes on this machine used CPU during the run (cores): "
              f"{', '.join(busy_others)}; load average at start {m['loadavg_at_start']}. "
              f"Numbers are lower than on an idle machine.")
    widths = [max(len(str(r[i])) for r in rows + [("metric", "measured", "target", "met?")])
              for i in range(4)]
    header = ("metric", "measured", "target", "met?")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print()
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print()
    for label, entry in _cpu_entries(report):
        cpu = entry["cpu"]
        print(f"cpu {label}: {format_cpu(cpu)} over {cpu['wall_s']}s")
        per_unit = entry.get("cpu_ms_per_command") or entry.get("cpu_ms_per_request")
        if per_unit:
            unit = "command" if "cpu_ms_per_command" in entry else "request"
            parts = ", ".join(f"{k} {v:.2f}" for k, v in sorted(per_unit.items(), key=lambda kv: -kv[1])
                              if not k.startswith(("bench", "other")) and v >= 0.01)
            print(f"    CPU ms per {unit}: {parts}")
    for error in report["errors"]:
        print(f"ERROR: {error}")


def main(argv: list[str] | None = None) -> int:
    import registry

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phases", default="pickup,throughput,post,registry",
                        help="comma-separated subset of pickup,throughput,post,registry")
    parser.add_argument("--pickup-count", type=int, default=200)
    parser.add_argument("--pickup-rate", type=float, default=20.0, help="commands per second")
    parser.add_argument("--throughput-count", type=int, default=5000)
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--throughput-timeout", type=float, default=75.0, help="seconds per run")
    parser.add_argument("--no-analyze", action="store_true",
                        help="do not ANALYZE the backlog before the throughput runs")
    parser.add_argument("--post-seconds", type=float, default=20.0)
    parser.add_argument("--post-requests", type=int, default=20000)
    parser.add_argument("--post-clients", type=int, default=32)
    parser.add_argument("--post-processes", type=int, default=2)
    parser.add_argument("--web-concurrency", default="2,4")
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--admin-url", default=os.environ.get(
        "BENCH_POSTGRES_ADMIN_URL", os.environ.get(
            "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")),
        help="PostgreSQL database used to create and drop the throwaway one")
    registry.add_arguments(parser)
    options = parser.parse_args(argv)
    phases = [p.strip() for p in options.phases.split(",") if p.strip()]

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS.mkdir(exist_ok=True)
    logs = RESULTS / f"logs-{stamp}"
    report = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              "postgresql": None, "code": code_version(), "settings": {k.upper(): v for k, v in FAST.items()},
              "options": vars(options) | {"admin_url": make_url(options.admin_url).render_as_string()},
              "phases": {}, "errors": [], "logs": str(logs)}
    say(f"{report['machine']['nproc']} cores ({report['machine']['cpu_model']}); "
        f"everything shares them; service logs in {logs}")
    began = time.monotonic()
    try:
        db = BenchDatabase(options.admin_url)
    except Exception as error:
        print(f"cannot create the bench database via {options.admin_url}: {error}", file=sys.stderr)
        return 1
    try:
        db.migrate()
        report["postgresql"] = db.version()
        say(f"database {db.name} on PostgreSQL {report['postgresql']} migrated")
        for name in phases:
            phase_logs = logs / name
            phase_logs.mkdir(parents=True, exist_ok=True)
            try:
                if name == "pickup":
                    report["phases"]["pickup"] = phase_pickup(
                        db, phase_logs, options.pickup_count, options.pickup_rate)
                elif name == "throughput":
                    report["phases"]["throughput"] = phase_throughput(
                        db, phase_logs, options.throughput_count,
                        [int(r) for r in options.replicas.split(",")], options.throughput_timeout,
                        analyze=not options.no_analyze)
                elif name == "post":
                    report["phases"]["post"] = phase_post(
                        db, phase_logs, [int(c) for c in options.web_concurrency.split(",")],
                        options.web_threads, options.post_seconds, options.post_requests,
                        options.post_clients, options.post_processes)
                elif name == "registry":
                    report["phases"]["registry"] = registry.phase_registry(db, phase_logs, options)
                else:
                    report["errors"].append(f"unknown phase {name!r}")
            except Exception as error:
                traceback.print_exc()
                report["errors"].append(f"{name}: {type(error).__name__}: {error}")
    finally:
        try:
            db.drop()
        except Exception as error:
            report["errors"].append(f"dropping {db.name}: {error}")
    report["duration_s"] = round(time.monotonic() - began, 1)
    rows, bad = table(report)
    report["table"] = [dict(zip(("metric", "measured", "target", "met"), r)) for r in rows]
    print_report(report, rows)
    text_out = json.dumps(report, indent=2, default=str)
    (RESULTS / f"bench-{stamp}.json").write_text(text_out)
    (RESULTS / "latest.json").write_text(text_out)
    print(f"\nresults: {RESULTS / f'bench-{stamp}.json'} (and latest.json); "
          f"took {report['duration_s']}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
